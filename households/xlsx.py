"""Workbooks the import page hands out: the blank template, the uploaded workbook back with
its problems, and the user's data in the import layout (to edit and import again)."""

import datetime as dt
import re
from collections import defaultdict
from contextlib import contextmanager

from django.utils.translation import gettext as _

from groups.models import GroupType, Kelurahan, Opd
from households.models import (
    CAPITAL_SOURCES, CHANNELS, BusinessField, GroupProfile, IncomeReading, KbMethod, KbReason, KbStatus, Meeting, MeetingMode, Membership,
)
from households.workbook import MONTH_HEADER, SHEETS, Problem, calamine_errors, calamine_rows, normalize_header, open_calamine
from households.xlsx_limits import WorkbookError, check_workbook
from uppka import progress
from uppka.formats import format_number
from uppka.months import this_month
from uppka.scratch import xlsx_workbook

TEXT_COLUMNS = {"No KK", "NIK Kepala Keluarga", "Kode Kelompok", "Kode Kelurahan", "Kode OPD", "Periode",
                "No KK Ketua", "No KK Sekretaris", "No KK Bendahara"}
TEXT_KEYS = {normalize_header(name) for name in TEXT_COLUMNS}
DATE_COLUMNS = {"Tanggal Dibentuk", "Tanggal Bergabung", "Tanggal Keluar", "Tanggal", "Tanggal SK"}
MODE_NAMES = {MeetingMode.TATAP_MUKA: "Tatap Muka", MeetingMode.VIRTUAL: "Virtual"}  # as the Cara column is written
EXAMPLES = {
    "Kelompok": ["KWT-0001", "KWT Melati", "KWT", "DISTAN", "73.73.01.1001", "2021-02-05", "sayur organik", ""],
    "Keluarga": ["7373010502210001", "7373015506800001", "Sitti Aminah", "73.73.01.1001", "Jl. Andi Djemma 5", 4,
                 "SUNTIK", "KWT-0001", "2021-03-01", ""],
    "Pendapatan": ["7373010502210001", 1250000, "", 0],
    "Pertemuan": ["KWT-0001", "2021-03-10", "Tatap Muka", "Pengolahan sayur organik"],
    "Kehadiran": ["KWT-0001", "2021-03-10", "7373010502210001"],
    "Status KB": ["7373010502210001", "2021-03", "TIDAK", "HAMIL"],
    "Data Kelompok": ["2022", "KWT-0001", "12/SK/UPPKA/2021", "2021-02-10", "7373010502210001", "", "", "OLAHAN_PANGAN",
                      "keripik sayur", 2500000, 0, 5000000, 0, 0, 0, "PASAR_LOKAL, ONLINE", 1250000],
}
INCOME_EXAMPLE_HEADER = ["No KK", "2021-02", "2021-03", "2021-04"]
ERROR_HEADER = "Kesalahan"


@contextmanager
def _book(out):
    """A workbook streamed to ``out`` (temporary files in the private scratch folder) and its
    formats; closed when the block ends. An uploaded text is never taken for a formula, and a
    number Excel cannot hold (infinity) becomes an error cell instead of an exception."""
    options = {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_formulas": False,
               "nan_inf_to_errors": True}
    with xlsx_workbook(out, options) as book:
        yield book, {
            "head": book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1}),
            "text": book.add_format({"num_format": "@"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "bold": book.add_format({"bold": True}),
            "error": book.add_format({"font_color": "#C00000", "text_wrap": True}),
            "money": book.add_format({"num_format": "#,##0"}),
            "bad": book.add_format({"bg_color": "#F4CCCC", "num_format": "yyyy-mm-dd"}),
            "bad_text": book.add_format({"bg_color": "#F4CCCC", "num_format": "@"}),
        }


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


def _income_sheet(book, formats, title, months: list[dt.date]):
    """A Pendapatan sheet in the wide form: No KK (as text), then one column per month,
    headed YYYY-MM as text (typed, Excel would turn it into a date; that is read too)."""
    sheet = book.add_worksheet(title)
    sheet.set_column(0, 0, 22, formats["text"])
    sheet.set_column(1, max(len(months), 1), 12, formats["money"])
    sheet.write_string(0, 0, "No KK", formats["head"])
    for index, month in enumerate(months, start=1):
        sheet.write_string(0, index, f"{month:%Y-%m}", formats["head"])
    sheet.freeze_panes(1, 1)
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    return sheet


def _months_from(first: dt.date, count: int) -> list[dt.date]:
    return [dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(count)]


def write_template(out) -> None:
    """Blank data sheets (KK and NIK columns formatted as text, so Excel keeps all 16 digits)
    and a Petunjuk sheet with an example row per sheet and the allowed values. Pendapatan is
    in the wide form, one column per month from this month on for a year."""
    with _book(out) as (book, formats):
        for name in SHEETS:
            if name == "Pendapatan":
                _income_sheet(book, formats, name, _months_from(this_month(), 12))
                continue
            sheet, columns = _data_sheet(book, formats, name)
            codes = list(GroupType.objects.order_by("code").values_list("code", flat=True))
            for column, values in (("Metode KB", KbMethod.values), ("Cara", list(MODE_NAMES.values())),
                                   ("Alasan", KbReason.values), ("Jenis Kelompok", codes)):
                if column in columns:
                    # The whole column: Excel and an .ods keep it so. A LibreOffice save as .xlsx keeps a
                    # list only down to 1,000 rows below the last filled one (Calc 7.4); the import checks
                    # these values anyway and names the allowed ones.
                    sheet.data_validation(1, columns.index(column), LAST_ROW, columns.index(column),
                                          {"validate": "list", "source": values})
        guide = book.add_worksheet("Petunjuk")
        guide.set_landscape()
        guide.fit_to_pages(1, 0)
        guide.set_column(0, 0, 26)
        guide.set_column(1, 12, 20)
        lines = [
            ("Cara mengisi", "Isi lembar Kelompok, Keluarga dan Pendapatan mulai baris 2. Baris judul jangan diubah."),
            ("", "No KK dan NIK: 16 angka, ketik di kolom berformat Teks. Program lembar kerja (Excel, LibreOffice) "
                 "menyimpan angka hanya 15 digit, jadi No KK atau NIK yang menjadi angka bisa kehilangan digit terakhir."),
            ("", "Data dari berkas CSV: buka CSV dengan kolom No KK dan NIK dipilih sebagai Teks di jendela impor, "
                 "atau salin datanya ke templat ini."),
            ("Tanggal", "Paling aman ditulis sebagai teks TTTT-BB-HH (2021-02-13): tidak ada program yang salah membacanya."),
            ("", "Tanggal dengan hari di depan (13/02/2021, 5-2-2021) juga dibaca, bila tetap berupa teks. Tetapi program "
                 "lembar kerja berbahasa Inggris mengubah 05/02/2021 menjadi tanggal 2 Mei 2021 (bulan di depan), dan "
                 "kesalahan itu tidak terlihat lagi oleh aplikasi ini."),
            ("Daftar pilihan", "Kolom Jenis Kelompok, Metode KB, Cara dan Alasan punya daftar pilihan. LibreOffice yang "
                 "menyimpan sebagai .xlsx hanya mempertahankannya sampai 1.000 baris di bawah baris terakhir yang terisi; "
                 "simpan sebagai .ods agar tetap ada di semua baris. Isinya tetap diperiksa saat impor."),
            ("Pendapatan", "Satu baris per keluarga (No KK), satu kolom per bulan berjudul TTTT-BB (2025-03) atau sel "
                           "tanggal. Sel kosong = tidak ada catatan; 0 = pendapatan 0. Rupiah per bulan, bilangan bulat."),
            ("", "Tambah kolom bulan di kanan bila perlu. Semua lembar yang namanya diawali Pendapatan dibaca "
                 "(Pendapatan 2025, Pendapatan 2026, ...); satu KK dan bulan hanya boleh ada di satu lembar."),
            ("", "Bentuk panjang juga bisa: kolom No KK, Periode (TTTT-BB) dan Pendapatan, satu baris per bulan."),
            ("", "Tanggal Keluar dan Tim Kerja boleh kosong."),
            ("", "Satu baris Keluarga = satu keanggotaan; KK yang sama boleh muncul di beberapa kelompok."),
            ("Register bulanan", "Lembar Pertemuan, Kehadiran dan Status KB boleh kosong atau dihapus."),
            ("", "Pertemuan: satu baris per kelompok dan tanggal; Cara: Tatap Muka atau Virtual."),
            ("", "Kehadiran: anggota aktif kelompok pada tanggal pertemuan (di lembar Pertemuan atau sudah tercatat)."),
            ("", "Status KB: satu baris per KK dan periode; Alasan diisi hanya bila Metode KB TIDAK. Metode KB di "
                 "lembar Keluarga harus sama dengan status KB terakhir keluarga itu."),
            ("Data Kelompok", "Boleh kosong atau dihapus. Satu baris per kelompok dan tahun (data per 1 Januari); pengurus "
                              "ditulis dengan No KK anggota kelompok; Modal kosong = 0; Pemasaran: kode dipisah koma."),
        ]
        row = 0
        for label, text in lines:
            guide.write_string(row, 0, label, formats["bold"])
            guide.write_string(row, 1, text)
            row += 1
        for name, example in EXAMPLES.items():
            row += 1
            guide.write_string(row, 0, f"Contoh baris {name}", formats["bold"])
            headers = INCOME_EXAMPLE_HEADER if name == "Pendapatan" else [c.name for c in SHEETS[name]]
            guide.write_row(row, 1, headers, formats["head"])
            guide.write_row(row + 1, 1, [str(v) for v in example])
            row += 2
        allowed = [
            ("Jenis Kelompok", GroupType.objects.order_by("code").values_list("code", "name")),
            ("Kode OPD", Opd.objects.filter(is_active=True).order_by("code").values_list("code", "name")),
            ("Metode KB", [(value, str(label)) for value, label in KbMethod.choices]),
            ("Cara", [(name, str(MeetingMode(mode).label)) for mode, name in MODE_NAMES.items()]),
            ("Alasan", [(value, str(label)) for value, label in KbReason.choices]),
            ("Bidang Usaha", [(value, str(label)) for value, label in BusinessField.choices]),
            ("Pemasaran", [(code, str(label)) for code, _name, label in CHANNELS]),
            ("Kode Kelurahan", Kelurahan.objects.order_by("code").values_list("code", "name")),
        ]
        for label, values in allowed:
            row += 1
            guide.write_string(row, 0, f"Nilai {label}", formats["bold"])
            for code, name in values:
                guide.write_string(row, 1, code)
                guide.write_string(row, 2, name)
                row += 1


def write_error_copy(source, problems: list[Problem], out, *, total: int | None = None,
                     summaries: list[Problem] = ()) -> None:
    """The uploaded workbook (.xlsx, .ods or .xls) as an .xlsx with a Kesalahan column on every
    row that has problems, after a first sheet listing them, led by the ``summaries`` (one line
    per cause shared by a whole column); ``total`` is how many there were when only the first
    were kept. Columns headed like the import's KK, NIK and code columns are formatted as
    text, so that what the user types there keeps every digit.

    The file on disk is checked against the upload limits again (households/xlsx_limits.py),
    then read with calamine, every sheet (ten times faster than openpyxl's streaming reader;
    formulas come back as their cached values). Raises WorkbookError when it cannot be read.
    """
    check_workbook(source)
    with open_calamine(source) as original:
        _write_copy(original, problems, out, total, summaries)


def _write_copy(original, problems, out, total, summaries):
    titles = original.sheet_names
    by_row, by_cell = defaultdict(list), defaultdict(set)
    for problem in problems:
        by_row[(normalize_header(problem.sheet), problem.row)].append(problem.line())
        by_cell[(normalize_header(problem.sheet), problem.row)].add(normalize_header(problem.column))
    with _book(out) as (book, formats):
        _write_problem_list(book, formats, problems, total, summaries)
        for title, name in zip(titles, _sheet_names(titles)):
            copy, written = book.add_worksheet(name), [0]
            try:
                with calamine_errors():
                    sheet = original.get_sheet_by_name(title)
                _copy_sheet(sheet, copy, formats, by_row, normalize_header(title), written, by_cell)
            except WorkbookError:  # a value calamine refuses: the rest of the copy is still worth having
                copy.write_string(written[0], 0, _("This sheet could not be read, so it is not copied here."),
                                  formats["error"])
            sheet = None  # calamine keeps a sheet whole: let it go before the next one


def _write_problem_list(book, formats, problems, total, summaries=()):
    summary = book.add_worksheet(ERROR_HEADER)
    summary.set_column(0, 0, 14)
    summary.set_column(1, 1, 8)
    summary.set_column(2, 2, 24)
    summary.set_column(3, 3, 90)
    top = 0
    if total and total > len(problems):
        summary.write_string(0, 0, _("Showing the first %(shown)s of %(total)s problems.")
                             % {"shown": format_number(len(problems)), "total": format_number(total)}, formats["bold"])
        top = 1
    summary.write_row(top, 0, ["Lembar", "Baris", "Kolom", "Pesan"], formats["head"])
    for line in summaries:  # a cause shared by a whole column, before its rows
        top += 1
        summary.write_row(top, 0, [line.sheet, "", line.column, line.message], formats["error"])
    for index, problem in enumerate(problems, start=top + 1):
        summary.write_row(index, 0, [problem.sheet, problem.row or "", problem.column,
                                     ("Peringatan: " if problem.warning else "") + problem.message])


def _header_key(value) -> str:
    """A header as problems name their column: a month (a date cell, 2025-3) as YYYY-MM."""
    if isinstance(value, dt.date):
        return f"{value:%Y-%m}"
    text = normalize_header(value)
    if match := MONTH_HEADER.fullmatch(text):
        return f"{int(match[1]):04d}-{int(match[2]):02d}"
    return text


def _copy_sheet(sheet, copy, formats, by_row, key, written, by_cell=None):
    """Rows as calamine gives them (from the top of the sheet, from its first used column),
    and the problems of each row in a Kesalahan column after the last, each cell with a
    problem shaded. ``written[0]`` counts the rows copied (calamine converts values row by
    row, and may fail on one)."""
    first_column = sheet.start[1] if sheet.start else 0
    width = sheet.width
    rows, number, text_columns, headers = iter(calamine_rows(sheet)), 0, None, {}
    while True:
        with calamine_errors():  # only calamine's own failures: a full disk is not an unreadable sheet
            values = next(rows, None)
        if values is None:
            break
        number += 1
        if text_columns is None and any(str(v).strip() for v in values):  # the header row
            text_columns = {first_column + i for i, value in enumerate(values) if normalize_header(value) in TEXT_KEYS}
            for column in text_columns:
                copy.set_column(column, column, 22, formats["text"])
            headers = {first_column + i: _header_key(value) for i, value in enumerate(values)}
        marked = (by_cell or {}).get((key, number), ())
        for index, value in enumerate(values):
            column = first_column + index
            text = number > 1 and text_columns is not None and column in text_columns
            if marked and headers.get(column) in marked:
                _write_marked(copy, number - 1, column, value, formats, text=text)
            elif value is not None and value != "":
                _write_cell(copy, number - 1, column, value, formats, text=text)
        if number == 1:
            copy.write_string(0, first_column + max(width, 1), ERROR_HEADER, formats["head"])
        elif messages := by_row.get((key, number)):
            copy.write_string(number - 1, first_column + max(width, 1), "\n".join(messages), formats["error"])
        written[0] = number
    copy.set_column(first_column + max(width, 1), first_column + max(width, 1), 60)


def _write_marked(sheet, row, column, value, formats, *, text):
    """A cell with a problem, shaded (an empty one too: "Required." is about it)."""
    shade = formats["bad_text"] if text else formats["bad"]
    if value is None or value == "":
        sheet.write_blank(row, column, None, shade)
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        sheet.write_datetime(row, column, value, shade)
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, shade)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value, shade)
    else:
        sheet.write_string(row, column, str(value), shade)


def _sheet_names(titles) -> list[str]:
    """Names XlsxWriter accepts for the copies: at most 31 characters, none of []:*?/\\, not
    Kesalahan (that is the list of problems), each different (ignoring case)."""
    taken, names = {ERROR_HEADER.lower()}, []
    for title in titles:
        base = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'")[:31] or "Lembar"
        name, number = base, 1
        if name.lower() == ERROR_HEADER.lower():
            name = f"{base[:24]} (asli)"
        while name.lower() in taken:
            number += 1
            name = f"{base[:31 - len(str(number)) - 3]} ({number})"
        taken.add(name.lower())
        names.append(name)
    return names


def _write_cell(sheet, row, column, value, formats, *, text=False):
    """One value; ``text``: the cell is in a KK, NIK or code column, formatted as text so that
    what is typed over it keeps every digit (a number already there stays a number)."""
    if value is None or value == "":
        return
    if text and not isinstance(value, (dt.date, bool)):
        if isinstance(value, str):
            sheet.write_string(row, column, value, formats["text"])
        else:
            sheet.write_number(row, column, value, formats["text"])
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
LAST_ROW = 1_048_575  # the last row of a sheet, counted from 0


class TooManyRows(Exception):
    pass


def write_data(out, *, groups, since: dt.date) -> None:
    """The groups, their memberships and incomes since a month, their meetings and attendance
    since then and their members' KB histories, in the import layout: edit it in a
    spreadsheet and import it again. Streamed; refuses more rows than Excel holds."""
    memberships = Membership.objects.filter(group__in=groups)
    readings = IncomeReading.objects.filter(household__memberships__group__in=groups, period__gte=since).distinct()
    meetings = Meeting.objects.filter(group__in=groups, held_on__gte=since)
    attendance = Meeting.attendees.through.objects.filter(meeting__in=meetings)
    statuses = KbStatus.objects.filter(household__memberships__group__in=groups).distinct()
    if any(q.count() > MAX_DATA_ROWS for q in (memberships, attendance, statuses)):
        raise TooManyRows
    progress.stage("rows")
    with _book(out) as (book, formats):
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
        for number, values in enumerate(progress.counted(rows.iterator(chunk_size=5_000)), start=1):
            for column, value in enumerate(values):
                _write_cell(sheet, number, column, value, formats)
        _write_incomes(book, formats, readings, since)
        _write_register(book, formats, meetings, attendance, statuses)
        _write_profiles(book, formats, GroupProfile.objects.filter(group__in=groups))


def _write_incomes(book, formats, readings, since: dt.date):
    """The incomes in the wide form, one sheet per year (Pendapatan 2025, …): a row per family,
    a column per month of the year (from ``since`` in its first year), an empty cell for no
    reading. A sheet holds a million families this way; in long form, ~40,000 × 24 months."""
    years = sorted({day.year for day in readings.dates("period", "year")})
    if not years:
        _income_sheet(book, formats, "Pendapatan", _months_from(max(since, this_month().replace(month=1)), 12))
    for year in years:
        first = since if since.year == year else dt.date(year, 1, 1)
        months = _months_from(first, 13 - first.month)
        sheet = _income_sheet(book, formats, f"Pendapatan {year}", months)
        rows = readings.filter(period__year=year).order_by("household__kk_number", "period").values_list(
            "household__kk_number", "period", "amount")
        number, current = 0, None
        for kk, period, amount in progress.counted(rows.iterator(chunk_size=5_000)):
            if kk != current:
                number, current = number + 1, kk
                sheet.write_string(number, 0, kk, formats["text"])
            sheet.write_number(number, period.month - first.month + 1, amount, formats["money"])


def _write_profiles(book, formats, profiles):
    """Each group's data by year (SPEC section 9) in the import layout: officers by KK."""
    sheet, _columns = _data_sheet(book, formats, "Data Kelompok")
    capital = [field for _code, field, _label in CAPITAL_SOURCES]
    rows = profiles.order_by("group__code", "year").values_list(
        "year", "group__code", "sk_number", "sk_date", "chair__kk_number", "secretary__kk_number",
        "treasurer__kk_number", "business_field", "products", *capital, *(field for _c, field, _l in CHANNELS),
        "turnover",
    )
    for number, row in enumerate(progress.counted(rows.iterator(chunk_size=5_000)), start=1):
        head, money, sells, turnover = row[:9], row[9:9 + len(capital)], row[9 + len(capital):-1], row[-1]
        channels = ", ".join(code for (code, _field, _label), on in zip(CHANNELS, sells) if on)
        for column, value in enumerate([*head, *money, channels, turnover]):
            _write_cell(sheet, number, column, value, formats)


def _write_register(book, formats, meetings, attendance, statuses):
    """The sheets of SPEC section 8 in the import layout."""
    sheet, _columns = _data_sheet(book, formats, "Pertemuan")
    rows = meetings.order_by("group__code", "held_on").values_list("group__code", "held_on", "mode", "topic")
    for number, (code, day, mode, topic) in enumerate(progress.counted(rows.iterator(chunk_size=5_000)), start=1):
        for column, value in enumerate([code, day, MODE_NAMES.get(mode, mode), topic]):
            _write_cell(sheet, number, column, value, formats)
    sheet, _columns = _data_sheet(book, formats, "Kehadiran")
    rows = attendance.order_by("meeting__group__code", "meeting__held_on", "household__kk_number").values_list(
        "meeting__group__code", "meeting__held_on", "household__kk_number")
    for number, values in enumerate(progress.counted(rows.iterator(chunk_size=5_000)), start=1):
        for column, value in enumerate(values):
            _write_cell(sheet, number, column, value, formats)
    sheet, _columns = _data_sheet(book, formats, "Status KB")
    rows = statuses.order_by("household__kk_number", "period").values_list("household__kk_number", "period", "method", "reason")
    for number, (kk, period, method, reason) in enumerate(progress.counted(rows.iterator(chunk_size=5_000)), start=1):
        for column, value in enumerate([kk, f"{period:%Y-%m}", method, reason]):
            _write_cell(sheet, number, column, value, formats)
