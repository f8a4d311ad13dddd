"""The upload limits of households/xlsx_limits.py for OpenDocument spreadsheets (.ods, what
LibreOffice Calc saves by default).

An .ods is a zip like an .xlsx, with every sheet in one part, ``content.xml``. Its danger is
repetition: one ``<table:table-row table:number-rows-repeated="1048576">`` holding a cell
repeated 16,384 times asks calamine for 17 billion cells in a few bytes (calamine expands a
repeated row or cell that holds a value; it stops at Excel's last column, and trims empty
rows and cells after the last value). So the scan follows calamine's position with the
repeats and counts each copy of a value against the same limits as an .xlsx: rows with
values, the used rectangle, values, text bytes, formulas.
"""

import zipfile

from django.utils.translation import gettext as _

from households.xlsx_limits import (
    EXCEL_COLUMNS, EXCEL_ROWS, MAX_CELLS, MAX_CELL_ELEMENTS, MAX_DEPTH, MAX_FORMULAS, MAX_PART_BYTES, MAX_ROWS,
    MAX_RUN, MAX_SHEET_CELLS, MAX_TEXT_BYTES, MB, ExpatScan, count_values, is_income_title, SheetCheck, WorkbookError, archive_parts,
    not_readable, password_protected,
)
from uppka.formats import format_number

CONTENT = "content.xml"
MAX_REPEAT_DIGITS = 8  # a repeat count longer than this is beyond any sheet
LOCAL = {"table:table": "table", "table:table-row": "table-row", "table:table-cell": "table-cell",
         "table:covered-table-cell": "covered-table-cell"}  # the usual prefixes, without splitting each tag


def check_ods(archive: zipfile.ZipFile) -> dict[str, SheetCheck]:
    """Check an .ods archive: its parts as an .xlsx's, then content.xml's sheets; sheet title →
    SheetCheck. Raises WorkbookError."""
    parts = archive_parts(archive)
    manifest = parts.get("meta-inf/manifest.xml")
    if manifest is not None and manifest.file_size <= MAX_RUN and b"encryption-data" in archive.read(manifest):
        raise password_protected()
    info = parts.get(CONTENT)
    if info is None:
        raise not_readable()
    if info.file_size > MAX_PART_BYTES:
        raise WorkbookError(_("The workbook unpacks to more than %(size)s MB (%(part)s). Split it into several workbooks.")
                            % {"size": MAX_PART_BYTES // MB, "part": CONTENT})
    scanner = _OdsScanner()
    with archive.open(info) as stream:
        scanner.feed(stream)
    return scanner.sheets


class _OdsScanner(ExpatScan):
    """content.xml through expat with handlers only (flat memory): refuses DTDs and entities,
    long runs without a tag and deep nesting, and follows each table's rows and cells."""

    def __init__(self):
        self._open_parser()
        self.sheets: dict[str, SheetCheck] = {}
        self.where = CONTENT
        self.table_depth = self.row_depth = self.cell_depth = 0  # 0: not inside one
        self.check = None
        self.row = self.column = 0
        self.row_repeat = self.cell_repeat = 1
        self.row_has_value = False
        self.cell_valued = False
        self.cell_text = 0
        self.rows = 0
        self.top, self.bottom, self.left, self.right = EXCEL_ROWS, -1, EXCEL_COLUMNS, -1
        self.cells = self.values = self.elements = self.records = 0
        self.text_room = MAX_TEXT_BYTES

    def _start(self, tag, attributes):
        self.depth = depth = self.depth + 1
        self.starts += 1
        if depth > MAX_DEPTH:
            self._refuse(_("elements nested more than %(count)s deep") % {"count": MAX_DEPTH})
        if self.cell_depth:
            return  # inside a cell: its text counts (self._text), nothing else does
        tag = LOCAL.get(tag) or tag.rpartition(":")[2]
        if tag == "table" and not self.table_depth:
            self._start_table(attributes, depth)
        elif not self.table_depth:
            return
        elif tag == "table-row" and not self.row_depth:
            self.row_depth, self.column, self.row_has_value = depth, 0, False
            self.row_repeat = _repeat({k.rpartition(":")[2]: v for k, v in attributes.items()}, "number-rows-repeated")
        elif tag in ("table-cell", "covered-table-cell") and self.row_depth:
            self._start_cell(attributes, depth)

    def _start_table(self, attributes, depth):
        title = _attribute(attributes, "name") or ""
        if title in self.sheets:
            raise not_readable()
        self.where = title
        self.check = self.sheets[title] = SheetCheck()
        self.table_depth, self.row, self.rows = depth, 0, 0
        self.top, self.bottom, self.left, self.right = EXCEL_ROWS, -1, EXCEL_COLUMNS, -1

    def _start_cell(self, attributes, depth):
        self.elements += 1
        if self.elements > MAX_CELL_ELEMENTS:
            raise WorkbookError(_("The workbook holds more than %(count)s cells, empty ones included. Delete the "
                                  "formatting of empty rows, or split it into several workbooks.")
                                % {"count": format_number(MAX_CELL_ELEMENTS)})
        self.cell_depth, self.cell_text, self.cell_repeat, self.cell_valued = depth, 0, 1, False
        self.parser.CharacterDataHandler = self._text
        if not attributes:  # most cells of a big sheet: handled without a look at attributes
            return
        attributes = {key.rpartition(":")[2]: value for key, value in attributes.items()}
        if "number-columns-repeated" in attributes:
            self.cell_repeat = _repeat(attributes, "number-columns-repeated")
        self.cell_valued = "value-type" in attributes
        if "string-value" in attributes:
            self.cell_text = len(attributes["string-value"])
        if "formula" in attributes:
            self._formulas()
        if ("number-rows-spanned" in attributes or "number-columns-spanned" in attributes) and (
                _repeat(attributes, "number-rows-spanned") > 1 or _repeat(attributes, "number-columns-spanned") > 1):
            self.check.merged = True

    def _text(self, data):
        if self.cell_depth:
            self.cell_text += len(data)
            if data.strip():
                self.cell_valued = True

    def _end(self, tag):
        depth = self.depth
        self.depth -= 1
        if depth == self.cell_depth:
            self.cell_depth = 0
            self.parser.CharacterDataHandler = None
            if self.cell_valued:
                self._values()
            self.column += self.cell_repeat
        elif depth == self.row_depth:
            self.row_depth = 0
            if self.row_has_value:
                self.rows += min(self.row_repeat, EXCEL_ROWS)
                if self.rows > MAX_ROWS:
                    raise WorkbookError(_("The sheet %(sheet)s has more than %(count)s rows with values. Split it into "
                                          "several workbooks.") % {"sheet": self.where, "count": format_number(MAX_ROWS)})
            self.row += self.row_repeat
        elif depth == self.table_depth:
            self.table_depth = 0
            if self.bottom >= 0:
                self.cells += (self.bottom - self.top + 1) * (self.right - self.left + 1)
                if self.cells > MAX_CELLS:
                    raise WorkbookError(_("The workbook's sheets span more than %(count)s cells in all. Split it into "
                                          "several workbooks.") % {"count": format_number(MAX_CELLS)})

    def _values(self):
        """A cell with a value, repeated across its columns and its row's repeats: each copy
        is a value calamine keeps. It drops values beyond Excel's last column, but not rows
        beyond its last row (it caps the empty rows repeated before them), so a value far
        below counts where it stands: no program writes one there."""
        if self.column >= EXCEL_COLUMNS:
            return
        last_row = self.row + self.row_repeat - 1
        last_column = min(self.column + self.cell_repeat, EXCEL_COLUMNS) - 1
        copies = (last_row - self.row + 1) * (last_column - self.column + 1)
        self.row_has_value = True
        count_values(self, copies, income=is_income_title(self.where))
        self.text_room -= copies * self.cell_text
        if self.text_room < 0:
            raise WorkbookError(_("The workbook's cells hold more than %(size)s MB of values (each copy of a repeated "
                                  "text counted). Split it into several workbooks.") % {"size": MAX_TEXT_BYTES // MB})
        self.top, self.bottom = min(self.top, self.row), max(self.bottom, last_row)
        self.left, self.right = min(self.left, self.column), max(self.right, last_column)
        if (self.bottom - self.top + 1) * (self.right - self.left + 1) > MAX_SHEET_CELLS:
            raise WorkbookError(_(
                "The sheet %(sheet)s spans more than %(count)s cells from its first to its last used row and "
                "column. Delete stray cells far from the data, or split the sheet."
            ) % {"sheet": self.where, "count": format_number(MAX_SHEET_CELLS)})

    def _formulas(self):
        """Remember the positions of a (repeated) formula cell, at most MAX_FORMULAS of them;
        beyond, its columns are named instead."""
        formulas = self.check.formulas
        for row in range(self.row, self.row + min(self.row_repeat, MAX_FORMULAS)):
            for column in range(self.column, min(self.column + self.cell_repeat, EXCEL_COLUMNS)):
                if len(formulas) >= MAX_FORMULAS:
                    self.check.crowded_columns.update(
                        range(self.column, min(self.column + self.cell_repeat, EXCEL_COLUMNS)))
                    return
                formulas.add((row + 1, column))


def _attribute(attributes, name):
    """An attribute by its local name, whatever its namespace prefix."""
    for key, value in attributes.items():
        if key.rpartition(":")[2] == name:
            return value
    return None


def _repeat(attributes, name) -> int:
    """A repeat or span count of a cell's attributes (by local name)."""
    text = attributes.get(name)
    if text is None:
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_REPEAT_DIGITS) or int(text) < 1:
        raise not_readable()
    return int(text)
