"""The limits an uploaded workbook must keep before any spreadsheet library opens it.

python-calamine reads a sheet whole: 32 bytes for every cell of the rectangle from the first
used cell to the last, plus a copy of the text of every text cell (a cell that points at a
shared text gets its own copy), and it keeps the blanks a sheet is padded with, as openpyxl
and ElementTree do. So a 6 KB file can ask for terabytes. ``check_workbook`` first streams
every part of the archive through expat, in flat memory, and refuses a file beyond any limit
below with a WorkbookError that says which; on the way it finds the formula cells (calamine
only sees their cached values). A file within the limits costs no more than the biggest real
workbook. The README's "Upload limits" lists them as the user sees them.
"""

import pyexpat
import zipfile
import zlib
from array import array
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from uppka.formats import format_number

MB = 1024 * 1024
MAX_PARTS = 1_000  # files inside the archive; Excel writes a dozen, one per sheet, image or table more
MAX_PART_BYTES = 256 * MB  # one part unpacked: a 300,000-row Keluarga sheet is 105-165 MB of XML
MAX_TOTAL_BYTES = 512 * MB  # all parts unpacked
MAX_ROWS = 300_000  # rows holding values, per sheet: far above any real city
# The rectangle calamine allocates, per sheet: 300,000 rows of the widest import sheet
# (Keluarga, 10 columns) and a spare column. Reading costs ~130 bytes a cell all told
# (calamine, then a dict per row), so a full sheet holds a worker at ~450 MiB.
MAX_SHEET_CELLS = 3_300_000
MAX_CELLS = 6_000_000  # those rectangles over the whole workbook (the error copy reads every sheet)
# Cells holding a value outside the Pendapatan sheets: each costs far more than the
# rectangle's 32 bytes (a Python value, a dict per row), so a workbook of 3.3 million values
# held a worker at ~1 GiB for ~45 s. A city's real workbook (10,000 families) holds ~200,000.
MAX_RECORD_VALUES = 2_000_000
# Cells holding a value, over the workbook. An income is read into arrays (~40 bytes a
# reading, households/workbook.py IncomeSheet), so the Pendapatan sheets may hold more: 100,000
# families × 24 months in the wide form written by the data download is ~3.6 million values in all
# (its Keluarga sheet ~1 million); 100,000 × 24 new imports at a 485 MiB peak (docs/bench.txt).
MAX_VALUES = 5_000_000
# Every <c> element, empty ones too (calamine skips them, the scan still reads them): a
# million rows of empty cells took a worker 70 s to read. Excel writes an empty one for
# each individually formatted cell.
MAX_CELL_ELEMENTS = 6_000_000  # the data download of 100,000 families × 24 months writes ~4 million
MAX_TEXT_BYTES = 150 * MB  # bytes of cell values, each copy of a shared text counted again
MAX_SHARED_STRINGS = 2_000_000  # different texts in the shared table
MAX_FORMULAS = 1_000  # formula cells remembered per sheet; beyond, the columns are named instead
MAX_RUN = 1 * MB  # bytes between two tags: blank padding, or a single giant tag, comment or text
MAX_DEPTH = 100  # elements inside elements; Excel's deepest is about 12
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
CHUNK = 64 * 1024
CLOSED = -1  # the depth watched when no element is: no end tag comes back above it
NO_CELL = MAX_DEPTH + 1  # the depth of the cell when none is open: nothing is deeper
DIGITS = "0123456789"

WORKBOOK, WORKBOOK_RELS, SHARED_STRINGS = "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml"
XML_SUFFIXES = (".xml", ".rels")


class WorkbookError(Exception):
    """The file cannot be read as an import workbook at all."""


def is_income_title(title) -> bool:
    """A Pendapatan… sheet (households/workbook.py reads every one, into arrays)."""
    return "".join(str(title or "").split()).replace("_", "").lower().startswith("pendapatan")


def count_values(budget, copies: int, *, income: bool) -> None:
    """Count ``copies`` values of a sheet into ``budget`` (``values`` and ``records``,
    those outside Pendapatan sheets); WorkbookError beyond MAX_VALUES or MAX_RECORD_VALUES."""
    budget.values += copies
    if not income:
        budget.records += copies
    if budget.records > MAX_RECORD_VALUES:
        raise WorkbookError(_("The workbook holds more than %(count)s cells with values outside its Pendapatan "
                              "sheets. Split it into several workbooks.") % {"count": format_number(MAX_RECORD_VALUES)})
    if budget.values > MAX_VALUES:
        raise WorkbookError(_("The workbook holds more than %(count)s cells with values. Split it into several "
                              "workbooks.") % {"count": format_number(MAX_VALUES)})


def not_readable() -> WorkbookError:
    return WorkbookError(_("This file is not a workbook that can be read (.xlsx, .ods or .xls). Open it in a "
                           "spreadsheet program (Excel, LibreOffice), save it as .xlsx and upload the new file."))


def password_protected() -> WorkbookError:
    return WorkbookError(_("The workbook is protected with a password. Open it in a spreadsheet program (Excel, "
                           "LibreOffice), save it without a password and upload the new file."))


KINDS = ("xlsx", "ods", "xls")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def workbook_kind(path) -> str:
    """"xlsx", "ods" or "xls", from what the file holds (not its name, which may lie);
    WorkbookError for anything else."""
    from households.xls_limits import MAGIC

    try:
        with open(path, "rb") as f:
            start = f.read(8)
        if start == MAGIC:
            return "xls"
        if not start.startswith(b"PK"):
            raise not_readable()
        with zipfile.ZipFile(path) as archive:
            names = {info.filename.replace("\\", "/").lower(): info for info in archive.infolist()}
            if WORKBOOK in names:
                return "xlsx"
            if "content.xml" in names and "mimetype" in names and names["mimetype"].file_size < 100:
                if archive.read(names["mimetype"]).strip() == ODS_MIMETYPE:
                    return "ods"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as e:
        raise not_readable() from e
    raise not_readable()


@dataclass
class SheetCheck:
    """What the scan learnt about one sheet: formula cells as (Excel row, column index), and
    the columns that held more formulas than were remembered."""

    formulas: set[tuple[int, int]] = field(default_factory=set)
    crowded_columns: set[int] = field(default_factory=set)
    merged: bool = False  # an .ods cell spans others (calamine does not report merged cells there)


def check_workbook(path) -> dict[str, SheetCheck]:
    """Check the archive and every XML part in it against the limits; sheet title → SheetCheck.

    Raises WorkbookError with the reason when the file is not a readable workbook or is beyond
    a limit. Calamine may open the file afterwards (as the kind found here, see
    ``workbook_kind``): it reads the same parts, no bigger than declared (its zip reader
    refuses more). An .ods is checked by households/ods_limits.py, an .xls by
    households/xls_limits.py, against the same limits.
    """
    kind = workbook_kind(path)
    if kind == "xls":
        from households.xls_limits import check_xls

        return check_xls(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if kind == "ods":
                from households.ods_limits import check_ods

                return check_ods(archive)
            return _check_archive(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, UnicodeDecodeError) as e:
        raise not_readable() from e


def _check_archive(archive: zipfile.ZipFile) -> dict[str, SheetCheck]:
    parts = archive_parts(archive)
    budget, strings = _Budget(), array("L")  # strings: the bytes of each shared text, by index
    links = _scan(archive, parts, WORKBOOK_RELS, budget=budget, strings=strings, collect="Relationship")
    sheets = _scan(archive, parts, WORKBOOK, budget=budget, strings=strings, collect="sheet")
    titles = _sheet_parts(sheets, links)
    names = {part: title for title, part in titles.items()}
    if SHARED_STRINGS in parts:
        _scan(archive, parts, SHARED_STRINGS, names=names, budget=budget, strings=strings)
    checks = {}
    done = {WORKBOOK, WORKBOOK_RELS, SHARED_STRINGS}
    # Every part calamine may read gets the sheet scan: a sheet is found by its relationship,
    # whatever the part is called, and a part with no <sheetData> costs nothing more. Parts
    # outside xl/ (document properties, customXml) are read by nobody.
    read = {p for p in parts if p.endswith(XML_SUFFIXES) and (p.startswith("xl/") or "/" not in p or p == "_rels/.rels")}
    for part in sorted(set(titles.values()) | read):
        if part in parts and part not in done:
            checks[part] = _scan(archive, parts, part, names=names, budget=budget, strings=strings)
    return {title: checks.get(part, SheetCheck()) for title, part in titles.items()}


def archive_parts(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's parts by normalised name (calamine matches names ignoring case and the
    direction of slashes), refusing an archive too big before anything is unpacked."""
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:
        raise WorkbookError(_("The workbook holds more than %(count)s files inside it. Save it again from a "
                              "spreadsheet program (Excel, LibreOffice), without what the import does not need.") % {"count": format_number(MAX_PARTS)})
    parts = {}
    for info in infos:
        name = info.filename.replace("\\", "/").lower()
        if name in parts or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
            raise not_readable()  # two parts of one name, an unusual compression, a password
        parts[name] = info
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise WorkbookError(_("The workbook unpacks to more than %(size)s MB. Split it into several workbooks.")
                            % {"size": MAX_TOTAL_BYTES // MB})
    return parts


def _sheet_parts(sheets: list[dict], links: list[dict]) -> dict[str, str]:
    """Sheet title → part name, resolved as calamine does (a target is relative to ``xl/``
    unless it starts with a slash)."""
    targets = {}
    for link in links:
        key = link.get("Id")
        if key in targets:
            raise not_readable()
        targets[key] = link.get("Target", "")
    result = {}
    for sheet in sheets:
        ids = [value for name, value in sheet.items() if name.rpartition(":")[2] == "id"]
        if len(ids) != 1:
            raise not_readable()
        target = targets.get(ids[0], "")
        part = (target[1:] if target.startswith("/") else "xl/" + target).replace("\\", "/").lower()
        result[sheet.get("name", "")] = part
    return result


@dataclass
class _Budget:
    """What the workbook has used so far, over all its sheets."""

    cells: int = 0
    text: int = 0
    elements: int = 0  # <c> elements, with or without a value
    values: int = 0  # cells with a value
    records: int = 0  # of those, outside the Pendapatan sheets


def _scan(archive, parts, part, *, budget, strings, names=None, collect=None):
    """Stream one part through a _Scanner: the attributes of its ``collect`` elements, or
    what it taught about a sheet."""
    info = parts.get(part)
    if info is None:
        if collect:
            raise not_readable()  # no workbook.xml or no relationships: not a workbook
        return SheetCheck()
    where = (names or {}).get(part) or part
    if info.file_size > MAX_PART_BYTES:
        if part in (names or {}):
            raise WorkbookError(_("The sheet %(sheet)s unpacks to more than %(size)s MB. Split it into several workbooks.")
                                % {"sheet": where, "size": MAX_PART_BYTES // MB})
        raise WorkbookError(_("The workbook unpacks to more than %(size)s MB (%(part)s). Split it into several workbooks.")
                            % {"size": MAX_PART_BYTES // MB, "part": part})
    scanner = _Scanner(where, collect=collect, budget=budget, strings=strings, string_table=part == SHARED_STRINGS)
    with archive.open(info) as stream:
        scanner.feed(stream)
    return scanner.collected if collect else scanner.result()


class ExpatScan:
    """What the scanners of an XML part (.xlsx here, .ods in ods_limits.py) share: expat with
    handlers only, DTDs and entities refused, long runs without a tag refused, and the
    messages. A subclass sets ``where`` and defines ``_start`` and ``_end`` (counting
    ``depth`` and ``starts``: its hot path stays its own)."""

    __slots__ = ()

    def _open_parser(self):
        self.parser = parser = pyexpat.ParserCreate()
        parser.StartDoctypeDeclHandler = self._declaration
        parser.EntityDeclHandler = self._declaration
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self.depth = self.starts = 0

    def feed(self, stream):
        parser = self.parser
        idle = 0
        try:
            while chunk := stream.read(CHUNK):
                starts = self.starts
                parser.Parse(chunk, False)
                idle = idle + len(chunk) if starts == self.starts else 0
                if idle > MAX_RUN:  # blanks, or one tag, comment or text expat must hold whole
                    self._refuse(_("more than 1 MB of blank space or of a single tag"))
            parser.Parse(b"", True)
        except pyexpat.ExpatError as e:
            # expat's own words are English: say where, not what
            raise WorkbookError(_("The workbook is damaged (%(where)s, line %(line)s, column %(column)s). Open it in "
                                  "a spreadsheet program (Excel, LibreOffice), save it again and upload the new file.")
                                % {"where": self.where, "line": e.lineno, "column": e.offset + 1}) from e
        finally:
            self.parser = None  # the parser holds the handlers, which hold self: free it now, not at the next GC

    def _refuse(self, reason):
        raise WorkbookError(_("The workbook is built in a way spreadsheet programs never write (%(where)s: %(reason)s). "
                              "Open it in a spreadsheet program (Excel, LibreOffice), save it again and upload the new "
                              "file.") % {"where": self.where, "reason": reason})

    def _declaration(self, *args):
        self._refuse(_("a DTD or entity declaration"))


class _Scanner(ExpatScan):
    """One XML part through expat, with handlers only: nothing is kept but counters, so memory
    stays flat whatever the part holds. Refuses DTDs and entities (as defusedxml does), long
    runs without a tag and deep nesting; inside <sheetData> follows calamine's idea of each
    cell's position to count rows, the used rectangle, value bytes and formulas.

    The handlers run for each of millions of elements, so the common case (a cell and its
    value) is written out in ``_start``, and an end tag only matters when it closes one of the
    few elements watched (``self.watch``: the depth of the innermost)."""

    __slots__ = (  # the handlers' attribute look-ups are most of the time a scan takes
        "where", "collect", "budget", "text_room", "strings", "string_table", "collected", "check", "parser",
        "depth", "starts", "watched", "watch", "in_data", "in_value", "text", "row", "column", "cell_depth",
        "cell_row", "cell_column", "cell_type", "valued", "counted_row", "rows", "top", "bottom", "left", "right",
        "value_start", "columns", "digits", "digits_row", "income",
    )

    def __init__(self, where, *, collect, budget, strings, string_table):
        self.where, self.collect, self.budget = where, collect, budget
        self.income = is_income_title(where)
        self.text_room = MAX_TEXT_BYTES - budget.text  # value bytes the workbook may still hold
        self.strings, self.string_table = strings, string_table  # the table's sizes; filled when scanning it
        self.collected = []
        self.check = SheetCheck()
        self._open_parser()
        self.watched, self.watch = [], CLOSED  # (depth, kind) of open elements whose end matters
        self.in_data = False  # inside <sheetData>
        self.in_value = False  # inside a text value, whose size counts (at self.watch)
        self.text = []  # character data since the cell or the shared-text index began
        self.row = self.column = 0  # calamine's position for a cell without one (0-based)
        self.cell_depth = NO_CELL  # elements deeper than this belong to the cell
        self.cell_row = self.cell_column = 0
        self.cell_type = None
        self.valued = True  # the cell has a value (calamine keeps it)
        self.counted_row, self.rows = -1, 0
        self.top, self.bottom, self.left, self.right = EXCEL_ROWS, -1, EXCEL_COLUMNS, -1
        self.value_start = 0
        self.columns = {}  # letters → column index
        self.digits, self.digits_row = None, 0  # the last row number read, and its index

    def _start(self, tag, attributes):
        self.depth = depth = self.depth + 1
        self.starts += 1
        if depth > MAX_DEPTH:
            self._refuse(_("elements nested more than %(count)s deep") % {"count": MAX_DEPTH})
        if ":" in tag:  # calamine ignores namespaces
            tag = tag.rpartition(":")[2]
        if not self.in_data:
            self._outside_data(tag, attributes, depth)
        elif self.in_value and self.cell_type == "s":
            raise not_readable()  # an element inside a shared-text index: calamine reads only the text before it
        elif tag == "c":
            budget = self.budget
            budget.elements += 1
            if budget.elements > MAX_CELL_ELEMENTS:
                raise WorkbookError(_("The workbook holds more than %(count)s cells, empty ones included. Delete "
                                      "the formatting of empty rows, or split it into several workbooks.")
                                    % {"count": format_number(MAX_CELL_ELEMENTS)})
            reference = attributes.get("r")
            if reference is None:
                row, column = self.row, self.column
            else:
                letters = reference.rstrip(DIGITS)
                column = self.columns.get(letters)
                if column is None:
                    column = self._column(letters)
                digits = reference[len(letters):]
                row = self.digits_row if digits == self.digits else self._row_index(digits)
            self.column = column + 1
            self.cell_row, self.cell_column, self.cell_depth = row, column, depth
            self.cell_type, self.valued = attributes.get("t"), False
            self.text.clear()
        elif tag == "v" or tag == "is":
            if depth <= self.cell_depth:
                return  # not in a cell: calamine does not read it
            if not self.valued:
                self.valued = True
                count_values(self.budget, 1, income=self.income)
                row, column = self.cell_row, self.cell_column
                if row != self.counted_row:
                    self._count_row(row)
                if row > self.bottom or row < self.top or column > self.right or column < self.left:
                    self._grow(row, column)
            kind = self.cell_type
            if kind is None or kind == "n" or kind == "b" or kind == "e" or self.in_value:
                return  # a number, or inside a value already counted
            self.in_value, self.watch = True, depth  # a text: calamine makes a string of it
            if kind == "s" and tag == "v":
                self.text.clear()
            else:
                self.cell_type = "text"  # its size is its length in the sheet
                self.value_start = self.parser.CurrentByteIndex
        elif tag == "row":
            number = attributes.get("r")
            if number is not None:
                self.row = self._row_index(number)
            self.cell_depth = NO_CELL
            self._watch(depth, "row")
        elif tag == "f" and depth > self.cell_depth:
            self._formula()

    def _end(self, tag):
        self.depth = depth = self.depth - 1
        if depth < self.watch:
            self._closed()

    def _watch(self, depth, kind):
        self.watched.append((depth, kind))
        self.watch = depth

    def _closed(self):
        if self.in_value:  # a text value ends: count its size (a shared text's, for an index)
            self.in_value = False
            self.watch = self.watched[-1][0] if self.watched else CLOSED
            if self.cell_type == "s":
                try:
                    self.text_room -= self.strings[int("".join(self.text))]
                except (ValueError, IndexError) as e:  # calamine fails on a text that is not in the table
                    raise not_readable() from e
            else:
                self.text_room -= self.parser.CurrentByteIndex - self.value_start
            if self.text_room < 0:
                raise WorkbookError(_("The workbook's cells hold more than %(size)s MB of values (each copy of a "
                                      "repeated text counted). Split it into several workbooks.")
                                    % {"size": MAX_TEXT_BYTES // MB})
            return
        kind = self.watched.pop()[1]
        self.watch = self.watched[-1][0] if self.watched else CLOSED
        if kind == "row":  # calamine moves to the next row at </row>
            self.row, self.column, self.cell_depth = self.row + 1, 0, NO_CELL
        elif kind == "data":
            self.in_data = False
            self.parser.CharacterDataHandler = None
        elif kind == "string":
            self.strings.append(min(self.parser.CurrentByteIndex - self.value_start, 2**32 - 1))
            if len(self.strings) > MAX_SHARED_STRINGS:
                raise WorkbookError(_("The workbook holds more than %(count)s different texts. Split it into several "
                                      "workbooks.") % {"count": format_number(MAX_SHARED_STRINGS)})

    def _outside_data(self, tag, attributes, depth):
        if tag == "sheetData":
            self.in_data = True
            self.parser.CharacterDataHandler = self.text.append  # for the shared-text indexes (cleared at each cell)
            self._watch(depth, "data")
        elif tag == "dimension":
            self._dimension(attributes.get("ref", ""))
        elif tag == "si" and self.string_table:
            if depth != 2:
                raise not_readable()  # calamine counts the texts at the top of the table only
            self.value_start = self.parser.CurrentByteIndex
            self._watch(depth, "string")
        elif tag == self.collect:
            self.collected.append(attributes)

    def _count_row(self, row):
        self.counted_row = row
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise WorkbookError(_("The sheet %(sheet)s has more than %(count)s rows with values. Split it into "
                                  "several workbooks.") % {"sheet": self.where, "count": format_number(MAX_ROWS)})

    def _grow(self, row, column):
        self.top, self.bottom = min(self.top, row), max(self.bottom, row)
        self.left, self.right = min(self.left, column), max(self.right, column)
        if (self.bottom - self.top + 1) * (self.right - self.left + 1) > MAX_SHEET_CELLS:
            raise WorkbookError(_(
                "The sheet %(sheet)s spans more than %(count)s cells from its first to its last used row and "
                "column. Delete stray cells far from the data, or split the sheet."
            ) % {"sheet": self.where, "count": format_number(MAX_SHEET_CELLS)})

    def _formula(self):
        formulas, key = self.check.formulas, (self.cell_row + 1, self.cell_column)
        if len(formulas) < MAX_FORMULAS or key in formulas:
            formulas.add(key)
        else:
            self.check.crowded_columns.add(key[1])

    def _column(self, letters) -> int:
        if not (letters.isascii() and letters.isalpha() and len(letters) <= 3):
            raise not_readable()
        column = 0
        for letter in letters.upper():
            column = column * 26 + ord(letter) - ord("A") + 1
        if column > EXCEL_COLUMNS:
            raise not_readable()
        self.columns[letters] = column - 1
        return column - 1

    def _row_index(self, digits) -> int:
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 7) or not 1 <= int(digits) <= EXCEL_ROWS:
            raise not_readable()
        self.digits, self.digits_row = digits, int(digits) - 1
        return self.digits_row

    def _reference(self, reference) -> tuple[int, int]:
        letters = reference.rstrip(DIGITS)
        return self._row_index(reference[len(letters):]), self.columns.get(letters) or self._column(letters)

    def _dimension(self, ref):
        corners = [self._reference(corner.replace("$", "")) for corner in ref.split(":")[:2]]
        (top, left), (bottom, right) = corners[0], corners[-1]
        if (abs(bottom - top) + 1) * (abs(right - left) + 1) > MAX_SHEET_CELLS:
            raise WorkbookError(_(
                "The sheet %(sheet)s declares a used range of %(range)s, more than %(count)s cells. Delete stray "
                "cells far from the data, or split the sheet."
            ) % {"sheet": self.where, "range": ref, "count": format_number(MAX_SHEET_CELLS)})

    def result(self) -> SheetCheck:
        self.budget.text = MAX_TEXT_BYTES - self.text_room
        if self.bottom >= 0:
            self.budget.cells += (self.bottom - self.top + 1) * (self.right - self.left + 1)
            if self.budget.cells > MAX_CELLS:
                raise WorkbookError(_("The workbook's sheets span more than %(count)s cells in all. Split it into "
                                      "several workbooks.") % {"count": format_number(MAX_CELLS)})
        return self.check
