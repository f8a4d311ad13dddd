"""Spreadsheets as clerks make them (issue 20): LibreOffice's .ods, .xls and re-saved .xlsx,
numbers where KK and NIK belong, day-first dates, empty cells, rows that fail because another
row failed. The workbooks under tests/fixtures/spreadsheets were saved by LibreOffice Calc
(scripts/make_spreadsheet_fixtures.py); the others are built here with openpyxl."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from groups.models import Group
from households.importer import plan_import
from households.models import Household, IncomeReading, Meeting, Membership
from households.workbook import Sheets, read_workbook
from tests.test_import import FAMILIES, GROUP, GROUP_HEADER, KK1, KK2, build, counts, run

FIXTURES = Path(__file__).parent / "fixtures" / "spreadsheets"
LO_KKS = {"7373010502210001", "7373010502210002", "7373010502210003"}


# LibreOffice's files -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["templat.ods", "templat.xls", "templat-libreoffice.xlsx"])
def test_the_template_saved_by_libreoffice_imports_cleanly(name):
    status, out, err = run(FIXTURES / name)
    assert status == 0, err
    assert err == "" and counts() == (0, 0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["data.ods", "data.xls", "data-libreoffice.xlsx"])
def test_the_data_download_saved_by_libreoffice_imports_whole_and_a_second_time_changes_nothing(name):
    status, out, err = run(FIXTURES / name)
    assert status == 0, err
    assert "1 kelompok baru, 0 kelompok diubah, 3 keluarga baru" in out and "9 pendapatan baru" in out
    assert set(Household.objects.values_list("kk_number", flat=True)) == LO_KKS  # all 16 digits, as text
    assert set(Household.objects.values_list("head_nik", flat=True)) == {
        "7373015506800001", "7373015506800002", "7373015506800003"}
    assert set(Membership.objects.values_list("joined_on", flat=True)) == {dt.date(2025, 1, 13)}
    assert Group.objects.get(code="KWT-LO").formed_on == dt.date(2021, 2, 5)
    assert IncomeReading.objects.get(household__kk_number="7373010502210002", period=dt.date(2025, 2, 1)).amount == 1_250_000
    assert Meeting.objects.get().attendees.count() == 3
    before = counts()
    status, out, err = run(FIXTURES / name)
    assert status == 0 and "0 keluarga baru, 0 keluarga diubah" in out and "0 pendapatan diubah" in out
    assert counts() == before


def upload(client, path: Path, name: str | None = None):
    return client.post("/impor/", {"file": SimpleUploadedFile(name or path.name, path.read_bytes()), "dry_run": "on"}, follow=True)


def column_format(sheet, index: int) -> str:
    """The number format of a whole column (openpyxl keeps neighbours of one format as one range)."""
    return next((d.number_format for d in sheet.column_dimensions.values() if d.min <= index <= d.max), "General")


def download(client, html: str):
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    return openpyxl.load_workbook(io.BytesIO(b"".join(client.get(f"/impor/{token}/kesalahan.xlsx").streaming_content)))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["data.ods", "data.xls"])
def test_an_ods_or_xls_upload_is_read_whatever_its_name_says(client, dppkb_user, settings, tmp_path, name):
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    for upload_name in (name, "impor.xlsx"):  # its own extension, or one that lies
        html = upload(client, FIXTURES / name, upload_name).content.decode()
        assert "Uji coba" in html and "3 keluarga baru" in html
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["data.ods", "data.xls"])
def test_the_error_copy_of_an_ods_or_xls_is_an_xlsx_with_text_formats_on_kk_nik_and_codes(
        client, other_opd_user, settings, tmp_path, name):
    settings.IMPORT_DIR = tmp_path
    client.force_login(other_opd_user)  # DISKAN: the workbook's group is DISTAN's
    html = upload(client, FIXTURES / name).content.decode()
    assert "<td>Kelompok</td><td>2</td><td>Kode OPD</td><td>Anda hanya dapat mengimpor kelompok OPD Anda sendiri.</td>" in html
    assert "<td>Keluarga</td><td>2</td><td>Kode Kelompok</td><td>Kelompok ini ada di lembar Kelompok baris 2, yang juga " \
           "bermasalah: perbaiki baris itu dulu.</td>" in html
    copy = download(client, html)
    assert copy.sheetnames[:3] == ["Kesalahan", "Kelompok", "Keluarga"]
    sheet = copy["Keluarga"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "Kesalahan" and "yang juga bermasalah" in sheet.cell(row=2, column=len(header)).value
    for column in ("No KK", "NIK Kepala Keluarga", "Kode Kelurahan", "Kode Kelompok"):
        letter = openpyxl.utils.get_column_letter(header.index(column) + 1)
        assert column_format(sheet, header.index(column) + 1) == "@", column  # what is typed there stays text
        assert sheet[f"{letter}2"].number_format == "@" and isinstance(sheet[f"{letter}2"].value, str)
    assert column_format(sheet, header.index("Jumlah Jiwa") + 1) != "@"  # a number
    assert sheet["A2"].value in LO_KKS


# Trap 1: KK and NIK that became numbers -------------------------------------------------------


def families_as_numbers(count: int) -> list[list]:
    """``count`` Keluarga rows whose KK and NIK a spreadsheet program turned into numbers."""
    rows = []
    for n in range(count):
        kk, nik = f"7373010502{n:06d}", f"7373015506{n:06d}"
        rows.append([float(kk[:15] + "0"), float(nik[:15] + "0"), f"Keluarga {n}", "73.73.01.1001", "Jl. A", 4, "PIL",
                     "IMP-01", "2024-03-05", None])
    return rows


@pytest.mark.django_db
def test_a_whole_kk_column_stored_as_numbers_gets_one_line_per_column_then_its_rows(client, dppkb_user, tmp_path, settings):
    settings.IMPORT_DIR = tmp_path
    path = build(tmp_path / "angka.xlsx", families=families_as_numbers(3912), incomes=())
    status, _out, err = run(path)
    lines = err.splitlines()
    assert status == 1 and counts() == (0, 0, 0, 0)
    assert lines[0].startswith(
        "Kolom No KK di lembar Keluarga tersimpan sebagai angka di 3.912 baris (baris 2 sampai 3913). "
        "Program lembar kerja (Excel, LibreOffice) hanya menyimpan 15 digit sebuah angka")
    assert "buka lagi CSV itu dan pilih Teks untuk kolom ini" in lines[0] and "Atau tempel datanya ke templat kosong" in lines[0]
    assert lines[1].startswith("Kolom NIK Kepala Keluarga di lembar Keluarga tersimpan "
                               "sebagai angka di 3.912 baris")
    assert lines[2] == ("Keluarga baris 2, No KK: Nomor KK tersimpan sebagai angka: digit terakhirnya mungkin sudah "
                        "berubah (lihat catatan untuk seluruh kolom).")
    assert sum("Kolom No KK di lembar" in line for line in lines) == 1
    client.force_login(dppkb_user)
    html = client.post("/impor/", {"file": SimpleUploadedFile("angka.xlsx", path.read_bytes()), "dry_run": "on"}, follow=True).content.decode()
    assert html.count("Kolom No KK di lembar Keluarga tersimpan sebagai angka di 3.912 baris") == 1
    assert "Satu penyebab untuk banyak baris" in html
    assert "Menampilkan 1.000 masalah pertama dari 7.824." in html
    summary = download(client, html)["Kesalahan"]
    messages = [row[3] for row in summary.iter_rows(min_row=1, values_only=True)]
    assert summary["A1"].value == "Menampilkan 1.000 masalah pertama dari 7.824." and messages[1] == "Pesan"
    assert any(m and m.startswith("Kolom No KK di lembar Keluarga tersimpan sebagai angka") for m in messages[:5])


@pytest.mark.django_db
def test_libreoffices_csv_numbers_and_dates_are_named_row_by_row():
    """The CSV Calc opened with an English locale: numbers for KK and NIK (their 16th digit
    gone), 05/02/2021 a May date (nothing can tell), 13/02/2021 still text (read day first)."""
    read = read_workbook(FIXTURES / "keluarga-csv-libreoffice.xlsx")
    families = read.rows["Keluarga"]
    assert families[0][1]["No KK"] == 7373010502210000.0 and families[0][1]["Tanggal Bergabung"] == "13/02/2021"
    assert families[1][1]["Tanggal Bergabung"] == dt.date(2021, 5, 2)
    group = dict(zip(GROUP_HEADER, ["KWT-CSV", *GROUP[1:]]))
    plan = plan_import(Sheets(rows={"Kelompok": [(2, group)], "Keluarga": families, "Pendapatan": []}))
    assert [p.column for p in plan.summaries] == ["No KK", "NIK Kepala Keluarga"]
    assert plan.summaries[0].message.startswith(
        "Kolom No KK di lembar Keluarga tersimpan sebagai angka di 3 baris (baris 2 sampai 4). ")
    assert {(p.row, p.column) for p in plan.errors} == {(row, column) for row in (2, 3, 4)
                                                         for column in ("No KK", "NIK Kepala Keluarga")}
    fixed = [(number, {**values, "No KK": kk, "NIK Kepala Keluarga": f"737301550680000{i}"})
             for i, ((number, values), kk) in enumerate(zip(families, sorted(LO_KKS)), start=1)]
    plan = plan_import(Sheets(rows={"Kelompok": [(2, group)], "Keluarga": fixed, "Pendapatan": []}))
    assert plan.error_count == 0 and not plan.summaries
    joined = {kk: joined for kk, _code, joined, _left in plan.memberships_new}
    assert joined == {"7373010502210001": dt.date(2021, 2, 13), "7373010502210002": dt.date(2021, 5, 2),
                      "7373010502210003": dt.date(2021, 2, 5)}


# Trap 2: a row that fails because another row failed ----------------------------------------


@pytest.mark.django_db
def test_a_row_whose_family_row_failed_names_that_row(wb):
    families = [FAMILIES[0][:8] + ["kemarin", None], FAMILIES[1]]
    status, _out, err = run(wb(families=families))
    assert status == 1 and counts() == (0, 0, 0, 0)
    assert "Keluarga baris 2, Tanggal Bergabung: Tulis tanggal sebagai sel tanggal" in err
    assert ("Pendapatan baris 2, No KK: Keluarga ini ada di lembar Keluarga baris 2, yang juga bermasalah: perbaiki "
            "baris itu dulu.") in err
    assert "KK tidak dikenal" not in err
    assert "Pendapatan baris 4" not in err  # KK2's own row is fine


@pytest.mark.django_db
def test_a_family_row_whose_group_row_failed_names_that_row(wb):
    status, _out, err = run(wb(groups=[GROUP[:3] + ["DINAS-X"] + GROUP[4:]], incomes=()))
    assert status == 1
    assert ("Keluarga baris 2, Kode Kelompok: Kelompok ini ada di lembar Kelompok baris 2, yang juga bermasalah: "
            "perbaiki baris itu dulu.") in err
    assert "Kelompok tidak dikenal" not in err


@pytest.mark.django_db
def test_a_kk_stored_as_a_number_on_keluarga_still_names_the_row_for_its_incomes(wb):
    families = [[float(KK1), *FAMILIES[0][1:]], FAMILIES[1]]  # 7373010502210001 fits a float exactly
    status, _out, err = run(wb(families=families))
    assert "Pendapatan baris 2, No KK: Keluarga ini ada di lembar Keluarga baris 2, yang juga bermasalah" in err


@pytest.fixture
def wb(tmp_path):
    return lambda **kwargs: build(tmp_path / "impor.xlsx", **kwargs)


# Trap 5: empty required cells --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("index, column", [(3, "Kode Kelurahan"), (5, "Jumlah Jiwa"), (6, "Metode KB"),
                                           (7, "Kode Kelompok"), (8, "Tanggal Bergabung")])
def test_an_empty_required_family_cell_says_required(wb, index, column):
    family = list(FAMILIES[0])
    family[index] = None
    err = run(wb(families=[family], incomes=()))[2]
    assert f"Keluarga baris 2, {column}: Wajib diisi." in err.splitlines()
    assert "tidak dikenal" not in err and "bilangan bulat" not in err


@pytest.mark.django_db
@pytest.mark.parametrize("index, column", [(0, "Kode Kelompok"), (2, "Jenis Kelompok"), (3, "Kode OPD"), (4, "Kode Kelurahan")])
def test_an_empty_required_group_cell_says_required(wb, index, column):
    group = list(GROUP)
    group[index] = None
    err = run(wb(groups=[group], families=(), incomes=()))[2]
    assert f"Kelompok baris 2, {column}: Wajib diisi." in err.splitlines()
    assert "tidak dikenal" not in err


@pytest.mark.django_db
def test_an_empty_period_says_required(wb):
    err = run(wb(incomes=[[KK1, None, 1_000_000]]))[2]
    assert "Pendapatan baris 2, Periode: Wajib diisi." in err.splitlines()


# Trap 7: dates written as text, day first ----------------------------------------------------------


@pytest.mark.django_db
def test_text_dates_are_read_day_first_or_year_first(wb):
    families = [FAMILIES[0][:8] + ["13/02/2021", "5-2-2022"], FAMILIES[1][:8] + ["2021/02/13", "05.03.2023"]]
    status, _out, err = run(wb(families=families, incomes=()))
    assert status == 0, err
    assert set(Membership.objects.values_list("household__kk_number", "joined_on", "left_on")) == {
        (KK1, dt.date(2021, 2, 13), dt.date(2022, 2, 5)), (KK2, dt.date(2021, 2, 13), dt.date(2023, 3, 5))}


@pytest.mark.django_db
def test_the_template_explains_dates_and_keeps_its_lists_on_every_row(tmp_path):
    from households.xlsx import write_template

    with open(tmp_path / "t.xlsx", "wb") as f:
        write_template(f)
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    guide = " ".join(str(c) for row in book["Petunjuk"].values for c in row if c)
    assert "Paling aman ditulis sebagai teks TTTT-BB-HH" in guide and "mengubah 05/02/2021 menjadi tanggal 2 Mei 2021" in guide
    ranges = {str(v.sqref) for v in book["Keluarga"].data_validations.dataValidation}
    assert ranges == {"G2:G1048576"}  # Metode KB, the whole column
    assert {str(v.sqref) for v in book["Kelompok"].data_validations.dataValidation} == {"C2:C1048576"}


def test_libreoffice_keeps_the_lists_on_every_row_of_an_ods_and_1000_rows_of_an_xlsx():
    """What the Petunjuk sheet tells clerks about the drop-down lists, as Calc 7.4 saved the
    template: the .ods keeps Metode KB's list on every row, the .xlsx down to row 1,001."""
    with zipfile.ZipFile(FIXTURES / "templat.ods") as archive:
        content = archive.read("content.xml").decode()
    table = content[content.index('table:name="Keluarga"'):]
    table = table[:table.index("</table:table>")]
    rows = re.findall(r"<table:table-row([^>]*)>(.*?)</table:table-row>", table, re.S)
    repeats = [int(re.search(r'number-rows-repeated="(\d+)"', attributes)[1]) if "repeated" in attributes else 1
               for attributes, cells in rows if "content-validation-name" in cells]
    with_list = sum(repeats)
    assert with_list == 1_048_575  # every row below the header
    book = openpyxl.load_workbook(FIXTURES / "templat-libreoffice.xlsx")
    assert {str(v.sqref) for v in book["Keluarga"].data_validations.dataValidation} == {"G2:G1001"}
