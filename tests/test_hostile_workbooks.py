"""Hostile workbooks: each is refused with a clear message, in bounded memory and time, never
with a server error, and nothing reaches the database.

The files are written part by part with zipfile (a gigabyte of blanks deflates to a
megabyte), so they are small on disk. Peak memory is measured in a child process that sets
Django up and runs the reading or the error copy, as a gunicorn worker would (its peak
resident size from os.wait4, the child's own getrusage).
"""

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from html import escape
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils.translation import gettext as _
from xlsxwriter.exceptions import FileCreateError

from groups.models import Group
from households.importer import plan_import
from households.models import Household, IncomeReading, Membership
from households.workbook import WorkbookError, read_workbook
from households.xlsx import write_error_copy

MiB = 2**20
PEAK_LIMIT = 300 * MiB
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

GROUP_HEADER = ["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan", "Tanggal Dibentuk", "Jenis Usaha", "Tim Kerja"]
FAMILY_HEADER = ["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Alamat", "Jumlah Jiwa",
                 "Metode KB", "Kode Kelompok", "Tanggal Bergabung", "Tanggal Keluar"]
INCOME_HEADER = ["No KK", "Periode", "Pendapatan"]
KK = "7373010502210001"
GROUP_ROW = ["HOS-01", "KWT Uji", "KWT", "DISTAN", "73.73.01.1001", "2020-01-01", "sayur", ""]
FAMILY_ROW = [KK, "7373015506800001", "Siti Uji", "73.73.01.1001", "Jl. A", 4, "PIL", "HOS-01", "2024-03-05", ""]
INCOME_ROW = [KK, "2024-02", 1_250_000]


# Building workbooks part by part -------------------------------------------------------------


def cell(value) -> bytes:
    if isinstance(value, (int, float)):
        return b"<c><v>%d</v></c>" % value
    return b'<c t="inlineStr"><is><t>' + escape(str(value)).encode() + b"</t></is></c>"


def row(values, number=None) -> bytes:
    start = b'<row r="%d">' % number if number else b"<row>"
    return start + b"".join(cell(v) for v in values) + b"</row>"


def sheet(*body, dimension=None, prolog=b"") -> list[bytes]:
    """A worksheet part; ``body`` is the content of <sheetData>, bytes or iterables of bytes."""
    head = (prolog or b'<?xml version="1.0" encoding="UTF-8"?>') + f"<worksheet {MAIN}>".encode()
    if dimension:
        head += f'<dimension ref="{dimension}"/>'.encode()
    return [head + b"<sheetData>", *body, b"</sheetData></worksheet>"]


def import_sheets(groups=(GROUP_ROW,), families=(FAMILY_ROW,), incomes=(INCOME_ROW,)) -> dict:
    return {
        "Kelompok": sheet(row(GROUP_HEADER), *(row(r) for r in groups)),
        "Keluarga": sheet(row(FAMILY_HEADER), *(row(r) for r in families)),
        "Pendapatan": sheet(row(INCOME_HEADER), *(row(r) for r in incomes)),
    }


def write_workbook(path: Path, sheets: dict, *, shared: bytes | None = None, parts: dict | None = None) -> Path:
    """``sheets``: title → a list of bytes and iterables of bytes, streamed into the part;
    ``parts``: more parts by name (xl/styles.xml)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>"
        ))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))
        entries = "".join(f'<sheet name="{escape(t)}" sheetId="{n}" r:id="rId{n}"/>' for n, t in enumerate(sheets, start=1))
        archive.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN} xmlns:r="{RELS}"><sheets>{entries}</sheets></workbook>')
        links = "".join(f'<Relationship Id="rId{n}" Type="{RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in range(1, len(sheets) + 1))
        if shared is not None:
            links += f'<Relationship Id="rIdS" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            archive.writestr("xl/sharedStrings.xml", shared)
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{links}</Relationships>"
        ))
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
        for number, pieces in enumerate(sheets.values(), start=1):
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                for piece in pieces:
                    for chunk in [piece] if isinstance(piece, bytes) else piece:
                        part.write(chunk)
    return path


def blanks(megabytes: int, char: bytes = b" "):
    block = char * MiB
    for _i in range(megabytes):
        yield block


def many_rows(count: int, cells: int):
    """Rows of ``cells`` numbers, without positions (Excel's own files may omit them)."""
    batch = (b"<row>" + b"<c><v>1</v></c>" * cells + b"</row>") * 10_000
    for _i in range(count // 10_000):
        yield batch
    yield (b"<row>" + b"<c><v>1</v></c>" * cells + b"</row>") * (count % 10_000)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10))
    + b"]>"
)


def extra_sheet(*body, prolog=b"") -> dict:
    return {**import_sheets(), "Catatan": sheet(*body, prolog=prolog)}


# Each hostile file of the issue, and a few more of the same families.
SHORT_TEXT = f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN} count="1" uniqueCount="1"><si><t>{"y" * 20}</t></si></sst>'.encode()
SHARED_TEXT = (f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN} count="1" uniqueCount="1"><si><t>'.encode()
               + b"x" * 30_000 + b"</t></si></sst>")
TEXT_COPIES = (b"<row>" + b'<c t="s"><v>0</v></c>' * 10 + b"</row>") * 20_000  # 200,000 copies of 30,000 characters
WIDE_ROWS = (b"<row>" + b'<c t="s"><v>0</v></c>' * 16 + b"</row>") * 299_000
HOSTILE = {
    # a header and one cell in Excel's last column and row: calamine allocated the whole rectangle
    "far-cell": lambda: {**import_sheets(families=()), "Keluarga": sheet(row(FAMILY_HEADER, 1), b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')},
    # Excel's whole height, 8 cells a row
    "million-rows": lambda: {**import_sheets(families=()), "Keluarga": sheet(row(FAMILY_HEADER), many_rows(1_048_575, 8))},
    # blanks inside <sheetData>: 400 MB of them, beyond the size one part may unpack to
    "padding": lambda: {**import_sheets(), "Keluarga": sheet(row(FAMILY_HEADER), blanks(400), row(FAMILY_ROW))},
    # 100 MB of line breaks: within the size limits, but no workbook writer pads like that
    "padding-within-size": lambda: {**import_sheets(), "Keluarga": sheet(row(FAMILY_HEADER), blanks(100, b"\n"), row(FAMILY_ROW))},
    # cells that each point at one 30,000-character shared text: 6 GB of copies
    "shared-text-copies": lambda: {**import_sheets(), "Keluarga": sheet(row(FAMILY_HEADER), TEXT_COPIES)},
    # the same in a sheet the import does not read (it is copied into the error copy)
    # 299,000 rows of 16 cells pointing at one short shared text: within the row limit, and
    # (before the cell limit came down to 3,300,000) held a worker at ~740 MiB for ~40 s
    "wide-rows-of-one-text": lambda: {**import_sheets(families=()), "Keluarga": sheet(row(FAMILY_HEADER), WIDE_ROWS)},
    # 1,050,000 rows of six empty cells in a sheet the import does not read: no value, no
    # rectangle, but the scan reads every element (a million such rows took a worker 70 s)
    "extra-sheet-empty-cells": lambda: extra_sheet((b"<row>" + b"<c/>" * 6 + b"</row>") * 1_050_000),
    "extra-sheet-padding": lambda: extra_sheet(row(["Catatan"]), blanks(400), row(["akhir"])),
    "extra-sheet-padding-within-size": lambda: extra_sheet(row(["Catatan"]), blanks(100, b"\n"), row(["akhir"])),
    "extra-sheet-shared-text-copies": lambda: extra_sheet(TEXT_COPIES),
    "extra-sheet-billion-laughs": lambda: extra_sheet(b'<row><c t="inlineStr"><is><t>&lol9;</t></is></c></row>', prolog=BILLION_LAUGHS),
    "extra-sheet-undefined-entity": lambda: extra_sheet(b'<row><c t="inlineStr"><is><t>&nbsp;</t></is></c></row>'),
}
EXTRA_SHEET_CASES = [name for name in HOSTILE if name.startswith("extra-sheet")]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Build each hostile file once for the module: name → path."""
    folder = tmp_path_factory.mktemp("hostile")
    built = {}

    def get(name):
        if name not in built:
            shared = SHARED_TEXT if name.endswith("shared-text-copies") else SHORT_TEXT if name == "wide-rows-of-one-text" else None
            built[name] = write_workbook(folder / f"{name}.xlsx", HOSTILE[name](), shared=shared)
        return built[name]

    return get


# One Python with Django set up forks a child per file (a fresh worker each time, without
# paying Django's start-up a dozen times); os.wait4 gives that child's own peak memory.
CHILD = """
import os, resource, sys, time
import django
django.setup()
from households.workbook import WorkbookError, read_workbook
from households.xlsx import write_error_copy
jobs = sys.argv[1:]
for mode, path in zip(jobs[::2], jobs[1::2]):
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a runaway child fails, the machine does not swap
        try:
            if mode == "read":
                read_workbook(path)
            else:
                with open(os.devnull, "wb") as out:
                    write_error_copy(path, [], out)
            os._exit(0)
        except WorkbookError:
            os._exit(3)
        except BaseException:
            import traceback
            traceback.print_exc()
            os._exit(1)
    _pid, status, usage = os.wait4(pid, 0)
    print(mode, path, os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, time.monotonic() - started, flush=True)
"""
VERDICTS = {0: "accepted", 3: "refused"}


@pytest.fixture(scope="module")
def measured(hostile, tmp_path_factory):
    """(mode, name) → (verdict, peak bytes, seconds) for every hostile file, read and copied."""
    jobs = [("read", name) for name in HOSTILE] + [("copy", name) for name in EXTRA_SHEET_CASES]
    import_dir = tmp_path_factory.mktemp("imports")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "uppka.settings", "IMPORT_DIR": str(import_dir)}
    arguments = [str(a) for mode, name in jobs for a in (mode, hostile(name))]
    done = subprocess.run([sys.executable, "-c", CHILD, *arguments], cwd=django_settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line.split() for line in done.stdout.splitlines()]
    assert done.returncode == 0 and len(lines) == len(jobs), done.stderr[-3000:]
    results = {}
    for (mode, name), (_mode, _path, code, peak, seconds) in zip(jobs, lines):
        results[(mode, name)] = (VERDICTS.get(int(code), f"crashed ({code}): {done.stderr[-1500:]}"), int(peak), float(seconds))
    results["leftovers"] = sorted(str(p) for p in (import_dir / "tmp").rglob("*")) if (import_dir / "tmp").exists() else []
    return results


# Every hostile file: refused, in bounded memory, with a message on the page ------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_is_refused_in_bounded_memory(measured, name):
    verdict, peak, seconds = measured[("read", name)]
    assert verdict == "refused"
    assert peak < PEAK_LIMIT, f"{name}: peak {peak / MiB:.0f} MiB in {seconds:.1f} s"


@pytest.mark.parametrize("name", EXTRA_SHEET_CASES)
def test_error_copy_of_a_hostile_extra_sheet_is_refused_in_bounded_memory(measured, name):
    verdict, peak, seconds = measured[("copy", name)]
    assert verdict == "refused"
    assert peak < PEAK_LIMIT, f"{name}: peak {peak / MiB:.0f} MiB in {seconds:.1f} s"
    assert measured["leftovers"] == []  # the private temporary folder is left empty


def upload(client, path: Path):
    return client.post("/impor/", {"file": SimpleUploadedFile("impor.xlsx", path.read_bytes()), "dry_run": "on"}, follow=True)


def database_is_empty() -> bool:
    return not (Group.objects.filter(code="HOS-01").exists() or Household.objects.exists()
                or Membership.objects.exists() or IncomeReading.objects.exists())


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_upload_gets_a_message_not_a_server_error(client, opd_user, hostile, settings, tmp_path, name):
    settings.IMPORT_DIR = tmp_path
    client.force_login(opd_user)
    response = upload(client, hostile(name))
    assert response.status_code == 200
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile(name))
    assert escape(str(refused.value)) in response.content.decode()
    assert database_is_empty()
    assert not list(tmp_path.glob("*.xlsx"))  # a refused upload is not kept


# The message says which limit ------------------------------------------------------------------


def limit_message(text, **values):
    return _(text) % values


def test_far_cell_is_refused_by_the_size_of_its_rectangle(hostile):
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile("far-cell"))
    assert str(refused.value) == limit_message(
        "The sheet %(sheet)s spans more than %(count)s cells from its first to its last used row and column. "
        "Delete stray cells far from the data, or split the sheet.", sheet="Keluarga", count="3.300.000")


def test_declared_dimension_beyond_the_limit_is_refused(tmp_path):
    path = write_workbook(tmp_path / "dimensi.xlsx", {**import_sheets(), "Keluarga": sheet(row(FAMILY_HEADER), dimension="A1:XFD1048576")})
    with pytest.raises(WorkbookError) as refused:
        read_workbook(path)
    assert "A1:XFD1048576" in str(refused.value)


def test_too_many_rows_are_refused(tmp_path):
    # Narrow rows (the Pendapatan layout): the row limit comes before the cell limit.
    sheets = {**import_sheets(incomes=()), "Pendapatan": sheet(row(INCOME_HEADER), many_rows(300_000, 3))}
    with pytest.raises(WorkbookError) as refused:
        read_workbook(write_workbook(tmp_path / "baris.xlsx", sheets))
    assert str(refused.value) == limit_message(
        "The sheet %(sheet)s has more than %(count)s rows with values. Split it into several workbooks.",
        sheet="Pendapatan", count="300.000")


def test_padding_is_refused_by_the_unpacked_size(hostile):
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile("padding"))
    assert str(refused.value) == limit_message(
        "The sheet %(sheet)s unpacks to more than %(size)s MB. Split it into several workbooks.", sheet="Keluarga", size=256)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("padding-within-size", "more than 1 MB of blank space or of a single tag"),
        ("extra-sheet-billion-laughs", "a DTD or entity declaration"),
    ],
)
def test_markup_excel_never_writes_is_refused(hostile, name, reason):
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile(name))
    assert _(reason) in str(refused.value)


def test_undefined_entity_is_damaged_xml(hostile):
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile("extra-sheet-undefined-entity"))
    assert "Catatan" in str(refused.value) and "rusak" in str(refused.value) and "entity" not in str(refused.value)


def test_deep_nesting_is_refused(tmp_path):
    deep = b"<row><c><is><t>" + b"<x>" * 200 + b"</x>" * 200 + b"</t></is></c></row>"
    path = write_workbook(tmp_path / "dalam.xlsx", extra_sheet(deep))
    with pytest.raises(WorkbookError, match="100"):
        read_workbook(path)


@pytest.mark.parametrize(
    "limit, value",
    [("MAX_PARTS", 5), ("MAX_TOTAL_BYTES", 3_000), ("MAX_CELLS", 10), ("MAX_TEXT_BYTES", 100),
     ("MAX_CELL_ELEMENTS", 10), ("MAX_VALUES", 10), ("MAX_RECORD_VALUES", 10)],
)
def test_each_workbook_wide_limit_refuses_a_file_over_it(tmp_path, monkeypatch, limit, value):
    from households import xlsx_limits

    path = write_workbook(tmp_path / "biasa.xlsx", import_sheets())
    read_workbook(path)  # within the real limits
    monkeypatch.setattr(xlsx_limits, limit, value)
    with pytest.raises(WorkbookError):
        read_workbook(path)


def test_too_many_shared_texts_are_refused(tmp_path, monkeypatch):
    from households import xlsx_limits

    texts = b"".join(b"<si><t>%d</t></si>" % n for n in range(20))
    path = write_workbook(tmp_path / "teks.xlsx", import_sheets(), shared=f"<sst {MAIN}>".encode() + texts + b"</sst>")
    monkeypatch.setattr(xlsx_limits, "MAX_SHARED_STRINGS", 10)
    with pytest.raises(WorkbookError):
        read_workbook(path)


def test_cells_beyond_excels_last_column_are_refused(tmp_path):
    path = write_workbook(tmp_path / "luar.xlsx", extra_sheet(b'<row r="1"><c r="AAAA1"><v>1</v></c></row>'))
    with pytest.raises(WorkbookError):
        read_workbook(path)


DATE_STYLE = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {MAIN}><numFmts count="1">'
              '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
              '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>')


FAR_DATE = b'<row><c s="1"><v>-1e308</v></c></row>'  # calamine panics on it, and pyo3 raises a BaseException


@pytest.mark.django_db
def test_a_date_calamine_cannot_convert_is_a_message_not_a_crash(client, dppkb_user, tmp_path, settings):
    settings.IMPORT_DIR = tmp_path
    sheets = {**import_sheets(), "Keluarga": sheet(row(FAMILY_HEADER), FAR_DATE)}
    path = write_workbook(tmp_path / "tanggal.xlsx", sheets, parts={"xl/styles.xml": DATE_STYLE})
    with pytest.raises(WorkbookError):
        read_workbook(path)
    client.force_login(dppkb_user)
    response = upload(client, path)
    assert response.status_code == 200
    assert escape(_("This file is not a workbook that can be read (.xlsx, .ods or .xls). Open it in a spreadsheet program "
                     "(Excel, LibreOffice), save it as .xlsx and upload the new file.")) in response.content.decode()


@pytest.mark.django_db
def test_a_date_calamine_cannot_convert_in_an_extra_sheet_is_a_note_in_the_error_copy(client, dppkb_user, tmp_path, settings):
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    sheets = {**import_sheets(families=[[KK[:15], *FAMILY_ROW[1:]]]), "Catatan": sheet(FAR_DATE)}
    html = upload(client, write_workbook(tmp_path / "tanggal.xlsx", sheets, parts={"xl/styles.xml": DATE_STYLE})).content.decode()
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    copy = client_download(client, f"/impor/{token}/kesalahan.xlsx", tmp_path)
    book = openpyxl.load_workbook(copy, read_only=True)
    assert book.sheetnames[0] == "Kesalahan" and "No KK" in str(list(book["Kesalahan"].values))
    assert _("This sheet could not be read, so it is not copied here.") in str(list(book["Catatan"].values))
    assert book["Keluarga"]["A1"].value == "No KK"
    assert not any((tmp_path / "tmp").rglob("*"))


@pytest.mark.django_db
def test_a_null_character_is_a_problem_not_a_crash(client, dppkb_user, tmp_path, settings):
    """calamine turns the escape _x0000_ into a NUL, which PostgreSQL refuses in a query."""
    settings.IMPORT_DIR = tmp_path
    groups = [["HOS_x0000_01", *GROUP_ROW[1:]]]
    families = [[*FAMILY_ROW[:2], "Siti_x0000_", *FAMILY_ROW[3:7], "HOS_x0000_02", *FAMILY_ROW[8:]]]
    path = write_workbook(tmp_path / "nul.xlsx", import_sheets(groups=groups, families=families, incomes=()))
    client.force_login(dppkb_user)
    html = upload(client, path).content.decode()
    assert escape(_("Contains a null character, which cannot be stored.")) in html
    assert escape(_("Unknown group: add it on the Kelompok sheet.")) in html
    assert database_is_empty()


# Formulas, found by parsing ------------------------------------------------------------------


def test_formula_is_refused_whatever_the_attribute_order(tmp_path):
    formula = b'<row r="2"><c t="inlineStr" r="A2"><is><t>' + KK.encode() + b'</t></is></c>' \
        b'<c t="inlineStr" r="B2"><is><t>2024-02</t></is></c><c t="str" r="C2"><f>1000*1250</f><v>1250000</v></c></row>'
    path = write_workbook(tmp_path / "rumus.xlsx", {**import_sheets(), "Pendapatan": sheet(row(INCOME_HEADER, 1), formula)})
    problems = read_workbook(path).problems
    assert [(p.sheet, p.row, p.column) for p in problems] == [("Pendapatan", 2, "Pendapatan")]
    assert problems[0].message == _("Contains a formula; copy and paste it as a value.")


def test_formulas_without_cell_positions_are_found(tmp_path):
    formula = b"<row><c t=\"inlineStr\"><is><t>" + KK.encode() + b"</t></is></c><c t=\"inlineStr\"><is><t>2024-02</t></is></c>" \
        b"<c><f>1000*1250</f><v>1250000</v></c></row>"
    path = write_workbook(tmp_path / "rumus.xlsx", {**import_sheets(), "Pendapatan": sheet(row(INCOME_HEADER), formula)})
    assert [(p.row, p.column) for p in read_workbook(path).problems] == [(2, "Pendapatan")]


def test_thousands_of_formulas_in_an_imported_column_are_one_problem(tmp_path):
    rows = (b"<row><c t=\"inlineStr\"><is><t>%s</t></is></c><c t=\"inlineStr\"><is><t>2024-02</t></is></c><c><f>1+1</f><v>2</v></c></row>" % KK.encode()
            for _i in range(1_500))
    path = write_workbook(tmp_path / "rumus.xlsx", {**import_sheets(), "Pendapatan": sheet(row(INCOME_HEADER), rows)})
    problems = read_workbook(path).problems
    assert len(problems) == 1 and problems[0].column == "Pendapatan" and problems[0].row == 0


def test_thousands_of_formulas_in_a_column_not_imported_are_ignored(tmp_path):
    rows = (b"<row><c t=\"inlineStr\"><is><t>%s</t></is></c><c t=\"inlineStr\"><is><t>2024-02</t></is></c><c><v>5</v></c><c><f>C%d*2</f><v>10</v></c></row>"
            % (KK.encode(), n) for n in range(2, 1_502))
    path = write_workbook(tmp_path / "rumus.xlsx", {**import_sheets(), "Pendapatan": sheet(row(INCOME_HEADER + ["Bantu"]), rows)})
    assert read_workbook(path).problems == []


# The problems cap ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_five_thousand_bad_rows_show_the_first_thousand_and_the_total(client, dppkb_user, tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"
    bad = [[f"{n}", "2024-02", 1000] for n in range(5_000)]  # a KK must have 16 digits
    path = write_workbook(tmp_path / "buruk.xlsx", import_sheets(incomes=bad))
    plan = plan_import(read_workbook(path))
    assert len(plan.problems) == 1_000
    assert plan.problem_count == plan.error_count == 5_000

    client.force_login(dppkb_user)
    html = upload(client, path).content.decode()
    assert escape(_("Showing the first %(shown)s of %(total)s problems.") % {"shown": "1.000", "total": "5.000"}) in html
    assert "Ditemukan 5.000 masalah" in html
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    saved = settings.IMPORT_DIR / f"{token}.json"
    assert saved.stat().st_size < 200_000
    assert json.loads(saved.read_text())["total"] == 5_000
    assert database_is_empty()
    book = openpyxl.load_workbook(client_download(client, f"/impor/{token}/kesalahan.xlsx", tmp_path), read_only=True)
    summary = [r for r in book["Kesalahan"].iter_rows(values_only=True)]
    assert len(summary) == 1 + 1 + 1_000  # the note on how many, the header, the problems
    assert "5.000" in summary[0][0]


def test_a_warning_never_pushes_an_error_out():
    from households.workbook import Problem, ProblemLog

    log = ProblemLog(limit=3)
    for n in range(5):
        log.add(Problem("Keluarga", n + 2, "NIK Kepala Keluarga", "luar kota", warning=True))
    log.add(Problem("Keluarga", 99, "No KK", "salah"))
    assert [p.row for p in log.errors] == [99]
    assert len(log.problems) == 3 and log.problems[0].row == 2  # sorted by row, the error kept
    assert (log.error_count, log.warning_count) == (1, 5)


def client_download(client, url, folder: Path) -> Path:
    response = client.get(url)
    assert response.status_code == 200
    path = folder / "unduhan.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    return path


# The error copy: bounded, in the private folder, and never a server error ------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", EXTRA_SHEET_CASES)
def test_error_copy_of_a_stored_hostile_file_is_a_message(client, dppkb_user, hostile, tmp_path, settings, name):
    """A file stored before these checks existed (or changed on disk) is checked again."""
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    bad = [[KK[:15], *FAMILY_ROW[1:]]]
    html = upload(client, write_workbook(tmp_path / "salah.xlsx", import_sheets(families=bad))).content.decode()
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    (tmp_path / f"{token}.xlsx").write_bytes(hostile(name).read_bytes())
    response = client.get(f"/impor/{token}/kesalahan.xlsx", follow=True)
    assert response.status_code == 200
    with pytest.raises(WorkbookError) as refused:
        read_workbook(hostile(name))
    assert escape(str(refused.value)) in response.content.decode()


@pytest.mark.django_db
def test_error_copy_keeps_the_extra_sheets_and_marks_the_rows(client, dppkb_user, tmp_path, settings):
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    bad = [[KK[:15], *FAMILY_ROW[1:]]]
    sheets = {**import_sheets(families=bad), "Catatan": sheet(row(["catatan", 7]))}
    html = upload(client, write_workbook(tmp_path / "salah.xlsx", sheets)).content.decode()
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    book = openpyxl.load_workbook(client_download(client, f"/impor/{token}/kesalahan.xlsx", tmp_path))
    assert book.sheetnames == ["Kesalahan", "Kelompok", "Keluarga", "Pendapatan", "Catatan"]
    assert [c.value for c in book["Catatan"][1]] == ["catatan", 7, "Kesalahan"]
    assert book["Keluarga"].cell(row=2, column=1).value == KK[:15]
    assert "16" in book["Keluarga"].cell(row=2, column=len(FAMILY_HEADER) + 1).value


class DiskFull(OSError):
    pass


class FailingFile:
    """A download file whose disk fills up as soon as the workbook is written to it (and has
    room again for the zip file's last words when it is collected)."""

    failed = False

    def write(self, data):
        if not self.failed:
            self.failed = True
            raise DiskFull("No space left on device")

    def seek(self, *args):
        return 0

    def tell(self):
        return 0

    def flush(self):
        pass


def test_xlsxwriter_temporary_files_are_private_and_gone_after_a_failed_write(tmp_path, settings, monkeypatch):
    import tempfile

    settings.IMPORT_DIR = tmp_path / "imports"
    seen = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        seen.append(Path(name))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    path = write_workbook(tmp_path / "salah.xlsx", extra_sheet(row(["catatan"])))
    with pytest.raises(FileCreateError):  # XlsxWriter's name for the OSError
        write_error_copy(path, [], FailingFile())
    private = settings.IMPORT_DIR / "tmp"
    assert seen and all(private in p.parents for p in seen)
    assert private.stat().st_mode & 0o777 == 0o700
    assert not any(p.exists() for p in seen) and not any(private.iterdir())


def test_report_workbook_writes_its_temporary_files_in_the_private_folder(tmp_path, settings, monkeypatch):
    import tempfile

    from reports.excel import write_report

    settings.IMPORT_DIR = tmp_path / "imports"
    seen = []
    real_mkstemp = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, **k: seen.append(k.get("dir")) or real_mkstemp(*a, **k))
    with open(os.devnull, "wb") as out:
        write_report(out, header=[("Dibuat", "uji")], scope_rows=[], group_rows=[], member_rows=[])
    private = settings.IMPORT_DIR / "tmp"
    assert seen and all(private in Path(d).parents for d in seen)
    assert not any(private.iterdir())


@pytest.mark.django_db
def test_a_failing_error_copy_is_a_message_and_leaves_no_files(client, dppkb_user, tmp_path, settings, monkeypatch):
    settings.IMPORT_DIR = tmp_path
    client.force_login(dppkb_user)
    bad = [[KK[:15], *FAMILY_ROW[1:]]]
    html = upload(client, write_workbook(tmp_path / "salah.xlsx", import_sheets(families=bad))).content.decode()
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]

    import households.xlsx

    def disk_full(*args, **kwargs):
        raise DiskFull("No space left on device")

    monkeypatch.setattr(households.xlsx, "_write_cell", disk_full)
    response = client.get(f"/impor/{token}/kesalahan.xlsx", follow=True)
    assert response.status_code == 200
    assert escape(_("The workbook with the error column could not be made. Try again later.")) in response.content.decode()
    assert not any((tmp_path / "tmp").rglob("*"))


def test_clean_up_removes_old_temporary_files_left_by_a_killed_worker(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path
    leftover = tmp_path / "tmp" / "tmpab12cd" / "tmpxyz"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"7373010502210001")
    fresh = tmp_path / "tmp" / "tmpnew"
    fresh.write_bytes(b"")
    old = time.time() - 2 * 24 * 60 * 60
    os.utime(leftover, (old, old))
    os.utime(leftover.parent, (old, old))
    call_command("clean_imports", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert not leftover.exists() and not leftover.parent.exists()
    assert fresh.exists()
    from households import imports

    imports.forget_old_files()
    assert fresh.exists()


# A legitimate workbook is unchanged by the checks -------------------------------------------


@pytest.mark.django_db
def test_ordinary_workbook_still_reads(tmp_path):
    path = write_workbook(tmp_path / "biasa.xlsx", import_sheets())
    sheets = read_workbook(path)
    assert sheets.problems == []
    assert [values["No KK"] for _n, values in sheets.rows["Keluarga"]] == [KK]
    plan = plan_import(sheets)
    assert not plan.errors and plan.counts()["households_new"] == 1
