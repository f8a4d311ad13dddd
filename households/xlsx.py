"""Workbooks the import page hands out: the blank template, the uploaded workbook back with
its problems, and the user's data in the import layout (to edit and import again)."""

import datetime as dt
from collections import defaultdict

import openpyxl
import xlsxwriter

from groups.models import GroupType, Kelurahan, Opd
from households.models import IncomeReading, KbMethod, Membership
from households.workbook import SHEETS, Problem

TEXT_COLUMNS = {"No KK", "NIK Kepala Keluarga", "Kode Kelompok", "Kode Kelurahan", "Kode OPD", "Periode"}
DATE_COLUMNS = {"Tanggal Dibentuk", "Tanggal Bergabung", "Tanggal Keluar"}
EXAMPLES = {
    "Kelompok": ["KWT-0001", "KWT Melati", "KWT", "DISTAN", "73.73.01.1001", "2021-02-05", "sayur organik", ""],
    "Keluarga": ["7373010502210001", "7373015506800001", "Sitti Aminah", "73.73.01.1001", "Jl. Andi Djemma 5", 4,
                 "SUNTIK", "KWT-0001", "2021-03-01", ""],
    "Pendapatan": ["7373010502210001", "2021-02", 1250000],
}
ERROR_HEADER = "Kesalahan"


def _book(out):
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_formulas": False})
    formats = {
        "head": book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1}),
        "text": book.add_format({"num_format": "@"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "bold": book.add_format({"bold": True}),
        "error": book.add_format({"font_color": "#C00000", "text_wrap": True}),
    }
    return book, formats


def _data_sheet(book, formats, name):
    sheet = book.add_worksheet(name)
    columns = [c.name for c in SHEETS[name]]
    for index, column in enumerate(columns):
        width = 22 if column in TEXT_COLUMNS or column in DATE_COLUMNS else 18
        sheet.set_column(index, index, width, formats["text"] if column in TEXT_COLUMNS else None)
    sheet.write_row(0, 0, columns, formats["head"])
    sheet.freeze_panes(1, 0)
    sheet.set_paper(9)  # A4 landscape, one page wide, the header on every page
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    return sheet, columns


def write_template(out) -> None:
    """Blank data sheets (KK and NIK columns formatted as text, so Excel keeps all 16 digits)
    and a Petunjuk sheet with an example row per sheet and the allowed values."""
    book, formats = _book(out)
    for name in SHEETS:
        sheet, columns = _data_sheet(book, formats, name)
        if "Metode KB" in columns:
            sheet.data_validation(1, columns.index("Metode KB"), 50_000, columns.index("Metode KB"),
                                  {"validate": "list", "source": KbMethod.values})
        if "Jenis Kelompok" in columns:
            codes = list(GroupType.objects.order_by("code").values_list("code", flat=True))
            sheet.data_validation(1, columns.index("Jenis Kelompok"), 50_000, columns.index("Jenis Kelompok"),
                                  {"validate": "list", "source": codes})
    guide = book.add_worksheet("Petunjuk")
    guide.set_landscape()
    guide.fit_to_pages(1, 0)
    guide.set_column(0, 0, 26)
    guide.set_column(1, 12, 20)
    lines = [
        ("Cara mengisi", "Isi lembar Kelompok, Keluarga dan Pendapatan mulai baris 2. Baris judul jangan diubah."),
        ("", "No KK dan NIK: 16 angka, ketik di kolom berformat Teks. Tanggal: sel tanggal atau teks TTTT-BB-HH."),
        ("", "Periode: TTTT-BB. Pendapatan: Rupiah per bulan, bilangan bulat. Tanggal Keluar dan Tim Kerja boleh kosong."),
        ("", "Satu baris Keluarga = satu keanggotaan; KK yang sama boleh muncul di beberapa kelompok."),
    ]
    row = 0
    for label, text in lines:
        guide.write_string(row, 0, label, formats["bold"])
        guide.write_string(row, 1, text)
        row += 1
    for name, example in EXAMPLES.items():
        row += 1
        guide.write_string(row, 0, f"Contoh baris {name}", formats["bold"])
        guide.write_row(row, 1, [c.name for c in SHEETS[name]], formats["head"])
        guide.write_row(row + 1, 1, [str(v) for v in example])
        row += 2
    allowed = [
        ("Jenis Kelompok", GroupType.objects.order_by("code").values_list("code", "name")),
        ("Kode OPD", Opd.objects.filter(is_active=True).order_by("code").values_list("code", "name")),
        ("Metode KB", [(value, str(label)) for value, label in KbMethod.choices]),
        ("Kode Kelurahan", Kelurahan.objects.order_by("code").values_list("code", "name")),
    ]
    for label, values in allowed:
        row += 1
        guide.write_string(row, 0, f"Nilai {label}", formats["bold"])
        for code, name in values:
            guide.write_string(row, 1, code)
            guide.write_string(row, 2, name)
            row += 1
    book.close()


def write_error_copy(source, problems: list[Problem], out) -> None:
    """The uploaded workbook with a Kesalahan column on every row that has problems, after
    a first sheet listing them all."""
    book, formats = _book(out)
    by_row = defaultdict(list)
    for problem in problems:
        by_row[(problem.sheet, problem.row)].append(problem.line())
    summary = book.add_worksheet(ERROR_HEADER)
    summary.set_column(0, 0, 14)
    summary.set_column(1, 1, 8)
    summary.set_column(2, 2, 24)
    summary.set_column(3, 3, 90)
    summary.write_row(0, 0, ["Lembar", "Baris", "Kolom", "Pesan"], formats["head"])
    for index, problem in enumerate(problems, start=1):
        summary.write_row(index, 0, [problem.sheet, problem.row or "", problem.column,
                                     ("Peringatan: " if problem.warning else "") + problem.message])
    original = openpyxl.load_workbook(source, read_only=True, data_only=False)
    try:
        for title in original.sheetnames:
            sheet = book.add_worksheet(title[:31] if title != ERROR_HEADER else f"{title} (asli)")
            width = 0
            for number, values in enumerate(original[title].iter_rows(values_only=True), start=1):
                width = max(width, len(values))
                for column, value in enumerate(values):
                    _write_cell(sheet, number - 1, column, value, formats)
                messages = by_row.get((title, number)) or (by_row.get((title, 0)) if number == 1 else None)
                if number == 1:
                    sheet.write_string(0, max(width, 1), ERROR_HEADER, formats["head"])
                elif messages:
                    sheet.write_string(number - 1, max(width, 1), "\n".join(messages), formats["error"])
            sheet.set_column(max(width, 1), max(width, 1), 60)
    finally:
        original.close()
    book.close()


def _write_cell(sheet, row, column, value, formats):
    if value is None:
        return
    if isinstance(value, dt.datetime):
        sheet.write_datetime(row, column, value, formats["date"])
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), formats["date"])
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, str(value))


MAX_DATA_ROWS = 1_048_575


class TooManyRows(Exception):
    pass


def write_data(out, *, groups, since: dt.date) -> None:
    """The groups, their memberships and incomes since a month, in the import layout: edit
    it in a spreadsheet and import it again. Streamed; refuses more rows than Excel holds."""
    memberships = Membership.objects.filter(group__in=groups)
    readings = IncomeReading.objects.filter(household__memberships__group__in=groups, period__gte=since).distinct()
    if memberships.count() > MAX_DATA_ROWS or readings.count() > MAX_DATA_ROWS:
        raise TooManyRows
    book, formats = _book(out)
    sheet, _columns = _data_sheet(book, formats, "Kelompok")
    rows = groups.order_by("code").values_list(
        "code", "name", "group_type__code", "team__opd__code", "kelurahan__code", "formed_on", "business", "team__name", "team__is_default"
    )
    for number, (code, name, kind, opd, kel, formed, business, team, is_default) in enumerate(rows.iterator(), start=1):
        for column, value in enumerate([code, name, kind, opd, kel, formed, business, "" if is_default else team]):
            _write_cell(sheet, number, column, value, formats)
    sheet, _columns = _data_sheet(book, formats, "Keluarga")
    rows = memberships.order_by("group__code", "household__head_name", "household_id").values_list(
        "household__kk_number", "household__head_nik", "household__head_name", "household__kelurahan__code",
        "household__address", "household__family_size", "household__kb_method", "group__code", "joined_on", "left_on",
    )
    for number, values in enumerate(rows.iterator(chunk_size=5_000), start=1):
        for column, value in enumerate(values):
            _write_cell(sheet, number, column, value, formats)
    sheet, _columns = _data_sheet(book, formats, "Pendapatan")
    rows = readings.order_by("household__kk_number", "period").values_list("household__kk_number", "period", "amount")
    for number, (kk, period, amount) in enumerate(rows.iterator(chunk_size=5_000), start=1):
        _write_cell(sheet, number, 0, kk, formats)
        _write_cell(sheet, number, 1, f"{period:%Y-%m}", formats)
        _write_cell(sheet, number, 2, amount, formats)
    book.close()
