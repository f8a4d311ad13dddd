from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from groups import masterdata
from groups.models import Kecamatan, Kelurahan


class Command(BaseCommand):
    help = (
        "Load or update kecamatan and kelurahan from a CSV with the columns kode_kecamatan, "
        "nama_kecamatan, kode_kelurahan, nama_kelurahan (Palopo's are loaded by the migrations)."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, **options):
        try:
            rows = masterdata.read_area_rows(options["csv_file"])
        except (OSError, ValueError) as e:
            raise CommandError(str(e)) from e
        with transaction.atomic():
            kecamatan, kelurahan = masterdata.load_areas(rows, Kecamatan, Kelurahan)
        self.stdout.write(f"{kecamatan} kecamatan, {kelurahan} kelurahan loaded.")
