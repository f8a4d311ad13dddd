"""The report workbook of SPEC section 5 (sheets Ringkasan, Kelompok and Keluarga) and the
monthly recap of section 8 (Rekap, Rekap Kelurahan, Kelompok).

Rows come from ``reports/rows.py`` (the rows the pages show); this module only writes them,
streamed with XlsxWriter's constant-memory mode. Sheet names and headers are a contract
other offices' tools read: they are fixed Indonesian strings, not translations.
"""

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from uppka import progress
from uppka.formats import round_half_up, round_percent
from uppka.scratch import xlsx_workbook

METRIC_HEADERS = [
    "Anggota Aktif",
    "Keluarga Dibandingkan",
    "Rata-rata Sebelum (Rp)",
    "Rata-rata Sesudah (Rp)",
    "Rata-rata Perubahan (Rp)",
    "Median Perubahan (Rp)",
    "% Keluarga Naik",
]
SUMMARY_HEADERS = ["Cakupan", *METRIC_HEADERS]
GROUP_HEADERS = ["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kelurahan", *METRIC_HEADERS]
MEMBER_HEADERS = [
    "No KK", "Nama Kepala Keluarga", "Kode Kelompok", "Tanggal Bergabung",
    "Sebelum (Rp)", "Sesudah (Rp)", "Perubahan (Rp)", "Perubahan (%)",
]
MONEY_FORMAT = '"Rp" #,##0;-"Rp" #,##0'
PERCENT_FORMAT = "0.0"
DATE_FORMAT = "d mmm yyyy"


def metric_values(summary) -> list:
    """The seven figure cells of a scope or group, rounded as SPEC section 4 says."""
    return [
        summary.active_members,
        summary.paired,
        round_half_up(summary.mean_baseline),
        round_half_up(summary.mean_current),
        round_half_up(summary.mean_change),
        round_half_up(summary.median_change),
        round_percent(summary.pct_increased),
    ]


def write_report(
    out,
    *,
    header: list[tuple[str, str]],
    scope_rows: Iterable,
    group_rows: Iterable,
    member_rows: Iterable[tuple],
) -> None:
    """Write the report workbook to a path or binary file object.

    ``header`` is the block above the Ringkasan table (label, value); ``member_rows`` yields
    (kk, name, group code, joined date, before, after, change, change %) already rounded.
    """
    with xlsx_workbook(out, {"constant_memory": True, "default_date_format": DATE_FORMAT}) as book:
        money = book.add_format({"num_format": MONEY_FORMAT})
        percent = book.add_format({"num_format": PERCENT_FORMAT})
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1, "text_wrap": True, "valign": "top"})
        date = book.add_format({"num_format": DATE_FORMAT})

        summary = book.add_worksheet("Ringkasan")
        summary.set_column(0, 0, 48)
        summary.set_column(1, 2, 14)
        summary.set_column(3, 6, 18, money)
        summary.set_column(7, 7, 12, percent)
        for row, (label, value) in enumerate(header):
            summary.write_string(row, 0, label, bold)
            summary.write_string(row, 1, value)
        top = len(header) + 1
        _write_table(summary, top, SUMMARY_HEADERS, head, ([r.label, *metric_values(r.summary)] for r in scope_rows), money, percent, first_money=3)

        groups = book.add_worksheet("Kelompok")
        groups.set_column(0, 0, 16)
        groups.set_column(1, 1, 40)
        groups.set_column(2, 3, 12)
        groups.set_column(4, 4, 20)
        groups.set_column(5, 6, 12)
        groups.set_column(7, 10, 18, money)
        groups.set_column(11, 11, 12, percent)
        _write_table(
            groups, 0, GROUP_HEADERS, head,
            ([g.code, g.name, g.type_code, g.opd_code, g.kelurahan, *metric_values(g.summary)] for g in group_rows),
            money, percent, first_money=7,
        )

        members = book.add_worksheet("Keluarga")
        members.set_column(0, 0, 20)
        members.set_column(1, 1, 30)
        members.set_column(2, 2, 16)
        members.set_column(3, 3, 14, date)
        members.set_column(4, 6, 16, money)
        members.set_column(7, 7, 12, percent)
        _write_table(members, 0, MEMBER_HEADERS, head, member_rows, money, percent, first_money=4, text_columns=(0,), date_column=3, date_format=date)


def _write_table(sheet, top, headers, head, rows, money, percent, *, first_money, text_columns=(), date_column=None, date_format=None):
    """A header row (frozen, with an autofilter) and the rows below it, written one by one.
    Printed on A4 landscape, all columns on one page wide, the header row on every page."""
    _header_row(sheet, top, headers, head)
    last = top
    percent_column = len(headers) - 1
    for last, values in enumerate(progress.counted(rows), start=top + 1):
        for column, value in enumerate(values):
            if value is None:
                continue
            if column in text_columns:
                sheet.write_string(last, column, str(value))  # a KK number is text: never 7.37e15
            elif column == date_column and isinstance(value, dt.date):
                sheet.write_datetime(last, column, dt.datetime.combine(value, dt.time()), date_format)
            elif column == percent_column:
                sheet.write_number(last, column, value, percent)
            elif column >= first_money:
                sheet.write_number(last, column, value, money)
            elif isinstance(value, (int, float)):
                sheet.write_number(last, column, value)
            else:
                sheet.write_string(last, column, str(value))
    sheet.autofilter(top, 0, max(last, top), len(headers) - 1)


AREA_HEADERS = ["Kode Kecamatan", "Kecamatan", "Kode Kelurahan", "Kelurahan"]
GROUP_RECAP_HEADERS = ["Kode Kelompok", "Nama Kelompok", "Kelurahan", "Melapor", "Tanggal Lapor"]


def write_recap(out, *, header: list[tuple[str, str]], rows: list, group_rows: list) -> None:
    """The recap workbook of SPEC section 8: sheets Rekap, Rekap Kelurahan and Kelompok.
    ``rows`` are reports.recap.RecapRow (the selection first), ``group_rows`` GroupRecapRow."""
    from reports.recap import FROM_MEETINGS, HEADERS

    with xlsx_workbook(out, {"constant_memory": True, "default_date_format": DATE_FORMAT}) as book:
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1, "text_wrap": True, "valign": "top"})
        date = book.add_format({"num_format": DATE_FORMAT})

        recap = book.add_worksheet("Rekap")
        recap.set_column(0, 0, 48)
        recap.set_column(1, len(HEADERS), 11)
        for row, (label, value) in enumerate(header):
            recap.write_string(row, 0, label, bold)
            recap.write_string(row, 1, value)
        top = len(header) + 1
        _write_counts(recap, top, ["Cakupan", *HEADERS], head, ([r.label, *r.values] for r in rows))

        areas = book.add_worksheet("Rekap Kelurahan")
        areas.set_column(0, 3, 16)
        areas.set_column(4, 4 + len(HEADERS), 11)
        _write_counts(
            areas, 0, [*AREA_HEADERS, *HEADERS], head,
            ([r.area.kecamatan.code, r.area.kecamatan.name, r.area.code, r.area.name, *r.values]
             for r in rows if r.kind == "kelurahan"),
        )

        groups = book.add_worksheet("Kelompok")
        groups.set_column(0, 0, 16)
        groups.set_column(1, 1, 36)
        groups.set_column(2, 2, 20)
        groups.set_column(3, 3, 9)
        groups.set_column(4, 4, 14, date)
        groups.set_column(5, 5 + len(HEADERS) - FROM_MEETINGS, 11)
        _write_counts(
            groups, 0, [*GROUP_RECAP_HEADERS, *HEADERS[FROM_MEETINGS:]], head,
            ([g.group.code, g.group.name, g.group.kelurahan.name, "Ya" if g.report else "Tidak",
              timezone.localtime(g.report.submitted_at).date() if g.report else None, *g.values] for g in group_rows),
            date_format=date,
        )


def _write_counts(sheet, top, headers, head, rows, *, date_format=None):
    """A header row (frozen, with an autofilter) and rows of text, dates and whole counts."""
    _header_row(sheet, top, headers, head)
    last = top
    for last, cells in enumerate(progress.counted(rows), start=top + 1):
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(last, column, dt.datetime.combine(value, dt.time()), date_format)
            elif isinstance(value, int):
                sheet.write_number(last, column, value)
            else:
                sheet.write_string(last, column, str(value))
    sheet.autofilter(top, 0, max(last, top), len(headers) - 1)


def _header_row(sheet, top, headers, head) -> None:
    """The table's header row, frozen; printed on A4 landscape, all columns one page wide,
    the header row on every page."""
    sheet.set_row(top, 30)  # two lines for the wrapped headers (no autofit in constant memory)
    sheet.write_row(top, 0, headers, head)
    sheet.freeze_panes(top + 1, 0)
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(top)
