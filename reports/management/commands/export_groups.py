from django.core.management.base import BaseCommand, CommandError

from households.profiles import current_year, years_open
from reports.group_data import export_group_data
from reports.management.commands.export_report import selection


class Command(BaseCommand):
    help = "Write the group data workbook (sheet Data Kelompok, SPEC section 9) for a year, the city or one OPD."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="YYYY (default: this year); data as of 1 January")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument("--opd", help="OPD code (default: the whole city)")

    def handle(self, *args, **options):
        year = options["year"] or current_year()
        if year not in years_open():
            raise CommandError(f"No group data for {year}: choose a year from {years_open()[0]} to {current_year()}.")
        _month, groups, opd = selection(None, options["opd"], default=None)
        try:
            export_group_data(options["out"], groups=groups, year=year)
        except OSError as e:
            raise CommandError(f"Cannot write {options['out']}: {e}") from e
        self.stdout.write(f"Wrote {options['out']} ({'OPD ' + opd.code if opd else 'Kota Palopo'}, {year}).")
