import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.audit import latest_changes
from accounts.forms import AuditFilterForm
from accounts.models import AccessLog
from uppka.responses import xlsx_response
from uppka.scratch import xlsx_workbook


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
    """DPPKB's audit: the changes (who, when, what in words, old → new), filtered and paged,
    downloadable; and who viewed or exported what."""
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
        entries = list(entries[:PER_PAGE])
        context = {"view": "access", "entries": entries, "next": entries[-1].at if len(entries) == PER_PAGE else None}
        return render(request, "accounts/audit.html", context)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "accounts/audit.html", {"view": "changes", "form": form, "entries": []}, status=400)
    if request.GET.get("format") == "xlsx":
        AccessLog.record(request, AccessLog.Action.EXPORT_AUDIT, form.described())
        entries = latest_changes(before=before, limit=DOWNLOAD_LIMIT, filters=form.cleaned_data)
        return xlsx_response(lambda file: write_audit(file, entries), f"audit-uppka-{timezone.localdate():%Y-%m-%d}.xlsx")
    seen = _count(request.GET.get("seen", "")) if before else 0
    entries = latest_changes(before=before, limit=PER_PAGE, filters=form.cleaned_data, seen=seen)
    context = {
        "view": "changes",
        "form": form,
        "entries": entries,
        "query": form.query_string(),
        "next": entries[-1].when if len(entries) == PER_PAGE else None,
        "download_limit": DOWNLOAD_LIMIT,
    }
    if context["next"]:  # changes at the last moment shown, counting those shown before this page
        last = context["next"]
        context["seen"] = sum(1 for e in entries if e.when == last) + (seen if before and last == before else 0)
    return render(request, "accounts/audit.html", context)


PER_PAGE = 50
DOWNLOAD_LIMIT = 10_000


def write_audit(out, entries) -> None:
    """The filtered changes as a workbook: one row per change, values in words."""
    with xlsx_workbook(out, {"constant_memory": True}) as book:
        sheet = book.add_worksheet(_("Changes")[:31])
        head = book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1})
        headers = [_("When"), _("Who"), _("Kind of change"), _("What"), _("Old → new")]
        for column, width in enumerate([18, 16, 12, 60, 80]):
            sheet.set_column(column, column, width)
        sheet.write_row(0, 0, headers, head)
        sheet.freeze_panes(1, 0)
        kinds = {"+": _("added"), "~": _("changed"), "-": _("deleted")}
        for row, entry in enumerate(entries, start=1):
            details = "; ".join(f"{field}: {old} → {new}" if old else f"{field}: {new}" for field, old, new in entry.changes)
            sheet.write_row(row, 0, [
                formats.date_format(timezone.localtime(entry.when), "j F Y H:i"), entry.who, kinds[entry.kind],
                entry.subject, details,
            ])
        sheet.autofilter(0, 0, max(len(entries), 1), len(headers) - 1)


def _count(text: str) -> int:
    """The audit's ``seen``: a small whole number, else 0 (a tampered link shows more, never fewer)."""
    return int(text) if text.isdigit() and len(text) <= 6 else 0


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
