"""The benchmark behind `make bench`: seed once, then time each page through Django's test
client and print median server times and query counts. Not part of `make test`."""

import datetime as dt
import os
import statistics
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from groups.models import Group, Opd
from households.models import Household, Meeting
from households.sheet import reporting_month, sheet_rows
from households.xlsx import write_data
from jobs.models import Job
from uppka.months import end_of_month

RUNS = 5
SCANNED = object()  # what the floor's action returns


class Command(BaseCommand):
    help = "Seed demo data (if the database is empty) and time the main pages."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=10_000)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--runs", type=int, default=RUNS)
        parser.add_argument("--skip-export", action="store_true", help="time the pages only")
        parser.add_argument("--export-only", action="store_true", help="time the city workbook job only")
        parser.add_argument(
            "--data-out", help="also write all data in the import layout to this file (for bench_import)"
        )

    def handle(self, *args, **options):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        call_command("migrate", verbosity=0)
        existing = Household.objects.count()
        if existing not in (0, options["households"]):
            self.stderr.write(f"The bench database has {existing} households, not {options['households']}: drop it first.")
            return
        if not existing:
            started = time.perf_counter()
            call_command("seed_demo", households=options["households"], months=options["months"], seed=1, stdout=self.stdout)
            self.stdout.write(f"seeded in {time.perf_counter() - started:.1f} s")
            if connection.vendor == "postgresql":  # as autovacuum leaves a live database
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
        database = f"{connection.vendor} {options['households']:,} households"
        self.stdout.write(f"\n== {database}, median of {options['runs']} runs (after one warm-up) ==")
        if not options["export_only"]:
            floor = self._time("floor: one GROUP BY scan of readings", self._scan, options["runs"])
            for label, user, url in self._pages():
                client = Client()
                client.force_login(user)
                self._time(label, lambda: client.get(url), options["runs"], floor=floor)
            self._bench_save(options["runs"])
        if not options["skip_export"]:
            self._bench_export(options["households"])
        if options["data_out"]:
            started = time.perf_counter()
            write_data(options["data_out"], groups=Group.objects.all(), since=dt.date(2000, 1, 1))
            self.stdout.write(f"{'data in the import layout':<40} {time.perf_counter() - started:7.3f} s  -> {options['data_out']}")

    def _bench_save(self, runs):
        """A cadre saves the month for the biggest group through the page, each run changing
        every amount, the KB method of three families and every tick of the month's meetings
        (SPEC section 8): the writes, their history and the kept figures they rewrite."""
        group = Group.objects.annotate(members=Count("memberships")).order_by("-members", "code").first()
        cadre = self._user("bench_kader_save", role="kader")
        cadre.assigned_groups.set([group])
        client = Client()
        client.force_login(cadre)
        month = reporting_month()
        url = f"/kelompok/{group.code}/isian/{month:%Y-%m}/"
        step = iter(range(1, 1000))

        meetings = list(Meeting.objects.filter(group=group, held_on__gte=month, held_on__lte=end_of_month(month)))
        if not meetings:
            meetings = [Meeting.objects.create(group=group, held_on=month.replace(day=5), mode="TATAP_MUKA", topic="Bench")]

        def save():
            rows = sheet_rows(group, month)
            delta = 1000 * (1 if next(step) % 2 else -1)
            data = {"meetings_shown": ",".join(str(m.pk) for m in meetings),
                    "ticks_was": ",".join(f"{m.pk}-{row.household.id}" for row in rows for m in meetings
                                          if m.pk in row.present)}
            for i, row in enumerate(rows):
                hid = row.household.id
                was = row.amount
                data[f"was_{hid}"] = "" if was is None else str(was)
                data[f"amount_{hid}"] = str((was or row.previous_amount or 1_000_000) + delta)
                data[f"confirm_{hid}"] = "on"  # an amount far from the usual one is meant
                data[f"kb_was_{hid}"] = f"{row.kb_method}:{row.kb_reason}"
                method = row.kb_method
                if i < 3:  # three method changes a month
                    method = "SUNTIK" if method != "SUNTIK" else "PIL"
                data[f"kb_{hid}"] = method
                if method == "TIDAK":
                    data[f"reason_{hid}"] = row.kb_reason
                for m in meetings:
                    if m.pk not in row.present:  # every tick turns over
                        data[f"present_{m.pk}_{hid}"] = "on"
            started = time.perf_counter()
            response = client.post(url, data)
            elapsed = time.perf_counter() - started
            assert response.status_code == 302, response.content[:2000]
            return elapsed, len(rows)

        save()  # warm-up
        results = [save() for _ in range(runs)]
        median = statistics.median(elapsed for elapsed, _ in results)
        label = f"entry sheet save ({results[0][1]} members, register)"
        self.stdout.write(f"{label:<40} {median:7.3f} s")

    def _bench_export(self, households):
        """The city workbook as its user gets it: asked for on the page, written by a real
        worker (``db_worker``, another process), the time from the click to the file. Meanwhile
        a cadre opens their home page again and again: its 95th percentile tells whether the
        web stays responsive while the job runs. The worker's peak memory (max RSS) too."""
        dppkb = Client()
        dppkb.force_login(self._user("bench_dppkb", role="dppkb"))
        cadre_user = self._user("bench_kader", role="kader")
        if not cadre_user.assigned_groups.exists():
            cadre_user.assigned_groups.set([Group.objects.order_by("code").first()])
        cadre = Client()
        cadre.force_login(cadre_user)
        cadre.get("/kader/")  # warm-up
        started = time.perf_counter()
        response = dppkb.get("/reports/export.xlsx")
        assert response.status_code == 302, response.status_code
        job = Job.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--queue-name", "*", "--no-reload", "--no-startup-delay"],
            cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        home = []
        while not (ended := os.wait4(worker.pid, os.WNOHANG))[0]:  # its own usage, not every child's
            begun = time.perf_counter()
            assert cadre.get("/kader/").status_code == 200
            home.append(time.perf_counter() - begun)
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        worker.returncode = os.waitstatus_to_exitcode(ended[1])
        job.refresh_from_db()
        assert job.status == Job.Status.DONE, (job.message, worker.stderr.read()[-2000:])
        peak = ended[2].ru_maxrss / 1024  # KiB on Linux
        p95 = statistics.quantiles(home, n=20)[-1] if len(home) >= 2 else home[0]
        self.stdout.write(
            f"{'export city workbook (job, real worker)':<40} {elapsed:7.3f} s  {job.result['size'] / 1e6:.1f} MB file, "
            f"worker peak RSS {peak:.0f} MiB; cadre home meanwhile: p95 {p95 * 1000:.0f} ms over {len(home)} requests"
        )

    def _pages(self):
        dppkb = self._user("bench_dppkb", role="dppkb")
        opd = Opd.objects.get(code="DISTAN")
        opd_user = self._user("bench_opd", role="opd", opd=opd)
        group = Group.objects.filter(team__opd=opd).order_by("code").first()
        cadre = self._user("bench_kader", role="kader")
        cadre.assigned_groups.set([group])
        month = f"{reporting_month():%Y-%m}"
        # The printed register of a group of about twenty members (issue 17 measures one).
        twenty = min(Group.objects.annotate(members=Count("memberships")), key=lambda g: (abs(g.members - 20), g.code))
        return [
            ("dashboard (DPPKB)", dppkb, "/reports/dashboard/"),
            ("city report (DPPKB)", dppkb, "/reports/"),
            ("city report sorted by change, page 2", dppkb, "/reports/?sort=-change&page=2"),
            ("dashboard's pictures over time (fetched)", dppkb, "/reports/dashboard/trends/"),
            ("report's pictures over time (fetched)", dppkb, "/reports/trends/"),
            ("OPD report (OPD user)", opd_user, "/reports/"),
            ("group page", opd_user, f"/reports/kelompok/{group.code}/"),
            ("monthly recap (DPPKB)", dppkb, f"/reports/rekap/?as_of={month}"),
            ("monthly recap (OPD user)", opd_user, f"/reports/rekap/?as_of={month}"),
            ("cadre home", cadre, "/kader/"),
            ("entry sheet", cadre, f"/kelompok/{group.code}/isian/{month}/"),
            (f"register PDF ({twenty.members} members)", dppkb, f"/kelompok/{twenty.code}/isian/{month}/register.pdf"),
            ("city report PDF (DPPKB)", dppkb, "/reports/laporan.pdf"),
            ("picture to share, city (PNG)", dppkb, "/reports/kartu.png"),
        ]

    def _user(self, username, **fields):
        user, _created = User.objects.update_or_create(username=username, defaults=fields)
        return user

    def _scan(self):
        """The floor the figures are measured against: one pass over every reading."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT household_id, COUNT(*), SUM(amount) FROM households_incomereading GROUP BY household_id"
            )
            rows = 0
            while batch := cursor.fetchmany(10_000):
                rows += len(batch)
        return SCANNED

    def _time(self, label, action, runs, floor=None) -> float:
        """Print and return the median server time of ``action``; with ``floor``, also the
        ratio to it."""
        action()  # warm-up
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = action()
                times.append(time.perf_counter() - started)
            assert response is SCANNED or response.status_code == 200, (label, response.status_code)
        median = statistics.median(times)
        ratio = f"  {median / floor:5.2f}x floor" if floor else ""
        self.stdout.write(f"{label:<40} {median:7.3f} s  {len(queries):3d} queries{ratio}")
        return median
