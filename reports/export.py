"""Building the report workbook for a selection: one computation for the page and the file."""

import datetime as dt

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from groups.models import Opd
from reports import engine
from reports.excel import write_report
from reports.rows import summary_rows

EXPORT_KEYS = ("opd_id", "type_id", "kecamatan_id")  # groups are streamed row by row


def export_report(out, *, groups, as_of: dt.date, made_by: str, filters: list[tuple[str, str]], total_label: str) -> None:
    """Compute the figures of the selected groups as of a month and write the workbook.

    The workbook is a contract in Indonesian, whatever language the user reads the site in.
    """
    with translation.override("id"):
        _export(out, groups=groups, as_of=as_of, made_by=made_by, filters=filters, total_label=total_label)


def _export(out, *, groups, as_of, made_by, filters, total_label):
    now = timezone.localtime()
    header = [
        ("Laporan", "Pendapatan keluarga anggota kelompok UPPKA sebelum dan sesudah bergabung"),
        *filters,
        ("Per bulan", formats.date_format(as_of, "F Y", use_l10n=True)),
        ("Dibuat oleh", made_by),
        ("Dibuat pada", formats.date_format(now, "j F Y H:i", use_l10n=True) + " WITA"),
    ]
    # Figures aggregated in the database, groups and members streamed: the memory used does
    # not grow with the number of households (see reports/engine.py).
    with engine.source(groups, as_of) as table:
        figures = engine.figures(groups, as_of, EXPORT_KEYS, table=table)
        write_report(
            out,
            header=header,
            scope_rows=summary_rows(figures, total_label=total_label),
            group_rows=engine.streamed_group_rows(groups, as_of, table),
            member_rows=(engine.keluarga_values(row) for row in engine.member_rows(groups, as_of, table)),
        )


def filter_lines(cleaned: dict, *, city_wide: bool) -> list[tuple[str, str]]:
    """The filters as header lines of the Ringkasan sheet."""
    lines = [("Cakupan", total_label(cleaned.get("opd"), city_wide=city_wide))]
    for key, label in (("group_type", "Jenis kelompok"), ("kecamatan", "Kecamatan"), ("kelurahan", "Kelurahan")):
        if cleaned.get(key):
            lines.append((label, f"{cleaned[key].code} – {cleaned[key].name}"))
    return lines


def total_label(opd: Opd | None, *, city_wide: bool) -> str:
    """The first summary line: the OPD asked for, the city for DPPKB, or the user's groups."""
    if opd:
        return f"OPD {opd.code} – {opd.name}"
    return _("Kota Palopo") if city_wide else _("All my groups")
