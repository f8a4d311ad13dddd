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

import openpyxl
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

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
    too many rows) becomes a Problem."""
    try:
        with zipfile.ZipFile(path) as archive:
            merged = _sheets_with_merged_cells(archive)
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise WorkbookError(_("This file is not an Excel workbook (.xlsx) that can be read.")) from e
    except Exception as e:  # openpyxl raises many kinds on damaged files
        raise WorkbookError(_("This file is not an Excel workbook (.xlsx) that can be read.")) from e
    result = Sheets()
    try:
        titles = {normalize_header(title): title for title in book.sheetnames}
        for sheet_name, columns in SHEETS.items():
            title = titles.get(normalize_header(sheet_name))
            if title is None:
                result.problems.append(Problem(sheet_name, 0, "", _("This sheet is missing from the workbook.")))
                continue
            if title in merged:
                result.problems.append(
                    Problem(sheet_name, 0, "", _("This sheet has merged cells; unmerge all cells and upload again."))
                )
                continue
            result.rows[sheet_name] = _read_sheet(book[title], sheet_name, columns, result.problems)
    finally:
        book.close()
    return result


def _sheets_with_merged_cells(archive: zipfile.ZipFile) -> set[str]:
    """Titles of sheets with merged cells (read-only openpyxl does not report them)."""
    names = {}
    workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    for title, rel_id in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook):
        target = targets.get(rel_id, "")
        names[title] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    merged = set()
    for title, path in names.items():
        try:
            with archive.open(path) as sheet:
                tail = b""
                while chunk := sheet.read(1 << 20):
                    if b"<mergeCell " in tail + chunk:
                        merged.add(title)
                        break
                    tail = chunk[-20:]
        except KeyError:
            continue
    return merged


def _read_sheet(sheet, sheet_name, columns, problems) -> list[tuple[int, dict]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    positions = {}
    for index, text in enumerate(header):
        key = normalize_header(text)
        if key and key not in positions:
            positions[key] = index
    missing = [c.name for c in columns if c.required and c.key not in positions]
    for name in missing:
        problems.append(Problem(sheet_name, 1, name, _("This column is missing from the header row.")))
    if missing:
        return []
    result, empty_run = [], 0
    for number, values in enumerate(rows, start=2):
        picked = {c.name: _cell(values, positions.get(c.key)) for c in columns}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in picked.values()):
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
        formulas = [name for name, v in picked.items() if isinstance(v, str) and v.startswith("=")]
        for name in formulas:
            problems.append(Problem(sheet_name, number, name, _("Contains a formula; copy and paste it as a value.")))
        if not formulas:
            result.append((number, picked))
    return result


def _cell(values, index):
    if index is None or index >= len(values):
        return None
    value = values[index]
    return value.strip() if isinstance(value, str) else value


# Cell conversions: each returns a value or raises ValidationError with an Indonesian message.


def identity_number(value, *, label: str) -> str:
    """KK or NIK as text. A number cell is refused: Excel keeps 15 significant digits, so
    the 16th may already be lost and the stored number cannot be trusted."""
    if value is None or value == "":
        raise ValidationError(_("Required."))
    if isinstance(value, bool) or isinstance(value, (int, float)):
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


def text_cell(value, *, max_length: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
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
