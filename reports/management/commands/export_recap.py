import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from groups.models import Group, Opd
from households.parsing import parse_period
from households.sheet import reporting_month
from reports.export import export_recap
from uppka.months import month_not_in_future


class Command(BaseCommand):
    help = "Write the monthly recap workbook (Rekap, Rekap Kelurahan, Kelompok) for the city or one OPD."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: last month, the reporting month)")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument("--opd", help="OPD code (default: the whole city)")

    def handle(self, *args, **options):
        try:
            month = month_not_in_future(parse_period(options["month"])) if options["month"] else reporting_month()
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        groups, opd = Group.objects.all(), None
        if options["opd"]:
            opd = Opd.objects.filter(code=options["opd"]).first()
            if opd is None:
                raise CommandError(f"Unknown OPD code {options['opd']}.")
            groups = groups.filter(team__opd=opd)
        try:
            export_recap(
                options["out"], groups=groups, month=month,
                made_by=f"{getpass.getuser()} (manage.py export_recap)", cleaned={"opd": opd},
            )
        except OSError as e:
            raise CommandError(f"Cannot write {options['out']}: {e}") from e
        self.stdout.write(f"Wrote {options['out']} ({'OPD ' + opd.code if opd else 'Kota Palopo'}, {month:%Y-%m}).")
