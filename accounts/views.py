import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.audit import latest_changes
from accounts.models import AccessLog


@login_required
def home(request):
    """Send each role to its own landing page."""
    user = request.user
    if user.is_kader:
        return redirect("households:cadre_home")
    if user.is_opd:
        return redirect("reports:index")
    if user.is_dppkb:
        return redirect("reports:dashboard")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "accounts/no_role.html", status=403)


def favicon(request):
    # Looked up per request: with the manifest storage the hashed name exists only after
    # collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@login_required
def audit(request):
    """DPPKB's audit: the latest changes (who, when, old → new) and who viewed or exported what."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    try:
        before = _moment(request.GET.get("before", ""))
    except (ValueError, OverflowError):
        message = _("The date in this address is not a valid date and time. Open the audit page again from the menu.")
        return render(request, "400.html", {"message": message}, status=400)
    if request.GET.get("view") == "access":
        entries = AccessLog.objects.select_related("user")
        if before:
            entries = entries.filter(at__lt=before)
        entries = list(entries[:50])
        context = {"view": "access", "entries": entries, "next": entries[-1].at if len(entries) == 50 else None}
    else:
        entries = latest_changes(before=before)
        context = {"view": "changes", "entries": entries, "next": entries[-1].when if len(entries) == 50 else None}
    return render(request, "accounts/audit.html", context)


def _moment(text: str) -> dt.datetime | None:
    """The audit's ``before`` (an ISO date and time, as the "Older" link writes it) in UTC,
    or None when empty; ValueError or OverflowError when it is not a moment the database
    can compare: unreadable, impossible (30 February) or beyond year 1 / 9999 in UTC."""
    if not text:
        return None
    moment = parse_datetime(text)  # ValueError for an impossible date
    if moment is None:
        raise ValueError(text)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(dt.timezone.utc)
