"""`make bench`: import a workbook into an empty database and time it, then again.

``--write-wide N`` writes the workbook instead: N families in groups of 25, their incomes
over the last ``--months`` months in the wide form, a Pendapatan sheet per year (as the data
download writes them), deterministic for a ``--seed``. Streamed (XlsxWriter's constant_memory),
so 100,000 families take a minute and little memory."""

import random
import resource
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from groups.models import GroupType, Kelurahan, Opd
from households.importer import apply_plan, plan_import
from households.models import Household, KbMethod
from households.workbook import SHEETS, read_workbook
from uppka.months import month_before, this_month
from uppka.scratch import xlsx_workbook

GROUP_SIZE = 25


class Command(BaseCommand):
    help = "Time importing a workbook into an empty database, and importing it a second time (or write one: --write-wide)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--write-wide", type=int, metavar="N", help="write FILE with N families instead, and stop")
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=21)
        parser.add_argument("--once", action="store_true", help="import once (not the same file again)")
        parser.add_argument("--job", action="store_true",
                            help="import once as a user does: a background job run by a real worker (db_worker)")

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0)  # the areas, OPDs and group types the workbook names
        if options["write_wide"]:
            started = time.perf_counter()
            write_wide_workbook(options["file"], families=options["write_wide"], months=options["months"],
                                seed=options["seed"])
            self.stdout.write(f"wrote {options['file']} in {time.perf_counter() - started:.1f} s")
            return
        if Household.objects.exists():
            raise CommandError("bench_import needs an empty database.")
        self.stdout.write(f"\n== import into an empty {connection.vendor} database ==")
        if options["job"]:
            return self._through_a_worker(options["file"])
        for attempt in ("first import", "same file again")[:1 if options["once"] else 2]:
            started = time.perf_counter()
            sheets = read_workbook(options["file"])
            read = time.perf_counter()
            plan = plan_import(sheets)
            del sheets
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

    def _through_a_worker(self, path):
        """The upload stored as the page stores it, the import a job, a real worker doing it
        (``db_worker --batch``, another process): the time from the click to "done", the
        stages the page's bar showed, and the worker's peak memory."""
        import shutil
        import subprocess
        import sys

        from django.conf import settings

        from accounts.models import User
        from households import imports
        from jobs import services
        from jobs.models import Job

        user, _ = User.objects.get_or_create(username="bench_import_dppkb", defaults={"role": "dppkb"})
        token = f"bench-{int(time.time())}"
        shutil.copyfile(path, imports._dir() / f"{token}.xlsx")
        started = time.perf_counter()
        job = services.start(user, Job.Kind.IMPORT, "bench", {"token": token})
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--queue-name", "*", "--no-reload", "--no-startup-delay"],
            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seen = []

        def poll():
            state = Job.objects.filter(pk=job.pk).values_list("stage", "done", "total").get()
            if not seen or seen[-1][1][0] != state[0]:
                seen.append((time.perf_counter() - started, state))

        usage = _worker_usage(worker, poll)
        elapsed = time.perf_counter() - started
        job.refresh_from_db()
        if job.status != Job.Status.DONE:
            raise CommandError(f"the job {job.status}: {job.message} {worker.stderr.read()[-2000:]!r}")
        stages = ", ".join(f"{stage or 'start'} at {at:.0f} s" for at, (stage, _done, _total) in seen)
        counts = job.result["counts"]
        self.stdout.write(
            f"{'import as a job (real worker)':<22} {elapsed:5.1f} s; {counts['households_new']} households, "
            f"{counts['readings_new']} readings new; worker peak RSS {usage.ru_maxrss / 1024:.0f} MiB; "
            f"the bar showed: {stages}"
        )

def write_wide_workbook(path, *, families: int, months: int, seed: int) -> None:
    """Kelompok, Keluarga and Pendapatan sheets (wide, one per year) for ``families`` new
    families; about 1 in 20 cells empty (no reading) and 1 in 50 a reading of 0."""
    rng = random.Random(seed)
    last = month_before(this_month())
    periods = [last]
    while len(periods) < months:
        periods.insert(0, month_before(periods[0]))
    areas = list(Kelurahan.objects.order_by("code").values_list("code", flat=True))
    opds = list(Opd.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
    types = list(GroupType.objects.order_by("code").values_list("code", flat=True))
    methods = [m for m in KbMethod.values if m != KbMethod.TIDAK]
    options = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    with xlsx_workbook(path, options) as book:
        text = book.add_format({"num_format": "@"})
        groups = (families + GROUP_SIZE - 1) // GROUP_SIZE
        sheet = book.add_worksheet("Kelompok")
        sheet.write_row(0, 0, [c.name for c in SHEETS["Kelompok"]])
        for g in range(groups):
            sheet.write_row(g + 1, 0, [f"BW-{g + 1:06d}", f"Kelompok {g + 1}", types[g % len(types)], opds[g % len(opds)],
                                       areas[g % len(areas)], "2020-01-15", "usaha", ""])
        sheet = book.add_worksheet("Keluarga")
        sheet.write_row(0, 0, [c.name for c in SHEETS["Keluarga"]])
        kks = []
        for i in range(families):
            area = areas[(i // GROUP_SIZE) % len(areas)]
            kk = f"7373{area[6:8]}{i + 1:010d}"
            nik = f"737301{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}{i % 9999 + 1:04d}"
            joined = periods[rng.randrange(len(periods))].replace(day=rng.randint(1, 28))
            kks.append(kk)
            sheet.write_string(i + 1, 0, kk, text)
            sheet.write_string(i + 1, 1, nik, text)
            sheet.write_row(i + 1, 2, [f"Kepala {i + 1}", area, f"Jl. Contoh {i % 500}", rng.randint(1, 8),
                                       methods[i % len(methods)], f"BW-{i // GROUP_SIZE + 1:06d}", f"{joined:%Y-%m-%d}"])
        for year in sorted({p.year for p in periods}):
            columns = [p for p in periods if p.year == year]
            sheet = book.add_worksheet(f"Pendapatan {year}")
            sheet.write_row(0, 0, ["No KK", *(f"{p:%Y-%m}" for p in columns)])
            for i, kk in enumerate(kks):
                sheet.write_string(i + 1, 0, kk, text)
                base = rng.randint(5, 50) * 100_000
                for j in range(len(columns)):
                    draw = rng.random()
                    if draw < 0.05:
                        continue
                    sheet.write_number(i + 1, j + 1, 0 if draw < 0.07 else base + rng.randint(-10, 10) * 10_000)


def _worker_usage(worker, poll):
    """Wait for the worker process, calling ``poll()`` meanwhile; its own resource usage."""
    import os

    while not (ended := os.wait4(worker.pid, os.WNOHANG))[0]:
        poll()
        time.sleep(0.5)
    return ended[2]
