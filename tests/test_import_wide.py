"""Incomes in the wide form (issue 21, SPEC section 5): No KK, then a column per month, in every
sheet whose name starts with Pendapatan; the same rules as the long form."""

import datetime as dt
import io

import openpyxl
import pytest
import xlsxwriter

from households import xlsx_limits
from households.models import IncomeReading
from households.workbook import read_workbook
from households.xlsx import write_error_copy
from households.xlsx_limits import WorkbookError
from tests.factories import make_reading
from tests.jobs_util import followed
from tests.test_import import FAMILIES, FAMILY_HEADER, GROUP, GROUP_HEADER, INCOME_HEADER, KK1, KK2, counts, run
from uppka.months import month_before, this_month

EXPECTED = {(KK1, dt.date(2024, 2, 1), 1_250_000), (KK1, dt.date(2024, 4, 1), 0), (KK2, dt.date(2024, 2, 1), 900_000),
            (KK2, dt.date(2025, 1, 1), 1_000_000)}
LONG = [[KK1, "2024-02", "1.250.000"], [KK1, dt.date(2024, 4, 1), 0], [KK2, "2024-02", 900_000], [KK2, "2025-01", 1_000_000]]
WIDE_2024 = [["No KK", "2024-02", "2024-03", dt.datetime(2024, 4, 1)],  # a date cell heads a month too
             [KK1, "1.250.000", None, 0],  # empty: no reading; 0: a reading of 0
             [KK2, 900_000, "", None]]
WIDE_2025 = [["No KK", "Catatan", "2025-01"], [KK2, "pindah rumah", 1_000_000]]  # a column that is no month is ignored


def book(path, incomes: dict):
    """A workbook with the group, the two families and ``incomes`` (sheet title → rows, the header first)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in {"Kelompok": [GROUP_HEADER, GROUP], "Keluarga": [FAMILY_HEADER, *FAMILIES], **incomes}.items():
        sheet = workbook.create_sheet(title)
        for values in rows:
            sheet.append(list(values))
    workbook.save(path)
    return path


def readings():
    return set(IncomeReading.objects.values_list("household__kk_number", "period", "amount"))


def errors_of(path):
    status, _out, err = run(path)
    assert status == 1
    assert counts() == (0, 0, 0, 0)  # all or nothing
    return err


@pytest.mark.django_db
@pytest.mark.parametrize("incomes", [
    {"Pendapatan": [INCOME_HEADER, *LONG]},
    {"Pendapatan 2024": WIDE_2024, "Pendapatan 2025": WIDE_2025},
    {"Pendapatan 2024": WIDE_2024, "Pendapatan lama": [INCOME_HEADER, LONG[3]]},  # mixed forms
], ids=["long", "wide", "mixed"])
def test_each_form_imports_to_the_same_database_and_again_changes_nothing(tmp_path, incomes):
    path = book(tmp_path / "impor.xlsx", incomes)
    status, out, err = run(path)
    assert status == 0, err
    assert readings() == EXPECTED
    status, out, err = run(path)
    assert status == 0, err
    assert "0 pendapatan baru, 0 pendapatan diubah" in out
    assert readings() == EXPECTED


@pytest.mark.django_db
def test_wide_sheet_updates_readings_already_recorded(tmp_path):
    run(book(tmp_path / "a.xlsx", {"Pendapatan": [INCOME_HEADER, *LONG]}))
    changed = [row[:] for row in WIDE_2024]
    changed[2][1] = 950_000
    status, out, err = run(book(tmp_path / "b.xlsx", {"Pendapatan 2024": changed}))
    assert status == 0, err
    assert "0 pendapatan baru, 1 pendapatan diubah" in out
    assert IncomeReading.objects.get(household__kk_number=KK2, period=dt.date(2024, 2, 1)).amount == 950_000


@pytest.mark.django_db
@pytest.mark.parametrize("incomes, expected", [
    ({"Pendapatan 2024": [["No KK", "2024-02", "2024-04"], [KK1, "sejuta", 5]]},
     "Pendapatan 2024 baris 2, kolom 2024-02: Jumlah hanya berisi angka"),
    ({"Pendapatan 2024": [["No KK", "2024-02"], [KK1, -5]]}, "Pendapatan 2024 baris 2, kolom 2024-02: Pendapatan tidak boleh negatif"),
    ({"Pendapatan": [["No KK", "2999-01"], [KK1, 5]]}, "Pendapatan baris 2, kolom 2999-01: Periode tidak boleh di masa depan"),
    ({"Pendapatan": [["No KK", "2024-02"], [None, 5]]}, "Pendapatan baris 2, No KK: Wajib diisi"),
    ({"Pendapatan": [["No KK", "2024-02"], ["7373019999999999", 5]]}, "Pendapatan baris 2, No KK: KK tidak dikenal"),
    ({"Pendapatan": [["No KK", "2024-02"], [KK1, 5], [KK1, 6]]},
     "Pendapatan baris 3, kolom 2024-02: Periode ini sudah diisi di baris 2"),
    ({"Pendapatan": [["No KK", "2024-13"], [KK1, 5]]}, "Pendapatan baris 1, kolom 2024-13: Judul kolom ini bukan bulan"),
    ({"Pendapatan": [["No KK", "Feb 2024"], [KK1, 5]]}, "Pendapatan baris 1, Feb 2024: Judul kolom ini bukan bulan"),
    ({"Pendapatan": [["No KK", "2024-02", dt.date(2024, 2, 1)], [KK1, 5, 5]]},
     "Pendapatan baris 1, kolom 2024-02: Bulan ini sudah menjadi judul kolom B"),
    ({"Pendapatan": [["No KK", "Catatan"], [KK1, "x"]]}, "Pendapatan baris 1: Tidak ada kolom bulan"),
    ({"Pendapatan": [["KK", "2024-02"], [KK1, 5]]}, "Pendapatan baris 1, No KK: Kolom ini tidak ada di baris judul"),
    ({"Pendapatan 2024": [["No KK", "2024-02"], [KK1, 5]], "Pendapatan 2024 (2)": [["No KK", "2024-02"], [KK1, 5]]},
     "Pendapatan 2024 (2) baris 2, kolom 2024-02: Keluarga dan bulan ini sudah ada di lembar Pendapatan 2024 baris 2"),
    ({"Pendapatan 2024": [["No KK", "2024-02"], [KK1, 5]], "Pendapatan": [INCOME_HEADER, [KK1, "2024-02", 5]]},
     "Pendapatan baris 2, Periode: Keluarga dan bulan ini sudah ada di lembar Pendapatan 2024 baris 2"),
    ({"Catatan": [["No KK"]]}, "Pendapatan: Lembar ini tidak ada di buku kerja"),
])
def test_every_problem_names_sheet_row_and_column(tmp_path, incomes, expected):
    assert expected in errors_of(book(tmp_path / "salah.xlsx", incomes))


@pytest.mark.django_db
def test_every_bad_cell_of_every_sheet_is_reported_at_once(tmp_path):
    err = errors_of(book(tmp_path / "salah.xlsx", {
        "Pendapatan 2024": [["No KK", "2024-02", "2024-03"], [KK1, "x", "y"], [KK2, 5, "z"]],
        "Pendapatan 2025": [["No KK", "2025-01"], [KK2, "w"]],
    }))
    for where in ("Pendapatan 2024 baris 2, kolom 2024-02", "Pendapatan 2024 baris 2, kolom 2024-03",
                  "Pendapatan 2024 baris 3, kolom 2024-03", "Pendapatan 2025 baris 2, kolom 2025-01"):
        assert where in err


@pytest.mark.django_db
def test_the_error_copy_shades_the_bad_cell_of_a_wide_sheet(tmp_path):
    path = book(tmp_path / "salah.xlsx", {"Pendapatan 2024": [["No KK", "2024-02", "2024-03"], [KK1, 5, "sejuta"]]})
    from households.importer import plan_import

    plan = plan_import(read_workbook(path))
    assert [(p.sheet, p.row, p.column) for p in plan.errors] == [("Pendapatan 2024", 2, "2024-03")]
    out = io.BytesIO()
    write_error_copy(path, plan.problems, out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Pendapatan 2024"]
    assert sheet["C2"].value == "sejuta" and sheet["C2"].fill.fgColor.rgb.endswith("F4CCCC")
    assert sheet["B2"].fill.fgColor.rgb in ("00000000", None)
    assert "Pendapatan 2024 baris 2, kolom 2024-03" in sheet["D2"].value


@pytest.mark.django_db
def test_data_download_is_wide_one_sheet_a_year_and_imports_back_as_a_no_op(client, dppkb_user, member_a, tmp_path):
    last, now = month_before(this_month()), this_month()
    year_ago = dt.date(now.year - 1, now.month, 1)  # the first month the download holds
    make_reading(member_a.household, last, 1_000_000)
    make_reading(member_a.household, year_ago, 0)
    client.force_login(dppkb_user)
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"".join(followed(client.get("/impor/data.xlsx")).streaming_content))
    workbook = openpyxl.load_workbook(path)
    assert [t for t in workbook.sheetnames if t.startswith("Pendapatan")] == [
        f"Pendapatan {year}" for year in sorted({year_ago.year, last.year})]
    sheet = workbook[f"Pendapatan {year_ago.year}"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "No KK" and f"{year_ago:%Y-%m}" in header
    assert sheet.cell(row=2, column=header.index(f"{year_ago:%Y-%m}") + 1).value == 0  # a reading of 0 is kept
    before = readings()
    status, out, err = run(path)
    assert status == 0, err
    assert "0 pendapatan baru, 0 pendapatan diubah" in out
    assert readings() == before


@pytest.mark.django_db
def test_template_offers_the_wide_form_with_the_next_twelve_months(client, dppkb_user):
    client.force_login(dppkb_user)
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/impor/templat.xlsx").streaming_content)))
    header = [c.value for c in workbook["Pendapatan"][1]]
    first = this_month()
    assert header[0] == "No KK" and len(header) == 13 and header[1] == f"{first:%Y-%m}"
    guide = " ".join(str(c) for row in workbook["Petunjuk"].values for c in row if c)
    assert "satu kolom per bulan" in guide


# Limits: a city's wide sheet passes, a hostile one does not --------------------------------


def test_limits_let_a_hundred_thousand_families_by_two_years_through():
    families, months = 100_000, 24
    assert families * (months + 1) <= xlsx_limits.MAX_SHEET_CELLS  # one wide sheet of 25 columns
    keluarga = families * 10
    incomes = families * months + families * 3  # the data download: a sheet per year, No KK on each
    assert keluarga <= xlsx_limits.MAX_RECORD_VALUES
    assert keluarga + incomes <= xlsx_limits.MAX_VALUES
    assert families * 10 + families * (months + 3) <= xlsx_limits.MAX_CELLS


def wide(path, rows, columns, *, title="Pendapatan"):
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name, header in (("Kelompok", GROUP_HEADER), ("Keluarga", FAMILY_HEADER)):
        workbook.add_worksheet(name).write_row(0, 0, header)
    sheet = workbook.add_worksheet(title)
    sheet.write_row(0, 0, ["No KK", *(f"{2000 + n // 12}-{n % 12 + 1:02d}" for n in range(columns))])
    for r in range(1, rows + 1):
        sheet.write_string(r, 0, f"{r:016d}")
        for c in range(1, columns + 1):
            sheet.write_number(r, c, 1000)
    workbook.close()
    return path


def test_a_wide_sheet_of_thousands_of_columns_beyond_the_rectangle_is_refused(tmp_path, monkeypatch):
    path = wide(tmp_path / "lebar.xlsx", 40, 5_000)  # 200,000 cells
    read_workbook(path)  # within the real limits
    monkeypatch.setattr(xlsx_limits, "MAX_SHEET_CELLS", 100_000)
    with pytest.raises(WorkbookError, match="Pendapatan"):
        read_workbook(path)


def test_values_beyond_the_workbook_limit_are_refused_in_wide_sheets(tmp_path, monkeypatch):
    path = wide(tmp_path / "lebar.xlsx", 100, 30)
    monkeypatch.setattr(xlsx_limits, "MAX_RECORD_VALUES", 50)  # the Pendapatan sheet counts only in MAX_VALUES
    read_workbook(path)
    monkeypatch.setattr(xlsx_limits, "MAX_VALUES", 2_000)
    with pytest.raises(WorkbookError):
        read_workbook(path)


def test_values_outside_the_pendapatan_sheets_keep_their_lower_limit(tmp_path, monkeypatch):
    path = wide(tmp_path / "lebar.xlsx", 100, 30, title="Catatan")  # not an income sheet: read into dicts
    monkeypatch.setattr(xlsx_limits, "MAX_RECORD_VALUES", 2_000)
    with pytest.raises(WorkbookError):
        read_workbook(path)


def test_a_value_far_out_in_a_wide_sheet_is_refused(tmp_path):
    workbook = xlsxwriter.Workbook(str(tmp_path / "jauh.xlsx"))
    sheet = workbook.add_worksheet("Pendapatan 2025")
    sheet.write_row(0, 0, ["No KK", "2025-01"])
    sheet.write_number(300_000, 16_000, 1)  # a rectangle of 4.8 billion cells
    workbook.close()
    with pytest.raises(WorkbookError, match="Pendapatan 2025"):
        read_workbook(tmp_path / "jauh.xlsx")


@pytest.mark.django_db
def test_read_plan_and_apply_report_progress(tmp_path):
    from households.importer import apply_plan, plan_import

    heard = []
    path = book(tmp_path / "impor.xlsx", {"Pendapatan 2024": WIDE_2024, "Pendapatan 2025": WIDE_2025})
    sheets = read_workbook(path, progress=lambda *args: heard.append(args))
    plan = plan_import(sheets, progress=lambda *args: heard.append(args))
    apply_plan(plan, progress=lambda *args: heard.append(args))
    assert ("read", 3, None) in heard  # after the Kelompok and Keluarga sheets: 1 + 2 rows
    assert [args for args in heard if args[0] == "check"][-1] == ("check", 8, 8)
    assert heard[-1] == ("write", 4, 4)
    assert readings() == EXPECTED


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["0000-05", "1200-01", dt.date(1899, 12, 1)])
@pytest.mark.parametrize("form", ["wide", "long"])
def test_a_month_before_1900_is_no_month(tmp_path, month, form):
    """A header or a Periode of year 0 would be saved, and break every page of that family."""
    path = tmp_path / "tahun.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Kelompok"
    book["Kelompok"].append(GROUP_HEADER)
    book["Kelompok"].append(GROUP)
    families = book.create_sheet("Keluarga")
    families.append(FAMILY_HEADER)
    families.append(FAMILIES[0])
    incomes = book.create_sheet("Pendapatan")
    if form == "wide":
        incomes.append(["No KK", month])
        incomes.append([KK1, 123_456])
    else:
        incomes.append(["No KK", "Periode", "Pendapatan"])
        incomes.append([KK1, month, 654_321])
    book.save(path)
    status, _out, err = run(path)
    where = "Pendapatan baris 1" if form == "wide" else "Pendapatan baris 2, Periode"
    assert status == 1 and where in err, err
    assert counts() == (0, 0, 0, 0)
