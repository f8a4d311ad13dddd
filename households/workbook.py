"""Reading the import workbook of SPEC section 5 (sheets Kelompok, Keluarga, Pendapatan) and
the optional register sheets of section 8 (Pertemuan, Kehadiran, Status KB).

Reading and checking never write: ``read_workbook`` turns the file into rows and problems,
``plan_import`` checks every row against the database and the user's scope and works out
what would be created or changed. ``apply_plan`` writes a clean plan in one transaction.
Sheet and column names are a contract with other offices' tools: fixed Indonesian strings.
"""

import datetime as dt
import os
import re
import tempfile
from array import array
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from households.identity import nik_warnings, validate_kk, validate_nik
from households.models import KbMethod, KbReason, MeetingMode
from households.parsing import MAX_AMOUNT, parse_amount
from households.xlsx_limits import MAX_FORMULAS, SheetCheck, check_workbook, not_readable, workbook_kind
from households.xlsx_limits import WorkbookError as WorkbookError  # raised by read_workbook, importable from here
from uppka.formats import format_number
from uppka.scratch import scratch_dir

EMPTY_ROWS_BEFORE_STOP = 1_000  # a sheet "with a million empty rows" is read only this far
MAX_PROBLEMS = 1_000  # problems kept (all are counted): the page, the saved list and the error copy show these


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = True

    @property
    def key(self) -> str:
        return normalize_header(self.name)


SHEETS = {
    "Kelompok": [
        Column("Kode Kelompok"), Column("Nama Kelompok"), Column("Jenis Kelompok"), Column("Kode OPD"),
        Column("Kode Kelurahan"), Column("Tanggal Dibentuk", required=False), Column("Jenis Usaha", required=False),
        Column("Tim Kerja", required=False),
    ],
    "Keluarga": [
        Column("No KK"), Column("NIK Kepala Keluarga"), Column("Nama Kepala Keluarga"), Column("Kode Kelurahan"),
        Column("Alamat", required=False), Column("Jumlah Jiwa"), Column("Metode KB"), Column("Kode Kelompok"),
        Column("Tanggal Bergabung"), Column("Tanggal Keluar", required=False),
    ],
    "Pendapatan": [Column("No KK"), Column("Periode"), Column("Pendapatan")],
    # The monthly register (SPEC section 8): optional sheets, read when present.
    "Pertemuan": [Column("Kode Kelompok"), Column("Tanggal"), Column("Cara"), Column("Topik")],
    "Kehadiran": [Column("Kode Kelompok"), Column("Tanggal"), Column("No KK")],
    "Status KB": [Column("No KK"), Column("Periode"), Column("Metode KB"), Column("Alasan", required=False)],
    # Each group's data by year (SPEC section 9), read by households/profile_sheet.py.
    "Data Kelompok": [
        Column("Tahun"), Column("Kode Kelompok"), Column("Nomor SK", required=False), Column("Tanggal SK", required=False),
        Column("No KK Ketua", required=False), Column("No KK Sekretaris", required=False),
        Column("No KK Bendahara", required=False), Column("Bidang Usaha"), Column("Produk", required=False),
        *(Column(name, required=False) for name in (
            "Modal Sendiri (Rp)", "Modal KUR/Bank (Rp)", "Modal Bantuan Pemerintah (Rp)", "Modal BAZNAS (Rp)",
            "Modal Koperasi (Rp)", "Modal Lainnya (Rp)")),
        Column("Pemasaran", required=False), Column("Omzet per Bulan (Rp)", required=False),
    ],
}
OPTIONAL_SHEETS = {"Pertemuan", "Kehadiran", "Status KB", "Data Kelompok"}


def normalize_header(text) -> str:
    """Headers match case-insensitively, ignoring spaces and underscores."""
    return re.sub(r"[\s_]+", "", str(text or "")).lower()


MONTH_HEADER = re.compile(r"(\d{4})-(\d{1,2})")
FIRST_YEAR = 1900  # no month before it is a month of income (households.parsing.parse_period)


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int  # Excel's row number: the header is row 1
    column: str
    message: str
    warning: bool = False

    def line(self) -> str:
        """``Keluarga baris 12, NIK Kepala Keluarga: …``; warnings start with ``Peringatan``."""
        where = _("%(sheet)s row %(row)s") % {"sheet": self.sheet, "row": self.row} if self.row else self.sheet
        if self.column and MONTH_HEADER.fullmatch(self.column):  # a month of a wide Pendapatan sheet
            where += ", " + _("column %(name)s") % {"name": self.column}
        elif self.column:
            where += f", {self.column}"
        return (_("Warning: %(text)s") % {"text": f"{where}: {self.message}"}) if self.warning else f"{where}: {self.message}"


SHEET_ORDER = {name: index for index, name in enumerate(SHEETS)}
INCOME = "Pendapatan"  # every sheet whose name starts with it holds incomes, in long or wide form


def is_income_sheet(title) -> bool:
    return normalize_header(title).startswith(normalize_header(INCOME))


def sheet_rank(title) -> int:
    """Where a sheet's problems are listed: in the order of SHEETS, every Pendapatan… sheet
    where Pendapatan is, any other sheet last."""
    if title in SHEET_ORDER:
        return SHEET_ORDER[title]
    return SHEET_ORDER[INCOME] if is_income_sheet(title) else len(SHEET_ORDER)


class ProblemLog:
    """Problems as they are found: every one counted, the first ``limit`` errors kept and,
    while there is room, warnings too, so a file of a million bad rows costs no more than one
    of a thousand. A warning never pushes an error out: whether anything may be imported
    depends on the errors."""

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.limit = limit
        self._errors: list[Problem] = []
        self._warnings: list[Problem] = []
        self.error_count = self.warning_count = 0
        # One line per cause shared by many rows (a whole column stored as numbers), shown
        # before the rows; not counted as problems of their own.
        self.summaries: list[Problem] = []

    def add(self, problem: Problem) -> None:
        if problem.warning:
            self.warning_count += 1
            if len(self._warnings) < self.limit:
                self._warnings.append(problem)
        else:
            self.error_count += 1
            if len(self._errors) < self.limit:
                self._errors.append(problem)

    def copy(self) -> "ProblemLog":
        log = ProblemLog(self.limit)
        log._errors, log._warnings = list(self._errors), list(self._warnings)
        log.summaries = list(self.summaries)
        log.error_count, log.warning_count = self.error_count, self.warning_count
        return log

    @property
    def errors(self) -> list[Problem]:
        return list(self._errors)

    @property
    def problems(self) -> list[Problem]:
        """The problems kept, by sheet and row (errors before warnings on a row)."""
        kept = self._errors + self._warnings[:self.limit - len(self._errors)]
        return sorted(kept, key=lambda p: (sheet_rank(p.sheet), p.sheet, p.row, p.warning))

    @property
    def total(self) -> int:
        return self.error_count + self.warning_count


NO_VALUE = -1  # in IncomeSheet's arrays: the cell is off the fast path, its raw value is in ``odd``


def month_number(day: dt.date) -> int:
    """A month as one int (year × 12 + month − 1): the readings' arrays hold months so."""
    return day.year * 12 + day.month - 1


def month_of(number: int) -> dt.date:
    return dt.date(number // 12, number % 12 + 1, 1)


@dataclass
class IncomeSheet:
    """The incomes of one Pendapatan… sheet, in long form (No KK, Periode, Pendapatan: one
    reading a row) or wide form (No KK, then a column per month: one family a row), kept in
    compact arrays instead of a dict per row: a city's readings are millions of cells.

    A family row has its Excel row number and its raw No KK cell; a reading (a cell) has its
    family row, its month and its amount. Cells read the usual way (a ``YYYY-MM`` text or a
    date; a whole number of Rupiah) are converted here; any other value is kept raw in
    ``odd`` (cell index → (raw Periode, raw amount)), its array slot ``NO_VALUE``, for the
    planner to convert and, when it is wrong, to name the problem.
    """

    title: str
    wide: bool
    columns: list[str] = field(default_factory=list)  # wide: the header of each month column, as YYYY-MM
    # 14 bytes a reading: 32-bit ints hold Excel's rows, months and amounts (at most 10^9).
    numbers: array = field(default_factory=lambda: array("i"))  # Excel row number of each family row
    kks: list = field(default_factory=list)  # the raw No KK cell of each family row
    cell_rows: array = field(default_factory=lambda: array("i"))  # each reading's index in ``numbers``
    cell_columns: array = field(default_factory=lambda: array("h"))  # wide: its index in ``columns``
    months: array = field(default_factory=lambda: array("i"))  # its month_number, or NO_VALUE
    amounts: array = field(default_factory=lambda: array("i"))  # its amount, or NO_VALUE
    odd: dict[int, tuple] = field(default_factory=dict)

    def column(self, cell: int, *, of_period: bool = False) -> str:
        """The column of a cell's problem: its month's header (wide), Periode or Pendapatan."""
        if self.wide:
            return self.columns[self.cell_columns[cell]]
        return "Periode" if of_period else "Pendapatan"

    def add(self, row: int, column: int, period, amount, *, month: int | None = None) -> None:
        """One reading of family row ``row``: ``month`` (a month_number) of its wide column,
        or its raw Periode cell ``period``."""
        cell = len(self.amounts)
        self.cell_rows.append(row)
        self.cell_columns.append(column)
        if month is None:
            month = _fast_month(period)
        value = _fast_amount(amount)
        self.months.append(NO_VALUE if month is None else month)
        self.amounts.append(NO_VALUE if value is None else value)
        if month is None or value is None:
            self.odd[cell] = (period, amount)

    def __len__(self) -> int:
        return len(self.amounts)


def _fast_month(value) -> int | None:
    """A month cell or header read the usual way, as a month_number; None for anything else,
    a month before FIRST_YEAR too (year 0 would break every page showing it)."""
    if isinstance(value, dt.date):  # a datetime is a date too
        year, month = value.year, value.month
    elif isinstance(value, str) and (match := MONTH_HEADER.fullmatch(value.strip())):
        year, month = int(match[1]), int(match[2])
    else:
        return None
    return year * 12 + month - 1 if year >= FIRST_YEAR and 1 <= month <= 12 else None


def _fast_amount(value) -> int | None:
    if type(value) is float and value.is_integer() and 0 <= value <= MAX_AMOUNT:
        return int(value)
    if type(value) is int and 0 <= value <= MAX_AMOUNT:
        return value
    return None


@dataclass
class Sheets:
    rows: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)  # sheet → (row number, values)
    log: ProblemLog = field(default_factory=ProblemLog)
    incomes: list[IncomeSheet] = field(default_factory=list)  # every Pendapatan… sheet, in the workbook's order
    rows_read: int = 0
    kk_texts: dict = field(default_factory=dict, repr=False)  # while reading: each KK text once
    progress: object = None  # the caller's progress(stage, done, total), while reading

    @property
    def problems(self) -> list[Problem]:
        return self.log.problems

    @property
    def errors(self) -> list[Problem]:
        return self.log.errors


def read_workbook(path, *, progress=None) -> Sheets:
    """Read the sheets' rows by header name (a missing optional sheet is no problem). Raises WorkbookError when the file is not
    a readable workbook (.xlsx, .ods or .xls) or is beyond the upload limits (households/xlsx_limits.py); everything
    else (missing sheets or columns, formulas, merged cells) becomes a Problem.

    Values come from python-calamine (several times faster than openpyxl on big sheets), once
    ``check_workbook`` has streamed the file and found its formula cells (calamine only sees
    their cached values).

    ``progress(stage, done, total)``, when given, hears "read" with the rows read so far
    (total None) after each sheet and every PROGRESS_ROWS rows of a Pendapatan sheet.
    """
    checks = check_workbook(path)
    with open_calamine(path) as book:
        return _read_book(book, checks, progress)


PROGRESS_ROWS = 10_000


def _read_book(book, checks, progress=None) -> Sheets:
    result = Sheets()
    result.progress = progress
    titles = {normalize_header(title): title for title in book.sheet_names}
    for sheet_name, columns in SHEETS.items():
        if sheet_name == INCOME:
            _read_incomes(book, checks, result)
            continue
        title = titles.get(normalize_header(sheet_name))
        if title is None:
            if sheet_name in OPTIONAL_SHEETS:
                continue
            result.log.add(Problem(sheet_name, 0, "", _("This sheet is missing from the workbook.")))
            continue
        with calamine_errors():
            sheet = book.get_sheet_by_name(title)
        if sheet.merged_cell_ranges or checks.get(title, SheetCheck()).merged:
            result.log.add(Problem(sheet_name, 0, "", _("This sheet has merged cells; unmerge all cells and upload again.")))
            continue
        result.rows[sheet_name] = _read_sheet(sheet, sheet_name, columns, checks.get(title, SheetCheck()), result.log)
        result.rows_read += len(result.rows[sheet_name])
        if progress:
            progress("read", result.rows_read, None)
        del sheet  # calamine keeps a sheet whole: let it go before the next one
    return result


def _read_incomes(book, checks, result: Sheets) -> None:
    titles = [title for title in book.sheet_names if is_income_sheet(title)]
    if not titles:
        result.log.add(Problem(INCOME, 0, "", _("This sheet is missing from the workbook.")))
    for title in titles:
        with calamine_errors():
            sheet = book.get_sheet_by_name(title)
        check = checks.get(title, SheetCheck())
        if sheet.merged_cell_ranges or check.merged:
            result.log.add(Problem(title, 0, "", _("This sheet has merged cells; unmerge all cells and upload again.")))
            continue
        incomes = _read_income_sheet(sheet, title, check, result)
        if incomes is not None:
            result.incomes.append(incomes)
        del sheet


def _read_income_sheet(sheet, title, check: SheetCheck, result: Sheets) -> IncomeSheet | None:
    """One Pendapatan… sheet, row by row as calamine yields them (no list of the rows): long
    form when the header has Periode, else wide form. None when its header is wrong."""
    first_column, log = sheet.start[1] if sheet.start else 0, result.log
    rows = _counted(enumerate(calamine_rows(sheet), start=1), result)
    header_row, header = next(((n, r) for n, r in rows if any(str(v).strip() for v in r)), (1, []))
    positions = {}
    for index, text in enumerate(header):
        key = normalize_header(text)
        if key and key not in positions:
            positions[key] = index
    kk_at = positions.get(normalize_header("No KK"))
    if normalize_header("Periode") in positions:
        long = SHEETS[INCOME]
        missing = [c.name for c in long if c.key not in positions]
        for name in missing:
            log.add(Problem(title, header_row, name, _("This column is missing from the header row.")))
        if missing:
            return None
        incomes = IncomeSheet(title, wide=False)
        places = [positions[c.key] for c in long]
        columns = {first_column + index: c.name for c, index in zip(long, places)}
    else:
        incomes = IncomeSheet(title, wide=True)
        places = _month_columns(header, header_row, title, log)
        if kk_at is None:
            log.add(Problem(title, header_row, "No KK", _(
                "This column is missing from the header row (a Pendapatan sheet has either the columns No KK, Periode "
                "and Pendapatan, or No KK followed by one column per month headed YYYY-MM).")))
        elif not places and places is not None:
            log.add(Problem(title, header_row, "", _(
                "No month columns: head each month's column YYYY-MM (for example 2025-03), or use the columns "
                "Periode and Pendapatan.")))
        if kk_at is None or not places:
            return None
        incomes.columns = [name for _index, name in places]
        places = [index for index, _name in places]
        columns = {first_column + index: name for index, name in zip(places, incomes.columns)}
        columns[first_column + kk_at] = "No KK"
    crowded = [name for column, name in columns.items() if column in check.crowded_columns]
    if crowded:
        log.add(Problem(title, 0, ", ".join(crowded), _(
            "More than %(count)s cells of this sheet hold formulas; copy the sheet and paste it as values, then "
            "upload again.") % {"count": format_number(MAX_FORMULAS)}))
        return None
    formulas = {(row, column - first_column): name for (row, column), name in
                ((key, columns.get(key[1])) for key in check.formulas) if name}
    reader = _read_wide_rows if incomes.wide else _read_long_rows
    reader(rows, incomes, kk_at, places, formulas, log, result.kk_texts)
    return incomes


def _counted(rows, result: Sheets):
    """The rows, counted into ``result.rows_read``; the caller's progress hears of them."""
    for row in rows:
        result.rows_read += 1
        if result.progress and not result.rows_read % PROGRESS_ROWS:
            result.progress("read", result.rows_read, None)
        yield row


def _month_columns(header, header_row, title, log: ProblemLog) -> list[tuple[int, str]] | None:
    """The month columns of a wide header: (index, YYYY-MM). A header that is a date, or text
    with a year in it, is meant for a month; one that is not a month, or a month twice, is a
    problem (None). Other headers (a name, a note) are extra columns, ignored."""
    found, seen, bad = [], {}, False
    for index, value in enumerate(header):
        text = as_text(value) if not isinstance(value, dt.date) else ""
        if not isinstance(value, dt.date) and not re.search(r"\d{4}", text):
            continue
        month = _fast_month(value)
        if month is None:
            log.add(Problem(title, header_row, text, _(
                "This header is not a month: write it as YYYY-MM (for example 2025-03) or as a date cell.")))
            bad = True
            continue
        name = f"{month // 12:04d}-{month % 12 + 1:02d}"
        if month in seen:
            log.add(Problem(title, header_row, name, _("This month is already the header of column %(column)s.")
                            % {"column": column_letters(seen[month])}))
            bad = True
            continue
        seen[month] = index
        found.append((index, name))
    return None if bad else found


def column_letters(index: int) -> str:
    """0 → A, 26 → AA: a column as the spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _empty(value) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _filled_rows(rows, title, log, parse):
    """(number, parsed) of each row that ``parse(values)`` finds filled (it returns None for
    an empty row): EMPTY_ROWS_BEFORE_STOP empty rows in a row end the sheet, with a warning.
    The one rule for every sheet, in long or wide form or neither."""
    empty_run = 0
    for number, values in rows:
        parsed = parse(values)
        if parsed is None:
            empty_run += 1
            if empty_run >= EMPTY_ROWS_BEFORE_STOP:
                log.add(Problem(title, number, "", _("%(count)s empty rows in a row: reading this sheet stopped here.")
                                % {"count": format_number(EMPTY_ROWS_BEFORE_STOP)}, warning=True))
                return
            continue
        empty_run = 0
        yield number, parsed


def _family_row(incomes: IncomeSheet, number, kk, result_kks) -> int:
    """A family row of an income sheet: its index. ``result_kks``: one string per KK over all
    the sheets (a family is on each year's sheet)."""
    incomes.numbers.append(number)
    incomes.kks.append(kk if not isinstance(kk, str) else result_kks.setdefault(kk, kk))
    return len(incomes.numbers) - 1


def _read_long_rows(rows, incomes: IncomeSheet, kk_at, places, formulas, log, result_kks):
    def parse(values):
        cells = tuple(_cell(values, index) for index in places)
        return None if cells == (None, None, None) else cells

    for number, (kk, period, amount) in _filled_rows(rows, incomes.title, log, parse):
        if formulas and _has_formula(incomes.title, number, places, formulas, log):
            continue
        incomes.add(_family_row(incomes, number, kk, result_kks), 0, period, amount)


def _read_wide_rows(rows, incomes: IncomeSheet, kk_at, places, formulas, log, result_kks):
    """One family a row; an empty cell is no reading, a 0 a reading of 0."""
    wanted = [kk_at, *places]
    months = [_fast_month(name) for name in incomes.columns]

    def parse(values):
        width = len(values)
        kk = _cell(values, kk_at)
        filled = [(column, values[index]) for column, index in enumerate(places)
                  if index < width and not _empty(values[index])]
        return None if kk is None and not filled else (kk, filled)

    for number, (kk, filled) in _filled_rows(rows, incomes.title, log, parse):
        if formulas and _has_formula(incomes.title, number, wanted, formulas, log):
            continue
        row = _family_row(incomes, number, kk, result_kks)
        for column, value in filled:
            incomes.add(row, column, None, value.strip() if isinstance(value, str) else value, month=months[column])


def _has_formula(title, number, places, formulas, log) -> bool:
    bad = [formulas[(number, index)] for index in places if (number, index) in formulas]
    for name in bad:
        log.add(Problem(title, number, name, _("Contains a formula; copy and paste it as a value.")))
    return bool(bad)


@contextmanager
def open_calamine(path):
    """The workbook opened by calamine with the reader for what the file holds (calamine picks
    its reader by the file's extension, and an upload's name may lie): under another name, a
    link with the right extension is made in the private scratch folder for the opening."""
    kind = workbook_kind(path)
    path = Path(path)
    if path.suffix.lower() == f".{kind}":
        with calamine_errors():
            book = CalamineWorkbook.from_path(str(path))
    else:
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as folder:
            link = Path(folder) / f"workbook.{kind}"
            os.symlink(path.resolve(), link)
            with calamine_errors():
                book = CalamineWorkbook.from_path(str(link))
    try:
        yield book
    finally:
        book.close()


@contextmanager
def calamine_errors():
    """calamine's errors (a part missing after all, a value it refuses) as WorkbookError, and
    its panics too: pyo3 raises those as a BaseException (a date-formatted cell holding
    -1e308 is one)."""
    try:
        yield
    except Exception as e:
        raise not_readable() from e
    except BaseException as e:
        if type(e).__module__ != "pyo3_runtime":
            raise
        raise not_readable() from e


def calamine_rows(sheet):
    """A calamine sheet's rows, from the top of the sheet and its first used column."""
    with calamine_errors():
        yield from sheet.iter_rows()


def _read_sheet(sheet, sheet_name, columns, check: SheetCheck, log: ProblemLog) -> list[tuple[int, dict]]:
    first_column = sheet.start[1] if sheet.start else 0
    rows = enumerate(calamine_rows(sheet), start=1)  # calamine counts rows from the top of the sheet
    number, header = next(((n, r) for n, r in rows if any(str(v).strip() for v in r)), (1, []))
    positions = {}
    for index, text in enumerate(header):
        key = normalize_header(text)
        if key and key not in positions:
            positions[key] = index
    missing = [c.name for c in columns if c.required and c.key not in positions]
    for name in missing:
        log.add(Problem(sheet_name, number, name, _("This column is missing from the header row.")))
    if missing:
        return []
    formula_columns = {first_column + positions[c.key]: c.name for c in columns if c.key in positions}
    crowded = [name for column, name in formula_columns.items() if column in check.crowded_columns]
    if crowded:
        log.add(Problem(sheet_name, 0, ", ".join(crowded), _(
            "More than %(count)s cells of this sheet hold formulas; copy the sheet and paste it as values, then "
            "upload again.") % {"count": format_number(MAX_FORMULAS)}))
        return []
    result, row_type = [], _row_type(columns)
    places = [positions.get(c.key) for c in columns]
    def parse(values):
        picked = row_type(_cell(values, index) for index in places)
        return None if all(v is None or v == "" for v in picked) else picked

    for number, picked in _filled_rows(rows, sheet_name, log, parse):
        bad = [name for column, name in formula_columns.items() if (number, column) in check.formulas]
        for name in bad:
            log.add(Problem(sheet_name, number, name, _("Contains a formula; copy and paste it as a value.")))
        if not bad:
            result.append((number, picked))
    return result


class Row(tuple):
    """A row's values by column name (``row["No KK"]``), as a dict would give them in a
    quarter of a dict's memory: a subclass per sheet holds the names (``_row_type``)."""

    __slots__ = ()
    names: dict[str, int] = {}

    def __getitem__(self, name):
        return tuple.__getitem__(self, self.names[name])

    def keys(self):  # so that {**row} makes a dict of it
        return self.names.keys()


def _row_type(columns) -> type:
    return type("Row", (Row,), {"__slots__": (), "names": {c.name: index for index, c in enumerate(columns)}})


def _cell(values, index):
    if index is None or index >= len(values):
        return None
    value = values[index]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# Cell conversions: each returns a value or raises ValidationError with an Indonesian message.


STORED_AS_NUMBER = "stored_as_number"  # the code of that refusal: the checker sums them up per column


def identity_number(value, *, label: str) -> str:
    """KK or NIK as text. A number cell is refused: spreadsheet programs keep 15 significant
    digits, so the 16th may already be lost and the stored number cannot be trusted."""
    if value is None or value == "":
        raise ValidationError(_("Required."))
    if isinstance(value, (bool, int, float)):
        raise ValidationError(capfirst(
            _("The %(label)s is stored as a number: its last digit may already have changed (see the note on the "
              "whole column).") % {"label": label}
        ), code=STORED_AS_NUMBER)
    return re.sub(r"[\s.\-]", "", str(value))


def loose_identity(value) -> str:
    """A KK as the other sheets would write it, even when this cell was refused (a number):
    to tell a row that its family's row has problems, instead of calling the family unknown."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"[\s.\-]", "", str(value if value is not None else ""))


_DAY_FIRST = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})")


def date_cell(value, *, required: bool = True) -> dt.date | None:
    """A date cell, or a date written as text: year first (2021-02-13, 2021/02/13) or day first
    as Indonesians write it (13/02/2021, 5-2-2021, 5.2.2021), never month first."""
    if value is None or value == "":
        if required:
            raise ValidationError(_("Required."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if match := _YEAR_FIRST.fullmatch(text):
            year, month, day = int(match[1]), int(match[3]), int(match[4])
        elif match := _DAY_FIRST.fullmatch(text):
            day, month, year = int(match[1]), int(match[3]), int(match[4])
        else:
            match = None
        if match:
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValidationError(_("There is no such date: %(text)s (day %(day)s, month %(month)s).")
                                      % {"text": text, "day": day, "month": month}) from None
    raise ValidationError(_("Write the date as a date cell, as YYYY-MM-DD text (2021-02-05) or day first "
                            "(05/02/2021)."))


def period_cell(value) -> dt.date:
    if value is None or value == "":
        raise ValidationError(_("Required."))
    month = _fast_month(value)  # the one rule for a month cell, the year 1900 or later
    if month is None:
        raise ValidationError(_("Write the period as YYYY-MM (for example 2021-02) or as a date cell."))
    return month_of(month)


def whole_number(value, *, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        raise ValidationError(_("Required."))
    if isinstance(value, bool):
        raise ValidationError(_("Must be a whole number."))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValidationError(_("Must be a whole number."))
    if not minimum <= value <= maximum:
        raise ValidationError(_("Must be between %(minimum)s and %(maximum)s.") % {"minimum": minimum, "maximum": maximum})
    return value


def as_text(value) -> str:
    """A cell as text: a code typed as a number (101) reads back as ``101``, not ``101.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def text_cell(value, *, max_length: int, required: bool = True) -> str:
    text = as_text(value)
    if required and not text:
        raise ValidationError(_("Required."))
    if len(text) > max_length:
        raise ValidationError(_("At most %(count)s characters.") % {"count": max_length})
    if "\x00" in text:  # a workbook may write one as _x0000_; PostgreSQL cannot store it
        raise ValidationError(_("Contains a null character, which cannot be stored."))
    return text


def amount_cell(value) -> int:
    if value is None or value == "":
        raise ValidationError(_("Required."))
    return parse_amount(value)


def kb_method_cell(value) -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise ValidationError(_("Required."))
    if code not in KbMethod.values:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(KbMethod.values)})
    return code


def kb_reason_cell(value, *, method: str) -> str:
    """The reason for no method: required with TIDAK, refused with a method (a reason beside
    a method is a mistake in one or the other)."""
    code = str(value or "").strip().upper()
    if method != KbMethod.TIDAK:
        if code:
            raise ValidationError(_("Leave empty unless the KB method is TIDAK."))
        return ""
    if code not in KbReason.values:
        raise ValidationError(_("Required when the KB method is TIDAK; choose one of: %(choices)s.")
                              % {"choices": ", ".join(KbReason.values)})
    return code


MEETING_MODES = {normalize_header(label): mode for mode, label in (
    (MeetingMode.TATAP_MUKA, "Tatap Muka"), (MeetingMode.VIRTUAL, "Virtual"))}


def meeting_mode_cell(value) -> str:
    """``Tatap Muka`` or ``Virtual``, matched like headers (case, spaces and underscores
    ignored, so the stored codes TATAP_MUKA and VIRTUAL are read too)."""
    if not as_text(value):
        raise ValidationError(_("Required."))
    mode = MEETING_MODES.get(normalize_header(as_text(value)))
    if mode is None:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": "Tatap Muka, Virtual"})
    return mode


def check_kk(value) -> str:
    kk = identity_number(value, label=_("KK number"))
    validate_kk(kk)
    return kk


def check_nik(value) -> tuple[str, list[str]]:
    nik = identity_number(value, label="NIK")
    validate_nik(nik)
    return nik, nik_warnings(nik)

