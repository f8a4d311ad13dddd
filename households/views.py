from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from groups.models import Group


@login_required
def cadre_home(request):
    """A cadre's groups with their number of active members today."""
    if not request.user.is_kader:
        raise PermissionDenied
    today = timezone.localdate()
    groups = (
        Group.objects.visible_to(request.user)
        .active()
        .select_related("group_type", "kelurahan")
        .annotate(
            active_members=Count(
                "memberships",
                filter=Q(memberships__joined_on__lte=today)
                & (Q(memberships__left_on__isnull=True) | Q(memberships__left_on__gt=today)),
            )
        )
    )
    return render(request, "households/cadre_home.html", {"groups": groups})
