"""Rewrite the kept before/after figures from the readings (after a restore, or to check)."""

import time

from django.core.management.base import BaseCommand

from households import figures


class Command(BaseCommand):
    help = "Rebuild the kept before/after figures of every household from its readings."

    def handle(self, *args, **options):
        started = time.perf_counter()
        count = figures.rebuild()
        self.stdout.write(f"Kept figures rebuilt: {count} rows in {time.perf_counter() - started:.1f} s")
