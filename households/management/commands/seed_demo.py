import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from households.demo import seed_demo
from households.models import Household, IncomeReading, Membership


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as e:
        raise CommandError(f"Expected a month as YYYY-MM, got {text!r}.") from e


class Command(BaseCommand):
    help = "Fill an empty database with deterministic demo groups, households and monthly incomes."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=500)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--last-month", type=parse_month, help="YYYY-MM (default: last month)")

    def handle(self, *args, **options):
        if options["households"] < 1 or options["months"] < 1:
            raise CommandError("--households and --months must be at least 1.")
        last = options["last_month"]
        if last is None:
            last = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        started = time.perf_counter()
        try:
            summary = seed_demo(
                households=options["households"], months=options["months"], seed=options["seed"], last_month=last
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Fresh statistics and visibility map after a bulk load: the report query then
            # reads readings with index-only scans.
            with connection.cursor() as cursor:
                for model in (Household, Membership, IncomeReading):
                    cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        self.stdout.write(
            f"{summary.groups} groups, {summary.households} households, {summary.memberships} memberships, "
            f"{summary.readings} readings ({summary.first_month:%Y-%m} to {summary.last_month:%Y-%m}) "
            f"in {time.perf_counter() - started:.1f} s."
        )
