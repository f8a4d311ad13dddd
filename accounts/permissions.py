"""The Django-admin permissions DPPKB staff get for master data."""

from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import Permission

DPPKB_AUTH_GROUP = "DPPKB"
# Master data DPPKB maintains in the admin (SPEC section 2); never delete: deactivate.
MASTER_DATA_APPS = ["groups", "households"]


def grant_dppkb_permissions(user) -> None:
    auth_group, _created = AuthGroup.objects.get_or_create(name=DPPKB_AUTH_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=MASTER_DATA_APPS).exclude(
        codename__startswith="delete_"
    )
    auth_group.permissions.set(permissions)
    user.groups.add(auth_group)
