import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import create_user


class Command(BaseCommand):
    help = "Create an account with a role. The password comes from DJANGO_USER_PASSWORD or a prompt."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=User.Role.values)
        parser.add_argument("--opd", help="OPD code, for --role opd")
        parser.add_argument("--groups", help="comma-separated group codes, for --role kader")

    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_USER_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        codes = [c.strip() for c in (options["groups"] or "").split(",") if c.strip()]
        try:
            user = create_user(
                username=options["username"],
                role=options["role"],
                password=password,
                opd_code=options["opd"],
                group_codes=codes,
            )
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}).")
