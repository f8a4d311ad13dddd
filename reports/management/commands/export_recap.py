import getpass

from django.core.management.base import BaseCommand, CommandError

from households.sheet import reporting_month
from reports.export import export_recap
from reports.management.commands.export_report import selection


class Command(BaseCommand):
    help = "Write the monthly recap workbook (Rekap, Rekap Kelurahan, Kelompok) for the city or one OPD."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: last month, the reporting month)")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument("--opd", help="OPD code (default: the whole city)")

    def handle(self, *args, **options):
        month, groups, opd = selection(options["month"], options["opd"], default=reporting_month())
        try:
            export_recap(
                options["out"], groups=groups, month=month,
                made_by=f"{getpass.getuser()} (manage.py export_recap)", cleaned={"opd": opd},
            )
        except OSError as e:
            raise CommandError(f"Cannot write {options['out']}: {e}") from e
        self.stdout.write(f"Wrote {options['out']} ({'OPD ' + opd.code if opd else 'Kota Palopo'}, {month:%Y-%m}).")
