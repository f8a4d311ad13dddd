"""Reading the import workbook of SPEC section 5 (sheets Kelompok, Keluarga, Pendapatan).

Reading and checking never write: ``read_workbook`` turns the file into rows and problems,
``plan_import`` checks every row against the database and the user's scope and works out
what would be created or changed. ``apply_plan`` writes a clean plan in one transaction.
Sheet and column names are a contract with other offices' tools: fixed Indonesian strings.
"""

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from html import unescape

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from households.identity import nik_warnings, validate_kk, validate_nik
from households.models import KbMethod
from households.parsing import parse_amount
from uppka.formats import format_number

MAX_ROWS = 1_048_576  # Excel's own limit per sheet
EMPTY_ROWS_BEFORE_STOP = 1_000  # a sheet "with a million empty rows" is read only this far


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
}


def normalize_header(text) -> str:
    """Headers match case-insensitively, ignoring spaces and underscores."""
    return re.sub(r"[\s_]+", "", str(text or "")).lower()


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
        if self.column:
            where += f", {self.column}"
        return (_("Warning: %(text)s") % {"text": f"{where}: {self.message}"}) if self.warning else f"{where}: {self.message}"


@dataclass
class Sheets:
    rows: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)  # sheet → (row number, values)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


class WorkbookError(Exception):
    """The file cannot be read as an import workbook at all."""


def read_workbook(path) -> Sheets:
    """Read the three sheets' rows by header name. Raises WorkbookError when the file is not
    a readable .xlsx; everything else (missing sheets or columns, formulas, merged cells,
    too many rows) becomes a Problem.

    Values come from python-calamine (several times faster than openpyxl on big sheets);
    formulas are found in the sheets' XML, since calamine only sees their cached values.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            formulas = _formula_cells(archive)
        book = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # a renamed CSV or PDF, an empty file, a damaged zip …
        raise WorkbookError(_("This file is not an Excel workbook (.xlsx) that can be read.")) from e
    result = Sheets()
    titles = {normalize_header(title): title for title in book.sheet_names}
    for sheet_name, columns in SHEETS.items():
        title = titles.get(normalize_header(sheet_name))
        if title is None:
            result.problems.append(Problem(sheet_name, 0, "", _("This sheet is missing from the workbook.")))
            continue
        try:
            sheet = book.get_sheet_by_name(title)
        except Exception as e:
            raise WorkbookError(_("This file is not an Excel workbook (.xlsx) that can be read.")) from e
        if sheet.merged_cell_ranges:
            result.problems.append(Problem(sheet_name, 0, "", _("This sheet has merged cells; unmerge all cells and upload again.")))
            continue
        result.rows[sheet_name] = _read_sheet(sheet, sheet_name, columns, formulas.get(title, set()), result.problems)
    return result


def _formula_cells(archive: zipfile.ZipFile) -> dict[str, set[tuple[int, int]]]:
    """Sheet title → (row, column index) of every cell holding a formula."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {}
    for attributes in re.findall(r"<Relationship ([^>]*)>", rels):
        found = dict(re.findall(r'(\w+)="([^"]*)"', attributes))
        targets[found.get("Id")] = found.get("Target", "")
    result = {}
    for attributes in re.findall(r"<sheet ([^>]*)>", workbook):
        found = dict(re.findall(r'([\w:]+)="([^"]*)"', attributes))
        target = targets.get(found.get("r:id"), "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if path in archive.namelist():
            result[unescape(found.get("name", ""))] = _scan_formulas(archive, path)
    return result


FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*>\s*<f[\s>/]')


def _scan_formulas(archive, path) -> set[tuple[int, int]]:
    cells, tail = set(), b""
    with archive.open(path) as sheet:
        while chunk := sheet.read(1 << 20):
            for letters, row in FORMULA_CELL.findall(tail + chunk):
                cells.add((int(row), column_index(letters.decode())))
            tail = chunk[-400:]  # a cell split across two chunks is seen in the next pass
    return cells


def column_index(letters: str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _read_sheet(sheet, sheet_name, columns, formulas, problems) -> list[tuple[int, dict]]:
    first_column = sheet.start[1] if sheet.start else 0
    rows = enumerate(sheet.iter_rows(), start=1)  # calamine counts rows from the top of the sheet
    number, header = next(((n, r) for n, r in rows if any(str(v).strip() for v in r)), (1, []))
    positions = {}
    for index, text in enumerate(header):
        key = normalize_header(text)
        if key and key not in positions:
            positions[key] = index
    missing = [c.name for c in columns if c.required and c.key not in positions]
    for name in missing:
        problems.append(Problem(sheet_name, number, name, _("This column is missing from the header row.")))
    if missing:
        return []
    formula_columns = {first_column + positions[c.key]: c.name for c in columns if c.key in positions}
    result, empty_run = [], 0
    for number, values in rows:
        picked = {c.name: _cell(values, positions.get(c.key)) for c in columns}
        if all(v is None or v == "" for v in picked.values()):
            empty_run += 1
            if empty_run >= EMPTY_ROWS_BEFORE_STOP:
                problems.append(
                    Problem(sheet_name, number, "", _("%(count)s empty rows in a row: reading this sheet stopped here.")
                            % {"count": format_number(EMPTY_ROWS_BEFORE_STOP)}, warning=True)
                )
                break
            continue
        empty_run = 0
        if number > MAX_ROWS:
            problems.append(Problem(sheet_name, number, "", _("Too many rows.")))
            break
        bad = [name for (row, column), name in _formulas_in_row(formulas, number, formula_columns)]
        for name in bad:
            problems.append(Problem(sheet_name, number, name, _("Contains a formula; copy and paste it as a value.")))
        if not bad:
            result.append((number, picked))
    return result


def _formulas_in_row(formulas, number, formula_columns):
    if not formulas:
        return []
    return [((number, column), name) for column, name in formula_columns.items() if (number, column) in formulas]


def _cell(values, index):
    if index is None or index >= len(values):
        return None
    value = values[index]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# Cell conversions: each returns a value or raises ValidationError with an Indonesian message.


def identity_number(value, *, label: str) -> str:
    """KK or NIK as text. A number cell is refused: Excel keeps 15 significant digits, so
    the 16th may already be lost and the stored number cannot be trusted."""
    if value is None or value == "":
        raise ValidationError(_("Required."))
    if isinstance(value, (bool, int, float)):
        raise ValidationError(capfirst(
            _("The %(label)s is stored as a number, so Excel may already have changed its last digit. "
              "Format the column as Text and type the number again.") % {"label": label}
        ))
    return re.sub(r"[\s.\-]", "", str(value))


def date_cell(value, *, required: bool = True) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise ValidationError(_("Required."))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(_("Write the date as a date cell or as YYYY-MM-DD text, for example 2021-02-05."))


def period_cell(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(value or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError(_("Write the period as YYYY-MM (for example 2021-02) or as a date cell."))
    return dt.date(int(match[1]), int(match[2]), 1)


def whole_number(value, *, minimum: int, maximum: int) -> int:
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
    return text


def amount_cell(value) -> int:
    if value is None or value == "":
        raise ValidationError(_("Required."))
    return parse_amount(value)


def kb_method_cell(value) -> str:
    code = str(value or "").strip().upper()
    if code not in KbMethod.values:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(KbMethod.values)})
    return code


def check_kk(value) -> str:
    kk = identity_number(value, label=_("KK number"))
    validate_kk(kk)
    return kk


def check_nik(value) -> tuple[str, list[str]]:
    nik = identity_number(value, label="NIK")
    validate_nik(nik)
    return nik, nik_warnings(nik)


def not_future(day: dt.date, *, message: str = _("The date cannot be in the future.")) -> dt.date:
    if day > timezone.localdate():
        raise ValidationError(message)
    return day
