"""Regenerate tests/fixtures/spreadsheets/ with LibreOffice Calc (run once by hand; the tests
only read the files, so CI needs no LibreOffice).

    apt-get install libreoffice-calc-nogui
    .venv/bin/python scripts/make_spreadsheet_fixtures.py

It migrates a throw-away SQLite database, records a small group (three families, their
incomes, a meeting with its attendance, KB statuses), writes the app's blank template and
data download with the app's own writers, and has Calc (headless) save each as .ods, as
.xls (Excel 97-2003) and again as .xlsx, as a clerk's LibreOffice would. It also has Calc
open a CSV of families with an English locale, the way trap 1 and trap 7 of issue 20 arose:
the KK and NIK columns become numbers (15 significant digits), 05/02/2021 becomes the date
2 May 2021, 13/02/2021 (no month 13) stays text.
"""

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "spreadsheets"
CSV_ROWS = [
    ["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Alamat", "Jumlah Jiwa", "Metode KB",
     "Kode Kelompok", "Tanggal Bergabung", "Tanggal Keluar"],
    ["7373010502210001", "7373015506800001", "Sitti Aminah", "73.73.01.1001", "Jl. Andi Djemma 5", "4", "SUNTIK",
     "KWT-CSV", "13/02/2021", ""],
    ["7373010502210002", "7373011506800002", "Baso Rahman", "73.73.01.1002", "Jl. Sudirman 2", "3", "PIL",
     "KWT-CSV", "05/02/2021", ""],
    ["7373010502210003", "7373015506800003", "Hasnah", "73.73.01.1001", "Jl. Ahmad Yani 9", "5", "IMPLAN",
     "KWT-CSV", "2021-02-05", ""],
]


def main():
    if shutil.which("soffice") is None:
        sys.exit("soffice not found: apt-get install libreoffice-calc-nogui")
    work = Path(tempfile.mkdtemp(prefix="uppka-fixtures-"))
    os.environ.update(DJANGO_SETTINGS_MODULE="uppka.settings", DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
                      IMPORT_DIR=str(work / "imports"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    written = _write_app_workbooks(work)
    (work / "Keluarga.csv").write_text("\n".join(",".join(row) for row in CSV_ROWS) + "\n", encoding="utf-8")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in written:
        for kind in ("ods", "xls"):
            _convert(work / f"{name}.xlsx", kind, OUT / f"{name}.{kind}")
        _convert(work / f"{name}.xlsx", "xlsx", OUT / f"{name}-libreoffice.xlsx")
    # Comma-separated, double quotes, UTF-8, from line 1, every column Standard, English (USA).
    _convert(work / "Keluarga.csv", "xlsx", OUT / "keluarga-csv-libreoffice.xlsx", infilter="CSV:44,34,76,1,,1033")
    shutil.rmtree(work)
    print("\n".join(sorted(p.name for p in OUT.iterdir())))


def _write_app_workbooks(work: Path) -> list[str]:
    from groups.models import Group, GroupType, Kelurahan, Opd
    from households.models import Household, IncomeReading, Meeting, MeetingMode, Membership
    from households.xlsx import write_data, write_template

    opd = Opd.objects.get(code="DISTAN")
    kelurahan = Kelurahan.objects.get(code="73.73.01.1001")
    group = Group.objects.create(code="KWT-LO", name="KWT Libre", group_type=GroupType.objects.get(code="KWT"),
                                 team=opd.default_team(), kelurahan=kelurahan, formed_on=dt.date(2021, 2, 5),
                                 business="sayur organik")
    meeting = Meeting.objects.create(group=group, held_on=dt.date(2025, 3, 10), mode=MeetingMode.TATAP_MUKA,
                                     topic="Pengolahan sayur")
    for n, (name, method) in enumerate([("Sitti Aminah", "SUNTIK"), ("Baso Rahman", "PIL"), ("Hasnah", "IMPLAN")], 1):
        family = Household.objects.create(kk_number=f"737301050221000{n}", head_nik=f"737301550680000{n}",
                                          head_name=name, kelurahan=kelurahan, address=f"Jl. Andi Djemma {n}",
                                          family_size=3 + n, kb_method=method)
        Membership.objects.create(household=family, group=group, joined_on=dt.date(2025, 1, 13))
        for month in (1, 2, 3):
            IncomeReading.objects.create(household=family, period=dt.date(2025, month, 1), amount=1_000_000 + n * 125_000)
        meeting.attendees.add(family)
    with open(work / "templat.xlsx", "wb") as f:
        write_template(f)
    with open(work / "data.xlsx", "wb") as f:
        write_data(f, groups=Group.objects.filter(pk=group.pk), since=dt.date(2025, 1, 1))
    return ["templat", "data"]


def _convert(source: Path, kind: str, target: Path, *, infilter: str | None = None):
    """Have Calc open ``source`` and save it as ``kind`` under ``target``."""
    folder = Path(tempfile.mkdtemp(dir=source.parent))
    filters = {"ods": "ods", "xls": "xls:MS Excel 97", "xlsx": "xlsx:Calc MS Excel 2007 XML"}
    command = ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile",
               "--convert-to", filters[kind], "--outdir", str(folder), str(source)]
    if infilter:
        command[3:3] = [f"--infilter={infilter}"]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    shutil.move(folder / f"{source.stem}.{kind}", target)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
