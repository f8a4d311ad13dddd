import datetime

from django.db import migrations

from groups import masterdata


def load(apps, schema_editor=None):
    """Idempotent: also used by tests whose tables were flushed (browser tests)."""
    Kecamatan = apps.get_model("groups", "Kecamatan")
    Kelurahan = apps.get_model("groups", "Kelurahan")
    Opd = apps.get_model("groups", "Opd")
    GroupType = apps.get_model("groups", "GroupType")
    Target = apps.get_model("groups", "Target")
    PovertyLine = apps.get_model("groups", "PovertyLine")

    masterdata.load_areas(masterdata.read_area_rows(masterdata.PALOPO_AREAS), Kecamatan, Kelurahan)
    masterdata.load_opd(masterdata.PALOPO_OPD, Opd)
    for code, name in masterdata.GROUP_TYPES:
        GroupType.objects.update_or_create(code=code, defaults={"name": name})
    Target.objects.get_or_create(year=2021, defaults={"households": 10_000})
    PovertyLine.objects.get_or_create(
        valid_from=datetime.date(2024, 9, 1),
        defaults={"amount": 467_991, "source": "BPS, Sulawesi Selatan, September 2024"},
    )


class Migration(migrations.Migration):
    dependencies = [("groups", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
