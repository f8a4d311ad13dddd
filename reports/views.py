from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from groups.models import Group, Target
from households.models import Household, KbMethod, Membership


def _active_member_count(today):
    return Count(
        "memberships",
        filter=Q(memberships__joined_on__lte=today)
        & (Q(memberships__left_on__isnull=True) | Q(memberships__left_on__gt=today)),
    )


@login_required
def dashboard(request):
    """DPPKB's city-wide view: target progress today."""
    if not (request.user.is_dppkb or request.user.is_superuser):
        raise PermissionDenied
    today = timezone.localdate()
    target = Target.objects.filter(year=today.year).first()
    acceptors = (
        Household.objects.filter(
            memberships__in=Membership.objects.active_on(today), is_active=True
        )
        .exclude(kb_method=KbMethod.TIDAK)
        .distinct()
        .count()
    )
    context = {
        "today": today,
        "target": target,
        "acceptors": acceptors,
        "percent": (acceptors * 100 / target.households) if target else None,
        "group_count": Group.objects.active().count(),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
def opd_home(request):
    """An OPD user's groups (read only)."""
    if not request.user.is_opd:
        raise PermissionDenied
    groups = (
        Group.objects.visible_to(request.user)
        .active()
        .select_related("group_type", "kelurahan")
        .annotate(active_members=_active_member_count(timezone.localdate()))
    )
    return render(request, "reports/opd_home.html", {"groups": groups, "opd": request.user.opd})
