import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from groups.models import Group, Opd
from households.parsing import parse_period
from reports.export import export_report
from uppka.months import month_not_in_future, this_month


class Command(BaseCommand):
    help = "Write the report workbook (Ringkasan, Kelompok, Keluarga) for the city or one OPD."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument("--opd", help="OPD code (default: the whole city)")
        parser.add_argument("--as-of", help="YYYY-MM (default: the current month)")

    def handle(self, *args, **options):
        try:
            as_of = month_not_in_future(parse_period(options["as_of"])) if options["as_of"] else this_month()
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from e
        groups, opd = Group.objects.all(), None
        if options["opd"]:
            opd = Opd.objects.filter(code=options["opd"]).first()
            if opd is None:
                raise CommandError(f"Unknown OPD code {options['opd']}.")
            groups = groups.filter(team__opd=opd)
        try:
            export_report(
                options["out"],
                groups=groups,
                as_of=as_of,
                made_by=f"{getpass.getuser()} (manage.py export_report)",
                cleaned={"opd": opd},
            )
        except OSError as e:
            raise CommandError(f"Cannot write {options['out']}: {e}") from e
        self.stdout.write(f"Wrote {options['out']} ({'OPD ' + opd.code if opd else 'Kota Palopo'}, {as_of:%Y-%m}).")
