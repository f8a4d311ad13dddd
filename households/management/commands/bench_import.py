"""`make bench`: import a workbook into an empty database and time it, then again."""

import resource
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from households.importer import apply_plan, plan_import
from households.models import Household
from households.workbook import read_workbook


class Command(BaseCommand):
    help = "Time importing a workbook into an empty database, and importing it a second time."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0)
        if Household.objects.exists():
            raise CommandError("bench_import needs an empty database.")
        self.stdout.write(f"\n== import into an empty {connection.vendor} database ==")
        for attempt in ("first import", "same file again"):
            started = time.perf_counter()
            sheets = read_workbook(options["file"])
            read = time.perf_counter()
            plan = plan_import(sheets)
            planned = time.perf_counter()
            if plan.errors:
                raise CommandError("\n".join(p.line() for p in plan.errors[:20]))
            apply_plan(plan)
            done = time.perf_counter()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
            counts = plan.counts()
            self.stdout.write(
                f"{attempt:<18} {done - started:6.1f} s (read {read - started:.1f}, check {planned - read:.1f}, "
                f"write {done - planned:.1f}); {counts['households_new']} households, {counts['readings_new']} "
                f"readings new, {counts['unchanged']} unchanged; peak RSS {peak / 2**20:.0f} MiB"
            )
