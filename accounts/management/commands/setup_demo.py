import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import create_user
from groups.models import Group
from households.models import Household

ACCOUNTS_FILE = Path(settings.BASE_DIR) / "var" / "demo-accounts.txt"


class Command(BaseCommand):
    help = (
        "For `make run`: load demo data into an empty database, create one demo account per role "
        "(once) and print their names and passwords (kept in var/demo-accounts.txt, not in git)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=600)

    def handle(self, *args, **options):
        if not Household.objects.exists():
            call_command("seed_demo", households=options["households"], months=24, seed=1, stdout=self.stdout)
        if not ACCOUNTS_FILE.exists():
            ACCOUNTS_FILE.parent.mkdir(exist_ok=True)
            ACCOUNTS_FILE.write_text(self._create_accounts(), encoding="utf-8")
        self.stdout.write("\nDemo accounts (log in at http://127.0.0.1:8000/accounts/login/):\n")
        self.stdout.write(ACCOUNTS_FILE.read_text(encoding="utf-8"))

    def _create_accounts(self) -> str:
        groups = list(Group.objects.order_by("code"))
        distan = [g for g in groups if g.team.opd.code == "DISTAN"]
        other = [g for g in groups if g.team.opd.code != "DISTAN"]
        specs = [
            ("kader1", "kader", {"group_codes": [distan[0].code] if distan else [groups[0].code]}),
            ("kader2", "kader", {"group_codes": [other[0].code] if other else []}),
            ("opd_distan", "opd", {"opd_code": "DISTAN"}),
            ("dppkb", "dppkb", {}),
        ]
        lines = []
        for username, role, extra in specs:
            password = secrets.token_urlsafe(9)
            user = create_user(username=username, role=role, password=password, update=True, **extra)
            groups_text = ", ".join(user.assigned_groups.values_list("code", flat=True))
            lines.append(f"  {username:<12} {password:<14} {user.get_role_display()} {groups_text}".rstrip())
        password = secrets.token_urlsafe(9)
        User = get_user_model()
        admin = User.objects.filter(username="admin").first() or User(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        lines.append(f"  {'admin':<12} {password:<14} Administrator (/admin/)")
        return "\n".join(lines) + "\n"
