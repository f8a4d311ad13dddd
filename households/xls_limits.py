"""The upload limits of households/xlsx_limits.py for Excel 97-2003 workbooks (.xls).

An .xls is an OLE compound file (a small file system of 512-byte sectors chained through a
table) holding a ``Workbook`` stream of BIFF records. calamine reads the whole stream and
every sheet in it when it opens the file, so everything is checked first, in memory no
bigger than the file (at most IMPORT_MAX_BYTES): every chain calamine follows must stay in
the file and never loop, the stream must be no longer than the file, and the sheets' cell
records are counted against the same limits as an .xlsx (rows with values, the used
rectangle, values, text bytes, formulas). A text cell that points at the shared-string
table costs its string's length each time, as calamine copies it.
"""

import struct
from array import array

from django.utils.translation import gettext as _

from households.xlsx_limits import (
    MAX_CELL_ELEMENTS, MAX_CELLS, MAX_FORMULAS, MAX_ROWS, MAX_SHARED_STRINGS, MAX_SHEET_CELLS, MAX_TEXT_BYTES,
    MB, SheetCheck, count_values, is_income_title, WorkbookError, not_readable, password_protected,
)
from uppka.formats import format_number

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREE, END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
MAX_REGULAR = 0xFFFFFFFA
STREAMS = ("workbook", "book")  # BIFF8 and BIFF5 name the stream differently
ENCRYPTED = ("encryptedpackage", "encryptioninfo")  # an .xlsx saved with a password is an OLE file

BOF, EOF, BOUNDSHEET, SST, CONTINUE, FILEPASS = 0x0809, 0x000A, 0x0085, 0x00FC, 0x003C, 0x002F
FORMULA, STRING, LABEL, LABELSST, RSTRING, DIMENSIONS = 0x0006, 0x0207, 0x0204, 0x00FD, 0x00D6, 0x0200
NUMBER, RK, BOOLERR, MULRK, BLANK, MULBLANK = 0x0203, 0x027E, 0x0205, 0x00BD, 0x0201, 0x00BE


def check_xls(path) -> dict[str, SheetCheck]:
    """Check an .xls file; sheet title → SheetCheck. Raises WorkbookError."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        stream = _workbook_stream(data)
        return _check_biff(stream)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as e:
        raise not_readable() from e


# The compound file ----------------------------------------------------------------------------


def _workbook_stream(data: bytes) -> bytes:
    if len(data) < 512 or data[:8] != MAGIC:
        raise not_readable()
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise not_readable()
    size = 1 << shift
    sectors = (len(data) - 1) // size  # sector n starts after the header, at (n + 1) * size
    fat_count, first_dir, _signature, cutoff, first_mini_fat, mini_fat_count, first_difat, difat_count = struct.unpack_from(
        "<IIIIIIII", data, 0x2C)
    if cutoff != 4096:
        raise not_readable()

    def sector(n: int) -> bytes:
        if n >= sectors:
            raise not_readable()
        start = (n + 1) * size
        return data[start:start + size]

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 0x4C) if n != FREE][:fat_count]
    seen_difat, n = set(), first_difat
    for _i in range(difat_count):
        if n in seen_difat or n > MAX_REGULAR:
            raise not_readable()
        seen_difat.add(n)
        entries = struct.unpack(f"<{size // 4}I", sector(n))
        fat_sectors += [e for e in entries[:-1] if e != FREE]
        n = entries[-1]
    if len(fat_sectors) < fat_count or fat_count > sectors:
        raise not_readable()
    fat = array("I")
    for n in fat_sectors[:fat_count]:
        fat.frombytes(sector(n))

    def chain(start: int, table, limit: int) -> list[int]:
        """A chain of sectors, refused when it loops, leaves the table or runs past ``limit``."""
        found, seen, n = [], set(), start
        while n != END_OF_CHAIN:
            if n >= len(table) or n in seen or len(found) >= limit:
                raise not_readable()
            seen.add(n)
            found.append(n)
            n = table[n]
        return found

    directory = b"".join(sector(n) for n in chain(first_dir, fat, sectors))
    entries = {}
    for offset in range(0, len(directory) - 127, 128):
        name_size, kind = struct.unpack_from("<HB", directory, offset + 64)
        if kind not in (1, 2, 5) or not 2 <= name_size <= 64:
            continue
        name = directory[offset:offset + name_size - 2].decode("utf-16-le", "replace").lower()
        start, length = struct.unpack_from("<II", directory, offset + 116)
        entries.setdefault(name, (kind, start, length))
    if any(name in entries for name in ENCRYPTED):
        raise password_protected()
    found = next((entries[name] for name in STREAMS if name in entries and entries[name][0] == 2), None)
    root = next((e for e in entries.values() if e[0] == 5), None)
    if found is None or root is None:
        raise not_readable()
    _kind, start, length = found
    if length > len(data):
        raise not_readable()  # a stream longer than the file: its chain can only loop
    if length >= cutoff:
        stream = b"".join(sector(n) for n in chain(start, fat, sectors))
    else:  # a small stream lives in 64-byte pieces of the root's mini stream
        mini_fat = array("I")
        for n in chain(first_mini_fat, fat, sectors) if mini_fat_count else []:
            mini_fat.frombytes(sector(n))
        mini_stream = b"".join(sector(n) for n in chain(root[1], fat, sectors))
        pieces = chain(start, mini_fat, len(mini_fat))
        if any((n + 1) * 64 > len(mini_stream) for n in pieces):
            raise not_readable()
        stream = b"".join(mini_stream[n * 64:(n + 1) * 64] for n in pieces)
    if len(stream) < length:
        raise not_readable()
    return stream[:length]


# The BIFF records -------------------------------------------------------------------------------


def _records(stream: bytes, offset: int):
    """(offset, type, data) of the records from ``offset`` on."""
    end = len(stream)
    while offset + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, offset)
        data = stream[offset + 4:offset + 4 + length]
        if len(data) < length:
            raise not_readable()
        yield offset, kind, data
        offset += 4 + length


def _check_biff(stream: bytes) -> dict[str, SheetCheck]:
    sheets, strings, text_room = [], array("L"), [MAX_TEXT_BYTES]
    records = _records(stream, 0)
    first = next(records, None)
    if first is None or first[1] != BOF:
        raise not_readable()
    pending_sst = None
    for offset, kind, data in records:
        if kind == FILEPASS:
            raise password_protected()
        if kind == BOUNDSHEET:
            position, _state, sheet_type = struct.unpack_from("<IBB", data)
            sheets.append((position, sheet_type, _short_string(data, 6)))
        elif kind == SST:
            pending_sst = [data[8:]]
        elif kind == CONTINUE and pending_sst is not None:
            pending_sst.append(data)
        elif pending_sst is not None:
            _shared_strings(pending_sst, strings)
            pending_sst = None
        if kind == EOF:
            break
    budget = _Budget()
    checks, starts = {}, set()
    for position, sheet_type, title in sheets:
        if position in starts or position >= len(stream):
            raise not_readable()
        starts.add(position)
        checks[title] = _check_sheet(stream, position, title, strings, budget, text_room)
    return checks


class _Budget:
    def __init__(self):
        self.cells = self.values = self.elements = self.records = 0
        self.scanned = 0  # record bytes read over all sheets


def _short_string(data: bytes, offset: int) -> str:
    length, flags = data[offset], data[offset + 1] if len(data) > offset + 1 else 0
    if len(data) == offset + 1 + length:  # BIFF5: no flags byte, one byte a character
        return data[offset + 1:offset + 1 + length].decode("latin-1")
    raw = data[offset + 2:offset + 2 + length * (2 if flags & 1 else 1)]
    return raw.decode("utf-16-le" if flags & 1 else "latin-1")


def _shared_strings(segments: list[bytes], strings: array):
    """Each shared string's length in characters (calamine copies it into every cell that
    points at it). A string's characters may continue in the next CONTINUE record, which
    then starts with a new flags byte; its other parts continue without one."""
    segment, position = 0, 0

    def take(count: int) -> bytes:
        nonlocal segment, position
        out = b""
        while len(out) < count:
            if segment >= len(segments):
                raise not_readable()
            piece = segments[segment][position:position + count - len(out)]
            out += piece
            position += len(piece)
            if position >= len(segments[segment]) and len(out) < count:
                segment, position = segment + 1, 0
        return out

    def at_end() -> bool:
        nonlocal segment, position
        while segment < len(segments) and position >= len(segments[segment]):
            segment, position = segment + 1, 0
        return segment >= len(segments)

    while not at_end():
        length, flags = struct.unpack("<HB", take(3))
        runs = struct.unpack("<H", take(2))[0] if flags & 0x08 else 0
        extra = struct.unpack("<I", take(4))[0] if flags & 0x04 else 0
        left, wide = length, flags & 0x01
        while left:
            if position >= len(segments[segment]):
                segment, position = segment + 1, 0
                wide = take(1)[0] & 0x01
            room = (len(segments[segment]) - position) // (2 if wide else 1)
            count = min(left, max(room, 1))
            take(count * (2 if wide else 1))
            left -= count
        take(4 * runs)
        take(extra)
        strings.append(length * 3)  # bytes at most, in UTF-8
        if len(strings) > MAX_SHARED_STRINGS:
            raise WorkbookError(_("The workbook holds more than %(count)s different texts. Split it into several "
                                  "workbooks.") % {"count": format_number(MAX_SHARED_STRINGS)})


def _dimensions(data: bytes, title: str):
    """The sheet's declared used range: calamine reserves room for it before reading a cell
    (a range of 4 billion rows made it abort)."""
    if len(data) >= 14:  # BIFF8: rows as 32 bits
        first_row, end_row, first_column, end_column = struct.unpack_from("<IIHH", data)
    else:
        first_row, end_row, first_column, end_column = struct.unpack_from("<HHHH", data)
    if end_row < first_row or end_column < first_column:
        raise not_readable()
    if (end_row - first_row) * (end_column - first_column) > MAX_SHEET_CELLS:
        raise WorkbookError(_(
            "The sheet %(sheet)s declares a used range of %(range)s, more than %(count)s cells. Delete stray "
            "cells far from the data, or split the sheet."
        ) % {"sheet": title, "range": f"{end_row - first_row} × {end_column - first_column}",
             "count": format_number(MAX_SHEET_CELLS)})


def _check_sheet(stream, position, title, strings, budget: _Budget, text_room) -> SheetCheck:
    """One sheet's substream, from its BOF to its EOF."""
    check = SheetCheck()
    income = is_income_title(title)
    rows: set[int] = set()
    box = [None, -1, None, -1]  # top, bottom, left, right
    records = _records(stream, position)
    first = next(records, None)
    if first is None or first[1] != BOF:
        raise not_readable()

    def value(row, column, text=0):
        count_values(budget, 1, income=income)
        text_room[0] -= text
        if text_room[0] < 0:
            raise WorkbookError(_("The workbook's cells hold more than %(size)s MB of values (each copy of a repeated "
                                  "text counted). Split it into several workbooks.") % {"size": MAX_TEXT_BYTES // MB})
        if row not in rows:
            rows.add(row)
            if len(rows) > MAX_ROWS:
                raise WorkbookError(_("The sheet %(sheet)s has more than %(count)s rows with values. Split it into "
                                      "several workbooks.") % {"sheet": title, "count": format_number(MAX_ROWS)})
        box[0] = row if box[0] is None else min(box[0], row)
        box[1] = max(box[1], row)
        box[2] = column if box[2] is None else min(box[2], column)
        box[3] = max(box[3], column)
        if (box[1] - box[0] + 1) * (box[3] - box[2] + 1) > MAX_SHEET_CELLS:
            raise WorkbookError(_(
                "The sheet %(sheet)s spans more than %(count)s cells from its first to its last used row and "
                "column. Delete stray cells far from the data, or split the sheet."
            ) % {"sheet": title, "count": format_number(MAX_SHEET_CELLS)})

    formula_at = None
    for offset, kind, data in records:
        budget.scanned += 4 + len(data)
        if budget.scanned > 2 * len(stream):
            raise not_readable()  # sheets that overlap: calamine would read the same records again and again
        if kind == EOF:
            break
        if kind == DIMENSIONS:
            _dimensions(data, title)
        if kind in (BLANK, MULBLANK, NUMBER, RK, BOOLERR, MULRK, LABEL, LABELSST, RSTRING, FORMULA):
            budget.elements += 1
            if budget.elements > MAX_CELL_ELEMENTS:
                raise WorkbookError(_("The workbook holds more than %(count)s cells, empty ones included. Delete the "
                                      "formatting of empty rows, or split it into several workbooks.")
                                    % {"count": format_number(MAX_CELL_ELEMENTS)})
        if kind == MULRK:
            row, first_column = struct.unpack_from("<HH", data)
            for column in range(first_column, first_column + (len(data) - 6) // 6):
                value(row, column)
        elif kind in (NUMBER, RK, BOOLERR):
            value(*struct.unpack_from("<HH", data))
        elif kind in (LABEL, RSTRING):
            row, column, _xf, length = struct.unpack_from("<HHHH", data)
            value(row, column, length * 3)
        elif kind == LABELSST:
            row, column, _xf, index = struct.unpack_from("<HHHI", data)
            if index >= len(strings):
                raise not_readable()
            value(row, column, strings[index])
        elif kind == FORMULA:
            row, column = struct.unpack_from("<HH", data)
            value(row, column)
            formula_at = (row, column)
            if len(check.formulas) < MAX_FORMULAS:
                check.formulas.add((row + 1, column))
            else:
                check.crowded_columns.add(column)
        elif kind == STRING and formula_at is not None:  # a formula's text result
            text_room[0] -= struct.unpack_from("<H", data)[0] * 3
            formula_at = None
    if box[0] is not None:
        budget.cells += (box[1] - box[0] + 1) * (box[3] - box[2] + 1)
        if budget.cells > MAX_CELLS:
            raise WorkbookError(_("The workbook's sheets span more than %(count)s cells in all. Split it into "
                                  "several workbooks.") % {"count": format_number(MAX_CELLS)})
    return check
