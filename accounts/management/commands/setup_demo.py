from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.demo import ensure_demo_accounts, read_passwords
from households.models import Household

ACCOUNTS_FILE = Path(settings.BASE_DIR) / "var" / "demo-accounts.txt"


class Command(BaseCommand):
    help = (
        "For `make run`: load demo data into an empty database, make sure one demo account per role "
        "exists with the password kept in var/demo-accounts.txt (not in git; new ones when the file "
        "is missing) and print their names and passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=600)

    def handle(self, *args, **options):
        if not Household.objects.exists():
            call_command("seed_demo", households=options["households"], months=24, seed=1, stdout=self.stdout)
        # The file may be older than this database (a deleted db.sqlite3, another DATABASE_URL):
        # its accounts are created here with its passwords rather than printed unchecked.
        known = read_passwords(ACCOUNTS_FILE.read_text(encoding="utf-8")) if ACCOUNTS_FILE.exists() else {}
        accounts = ensure_demo_accounts(passwords=known)
        if any(account.username not in known for account in accounts):
            ACCOUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
            ACCOUNTS_FILE.write_text("".join(account.line() + "\n" for account in accounts), encoding="utf-8")
        self.stdout.write("\nDemo accounts (log in at http://127.0.0.1:8000/accounts/login/):\n")
        self.stdout.write("".join(account.printed_line() + "\n" for account in accounts))
