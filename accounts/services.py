"""Creating accounts with their role, OPD and cadre assignments."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.permissions import grant_dppkb_permissions
from groups.models import Group, Opd


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    password: str,
    opd_code: str | None = None,
    group_codes: list[str] | None = None,
    validate: bool = True,
    update: bool = False,
):
    """Create (or with ``update`` reset) an account. Raises ValidationError on bad input.

    DPPKB staff also get Django admin access (``is_staff``) for master data.
    """
    User = get_user_model()
    if role not in User.Role.values:
        raise ValidationError(_("Unknown role %(role)s.") % {"role": role})
    opd = None
    if role == User.Role.OPD:
        if not opd_code:
            raise ValidationError(_("An OPD user needs --opd CODE."))
        opd = Opd.objects.filter(code=opd_code).first()
        if opd is None:
            raise ValidationError(_("Unknown OPD code %(code)s.") % {"code": opd_code})
    groups = []
    if group_codes:
        if role != User.Role.KADER:
            raise ValidationError(_("Only cadres are assigned to groups."))
        groups = list(Group.objects.filter(code__in=group_codes))
        missing = sorted(set(group_codes) - {g.code for g in groups})
        if missing:
            raise ValidationError(_("Unknown group codes: %(codes)s.") % {"codes": ", ".join(missing)})
    user = User.objects.filter(username=username).first()
    if user and not update:
        raise ValidationError(_("The user %(name)s already exists.") % {"name": username})
    user = user or User(username=username)
    if validate:
        validate_password(password, user)
    user.role = role
    user.opd = opd
    user.is_staff = role == User.Role.DPPKB
    user.set_password(password)
    user.save()
    if role == User.Role.DPPKB:
        grant_dppkb_permissions(user)
    user.assigned_groups.set(groups)
    return user
