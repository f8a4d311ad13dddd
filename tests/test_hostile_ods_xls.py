"""Hostile .ods and .xls files: refused with a clear message, in bounded memory, never a
server error, before calamine reads them (as tests/test_hostile_workbooks.py does for .xlsx).

The .ods files are written part by part with zipfile; the .xls ones are LibreOffice's
data.xls (tests/fixtures/spreadsheets) with a few bytes changed."""

import os
import struct
import subprocess
import sys
import zipfile
from html import escape
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from households import ods_limits, xls_limits
from households.workbook import WorkbookError, read_workbook
from tests.test_hostile_workbooks import BILLION_LAUGHS, CHILD, PEAK_LIMIT, VERDICTS, MiB, database_is_empty

FIXTURES = Path(__file__).parent / "fixtures" / "spreadsheets"
OFFICE = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
NUMBER = b'<table:table-cell office:value-type="float" office:value="1"%s><text:p>1</text:p></table:table-cell>'


def ods(path: Path, *tables, prolog=b"") -> Path:
    """An .ods whose content.xml holds ``tables`` (name, body pieces: bytes or iterables of bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                         'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        with archive.open("content.xml", "w") as part:
            part.write((prolog or b'<?xml version="1.0" encoding="UTF-8"?>') + f"<office:document-content {OFFICE}>"
                       "<office:body><office:spreadsheet>".encode())
            for name, *body in tables:
                part.write(f'<table:table table:name="{name}">'.encode())
                for piece in body:
                    for chunk in [piece] if isinstance(piece, bytes) else piece:
                        part.write(chunk)
                part.write(b"</table:table>")
            part.write(b"</office:spreadsheet></office:body></office:document-content>")
    return path


def header(*names) -> bytes:
    return b"<table:table-row>" + b"".join(
        b'<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell>' % n.encode() for n in names
    ) + b"</table:table-row>"


def blanks(megabytes: int):
    block = b" " * MiB
    for _i in range(megabytes):
        yield block


def deep(levels: int) -> bytes:
    return b"<table:table-row><table:table-cell>" + b"<text:span>" * levels + b"</text:span>" * levels + \
        b"</table:table-cell></table:table-row>"


LONG_TEXT = b'<table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>' + \
    b"x" * 30_000 + b"</text:p></table:table-cell>"
HOSTILE_ODS = {
    # one row, repeated down the whole sheet, of one value repeated across it: 17 billion cells
    "ods-repeated-everywhere": lambda: [("Keluarga", header("No KK"), b'<table:table-row table:number-rows-repeated='
                                         b'"1048575">' + NUMBER % b' table:number-columns-repeated="16384"' +
                                         b"</table:table-row>")],
    # 400,000 rows of one value, in one element
    "ods-repeated-rows": lambda: [("Keluarga", header("No KK"), b'<table:table-row table:number-rows-repeated="400000">'
                                   + NUMBER % b"" + b"</table:table-row>")],
    # a 30,000-character text repeated across 16,384 columns of 20 rows: 9.8 GB of copies
    "ods-text-copies": lambda: [("Catatan", b'<table:table-row table:number-rows-repeated="20">' + LONG_TEXT +
                                 b"</table:table-row>")],
    # 300 MB of blanks: a zip bomb (content.xml unpacks beyond the limit of a part)
    "ods-zip-bomb": lambda: [("Catatan", header("x"), blanks(300))],
    "ods-deep": lambda: [("Catatan", deep(150))],
    # a header, then empty rows repeated far beyond the sheet's last row, then rows of values:
    # calamine caps the empty rows and puts the values after them, a million rows down
    "ods-rows-beyond-the-sheet": lambda: [("Keluarga", header("No KK"), b'<table:table-row table:number-rows-repeated='
                                           b'"99999999"><table:table-cell/></table:table-row>' * 20,
                                           (b"<table:table-row>" + NUMBER % b' table:number-columns-repeated="8"' +
                                            b"</table:table-row>") * 3)],
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-ods-xls")
    built = {}

    def get(name):
        if name not in built:
            if name in HOSTILE_ODS:
                built[name] = ods(folder / f"{name}.ods", *HOSTILE_ODS[name]())
            elif name == "ods-billion-laughs":
                built[name] = ods(folder / f"{name}.ods", ("Catatan", b"<table:table-row><table:table-cell><text:p>&lol9;"
                                  b"</text:p></table:table-cell></table:table-row>"), prolog=BILLION_LAUGHS)
            else:
                built[name] = folder / f"{name}.xls"
                built[name].write_bytes(HOSTILE_XLS[name]((FIXTURES / "data.xls").read_bytes()))
        return built[name]

    return get


# .xls files changed by a few bytes -------------------------------------------------------------


def directory_entry(data: bytes, name: str) -> int:
    """The offset in the file of a directory entry (the directory of data.xls is one sector)."""
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    start = (first_dir + 1) * 512
    wanted = name.encode("utf-16-le")
    for offset in range(start, start + 512, 128):
        if data[offset:offset + len(wanted)] == wanted:
            return offset
    raise AssertionError(name)


def rename_stream(data: bytes, old: str, new: str) -> bytes:
    offset = directory_entry(data, old)
    data = bytearray(data)
    data[offset:offset + 64] = (new.encode("utf-16-le") + b"\x00\x00").ljust(64, b"\x00")
    struct.pack_into("<H", data, offset + 64, 2 * len(new) + 2)
    return bytes(data)


def looping_chain(data: bytes) -> bytes:
    """The Workbook stream's first sector points back at itself."""
    start = struct.unpack_from("<I", data, directory_entry(data, "Workbook") + 116)[0]
    fat_sector = struct.unpack_from("<I", data, 0x4C)[0]
    data = bytearray(data)
    struct.pack_into("<I", data, (fat_sector + 1) * 512 + 4 * start, start)
    return bytes(data)


def far_cell(data: bytes) -> bytes:
    """A text cell moved to row 65,536 and column 256 (an .xls record allows column 65,536)."""
    offset = data.index(b"\xfd\x00\x0a\x00")  # the first LABELSST record: Kelompok's header
    data = bytearray(data)
    struct.pack_into("<HH", data, offset + 4, 65535, 60000)
    return bytes(data)


def declared_range(data: bytes) -> bytes:
    """The first sheet's DIMENSIONS record declares 4 billion rows by 65,535 columns: calamine
    reserves room for them before reading a cell (it aborted the process)."""
    offset = data.index(b"\x00\x02\x0e\x00")
    data = bytearray(data)
    struct.pack_into("<IIHH", data, offset + 4, 0, 0xFFFFFFF0, 0, 0xFFFF)
    return bytes(data)


HOSTILE_XLS = {
    "xls-declared-range": declared_range,
    "xls-truncated": lambda data: data[:len(data) // 2],
    "xls-looping-chain": looping_chain,
    "xls-far-cell": far_cell,
    "xls-no-workbook-stream": lambda data: rename_stream(data, "Workbook", "Wordbook"),
    "xls-password": lambda data: rename_stream(data, "Workbook", "EncryptedPackage"),
}
ALL = [*HOSTILE_ODS, "ods-billion-laughs", *HOSTILE_XLS]
MEASURED = ["xls-declared-range", "ods-rows-beyond-the-sheet", "ods-repeated-everywhere", "ods-repeated-rows", "ods-text-copies", "ods-zip-bomb", "xls-far-cell",
            "xls-looping-chain"]
MESSAGES = {
    "ods-rows-beyond-the-sheet": "Lembar Keluarga mencakup lebih dari 3.300.000 sel",
    "xls-declared-range": "Lembar Kelompok menyatakan rentang terpakai 4294967280 × 65535",
    "ods-repeated-everywhere": "lebih dari 2.000.000 sel yang terisi",
    "ods-repeated-rows": "Lembar Keluarga berisi lebih dari 300.000 baris terisi",
    "ods-text-copies": "lebih dari 150 MB nilai",
    "ods-zip-bomb": "lebih dari 256 MB setelah dibuka (content.xml)",
    "ods-deep": "bersarang lebih dari 100",
    "ods-billion-laughs": "deklarasi DTD atau entitas",
    "xls-truncated": "bukan buku kerja yang dapat dibaca",
    "xls-looping-chain": "bukan buku kerja yang dapat dibaca",
    "xls-far-cell": "Lembar Kelompok mencakup lebih dari 3.300.000 sel",
    "xls-no-workbook-stream": "bukan buku kerja yang dapat dibaca",
    "xls-password": "dilindungi kata sandi",
}


@pytest.mark.parametrize("name", ALL)
def test_hostile_ods_or_xls_is_refused_with_the_limit_it_breaks(hostile, name):
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile(name))
    assert MESSAGES[name] in str(refused.value)


@pytest.fixture(scope="module")
def measured(hostile, tmp_path_factory):
    """name → (verdict, peak bytes, seconds), each read in a forked child as a worker would."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "uppka.settings", "IMPORT_DIR": str(tmp_path_factory.mktemp("imports"))}
    arguments = [str(a) for name in MEASURED for a in ("read", hostile(name))]
    done = subprocess.run([sys.executable, "-c", CHILD, *arguments], cwd=django_settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line.split() for line in done.stdout.splitlines()]
    assert done.returncode == 0 and len(lines) == len(MEASURED), done.stderr[-3000:]
    return {name: (VERDICTS.get(int(code), f"crashed ({code})"), int(peak), float(seconds))
            for name, (_mode, _path, code, peak, seconds) in zip(MEASURED, lines)}


@pytest.mark.parametrize("name", MEASURED)
def test_hostile_ods_or_xls_is_refused_in_bounded_memory_and_time(measured, name):
    verdict, peak, seconds = measured[name]
    assert verdict == "refused"
    assert peak < PEAK_LIMIT and seconds < 60, f"{name}: peak {peak / MiB:.0f} MiB in {seconds:.1f} s"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ods-repeated-everywhere", "ods-billion-laughs", "xls-truncated", "xls-password"])
def test_hostile_ods_or_xls_upload_gets_a_message_not_a_server_error(client, opd_user, hostile, settings, tmp_path, name):
    settings.IMPORT_DIR = tmp_path
    client.force_login(opd_user)
    path = hostile(name)
    response = client.post("/impor/", {"file": SimpleUploadedFile(path.name, path.read_bytes()), "dry_run": "on"}, follow=True)
    assert response.status_code == 200
    assert escape(MESSAGES[name]) in response.content.decode()
    assert database_is_empty()


@pytest.mark.django_db
@pytest.mark.parametrize("name, content", [
    ("laporan.ods", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
    ("laporan.xls", b"<html><table><tr><td>7373010502210001</td></tr></table></html>"),  # what some sites export as .xls
    ("laporan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),  # an OLE header and nothing after
    ("laporan.ods", b"PK\x05\x06" + b"\x00" * 18),  # an empty zip
])
def test_a_file_whose_extension_lies_is_refused_clearly(client, dppkb_user, settings, tmp_path, name, content):
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    response = client.post("/impor/", {"file": SimpleUploadedFile(name, content), "dry_run": "on"}, follow=True)
    assert response.status_code == 200
    assert "Berkas ini bukan buku kerja yang dapat dibaca (.xlsx, .ods atau .xls)" in response.content.decode()


@pytest.mark.parametrize("module, name", [(xls_limits, "data.xls"), (ods_limits, "data.ods")])
@pytest.mark.parametrize("limit, value, message", [
    ("MAX_TEXT_BYTES", 100, "lebih dari 0 MB nilai"),
    ("MAX_VALUES", 10, "lebih dari 10 sel yang terisi"),
    ("MAX_RECORD_VALUES", 10, "lebih dari 10 sel yang terisi di luar lembar Pendapatan"),
    ("MAX_ROWS", 2, "lebih dari 2 baris terisi"),
    ("MAX_SHEET_CELLS", 5, "lebih dari 5 sel"),  # the declared range (.xls) or the used one
])
def test_each_limit_holds_for_ods_and_xls(monkeypatch, module, name, limit, value, message):
    from households import xlsx_limits

    # The values are counted by one function of xlsx_limits for the three kinds of file.
    monkeypatch.setattr(xlsx_limits if limit in ("MAX_VALUES", "MAX_RECORD_VALUES") else module, limit, value)
    with pytest.raises(WorkbookError, match=message):
        read_workbook(FIXTURES / name)


def test_formulas_in_ods_and_xls_are_found(tmp_path):
    from households.xlsx_limits import check_workbook

    for name in ("data.ods", "data.xls"):
        assert all(not check.formulas for check in check_workbook(FIXTURES / name).values())
    path = ods(tmp_path / "rumus.ods", ("Pendapatan", header("No KK", "Periode", "Pendapatan"),
               b'<table:table-row><table:table-cell office:value-type="string"><text:p>7373010502210001</text:p>'
               b'</table:table-cell><table:table-cell office:value-type="string"><text:p>2024-02</text:p>'
               b'</table:table-cell><table:table-cell table:formula="of:=1000*1250" office:value-type="float" '
               b'office:value="1250000"><text:p>1250000</text:p></table:table-cell></table:table-row>'))
    assert check_workbook(path)["Pendapatan"].formulas == {(2, 2)}
