from django.shortcuts import get_object_or_404

from groups.models import Group


def get_group_for(user, code: str, *, edit: bool = False) -> Group:
    """The group with this code if the user may see it (or, with ``edit``, change its
    households and income); a 404 otherwise, so nobody learns what exists outside their scope."""
    groups = Group.objects.editable_by(user) if edit else Group.objects.visible_to(user)
    return get_object_or_404(
        groups.select_related("group_type", "team__opd", "kelurahan__kecamatan"), code=code
    )
