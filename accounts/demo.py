"""The demo accounts of `make run`: one per role, their passwords kept in a file beside the
database (var/demo-accounts.txt), so that every account printed logs in."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.services import create_user
from groups.models import Group


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str  # as on file (or new): the account's password unless ``changed``
    description: str  # role and groups, as this database has them
    changed: bool  # the password was changed (or the account deactivated) since the file was written

    def line(self) -> str:
        """One line of the file and of the printed list."""
        return f"  {self.username:<12} {self.password:<14} {self.description}".rstrip()

    def printed_line(self) -> str:
        if not self.changed:
            return self.line()
        return (f"  {self.username:<12} {'(changed)':<14} {self.description}: the password was changed or the "
                "account deactivated in this database; delete var/demo-accounts.txt for new passwords")


def read_passwords(text: str) -> dict[str, str]:
    """The passwords in a demo accounts file: ``{"kader1": "Xq3…"}`` from ``"  kader1  Xq3…  Kader …"``."""
    passwords = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2:
            passwords[words[0]] = words[1]
    return passwords


@transaction.atomic
def ensure_demo_accounts(*, passwords: dict[str, str]) -> list[DemoAccount]:
    """Each demo account exists in this database and is described as it stands.

    An account missing here (a new database beside an old file) is created with the password
    on file; one with no password on file gets a new one (and an existing account is reset to
    it). An account whose password no longer matches is left alone and marked ``changed``: the
    password is the user's now, and the old one must not be printed as if it worked.
    """
    accounts = []
    for username, role, extra in _specs():
        password = passwords.get(username)
        user = get_user_model().objects.filter(username=username).first()
        if password is None or user is None:
            password = password or secrets.token_urlsafe(9)
            user = _make(username, role, password, extra)
        accounts.append(DemoAccount(
            username=username,
            password=password,
            description=_describe(user),
            changed=not (user.is_active and user.check_password(password)),
        ))
    return accounts


def _specs() -> list[tuple[str, str, dict]]:
    """(username, role, options): two cadres of groups of different OPD, an OPD user, DPPKB, admin."""
    groups = list(Group.objects.select_related("team__opd").order_by("code"))
    distan = [g for g in groups if g.team.opd.code == "DISTAN"]
    other = [g for g in groups if g.team.opd.code != "DISTAN"]
    return [
        ("kader1", "kader", {"group_codes": [(distan or groups)[0].code] if groups else []}),
        ("kader2", "kader", {"group_codes": [other[0].code] if other else []}),
        ("opd_distan", "opd", {"opd_code": "DISTAN"}),
        ("dppkb", "dppkb", {}),
        ("admin", "", {}),
    ]


def _make(username, role, password, extra):
    """Create the account, or reset an existing one, with this password."""
    User = get_user_model()
    if role:
        user = create_user(username=username, role=role, password=password, update=True, validate=False, **extra)
        User.objects.filter(pk=user.pk, is_active=False).update(is_active=True)
        user.is_active = True
        return user
    admin = User.objects.filter(username=username).first() or User(username=username)
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.set_password(password)
    admin.save()
    return admin


def _describe(user) -> str:
    if user.is_superuser and not user.role:
        return "Administrator (/admin/)"
    groups = ", ".join(user.assigned_groups.order_by("code").values_list("code", flat=True))
    return f"{user.get_role_display()} {groups}".rstrip()
