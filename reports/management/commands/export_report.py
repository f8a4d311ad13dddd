import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from groups.models import Group, Opd
from households.parsing import parse_period
from reports.export import export_report
from uppka.months import month_not_in_future, this_month


def selection(month: str | None, opd_code: str | None, *, default):
    """(month, groups, OPD or None) from a command's --month/--as-of and --opd options."""
    try:
        period = month_not_in_future(parse_period(month)) if month else default
    except ValidationError as e:
        raise CommandError(" ".join(e.messages)) from e
    groups, opd = Group.objects.all(), None
    if opd_code:
        opd = Opd.objects.filter(code=opd_code).first()
        if opd is None:
            raise CommandError(f"Unknown OPD code {opd_code}.")
        groups = groups.filter(team__opd=opd)
    return period, groups, opd


class Command(BaseCommand):
    help = "Write the report workbook (Ringkasan, Kelompok, Keluarga) for the city or one OPD."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument("--opd", help="OPD code (default: the whole city)")
        parser.add_argument("--as-of", help="YYYY-MM (default: the current month)")

    def handle(self, *args, **options):
        as_of, groups, opd = selection(options["as_of"], options["opd"], default=this_month())
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
