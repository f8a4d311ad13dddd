"""Building the report workbook for a selection: one computation for the page and the file."""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from reports import engine, recap
from reports.excel import write_recap, write_report
from reports.rows import summary_rows
from uppka import progress

EXPORT_KEYS = ("opd_id", "type_id", "kecamatan_id")  # groups are streamed row by row


def export_report(out, *, groups, as_of: dt.date, made_by: str, cleaned: dict, user=None, sort: str = "code") -> None:
    """Compute the figures of the selected groups as of a month and write the workbook,
    groups in the page's order (``sort``).

    The workbook is a contract in Indonesian, whatever language the user reads the site in.
    """
    with translation.override("id"):
        _export(out, groups=groups, as_of=as_of, made_by=made_by, described=describe(cleaned, user), sort=sort)


def _export(out, *, groups, as_of, made_by, described, sort):
    now = timezone.localtime()
    header = [
        ("Laporan", "Pendapatan keluarga anggota kelompok UPPKA sebelum dan sesudah bergabung"),
        *described.filters,
        ("Per bulan", formats.date_format(as_of, "F Y", use_l10n=True)),
        ("Dibuat oleh", made_by),
        ("Dibuat pada", formats.date_format(now, "j F Y H:i", use_l10n=True) + " WITA"),
        *(("Catatan", text) for text in explanations()),
    ]
    # Figures aggregated in the database, groups and members streamed: the memory used does
    # not grow with the number of households (see reports/engine.py).
    progress.stage("query")
    with engine.source(groups, as_of) as table:
        figures = engine.figures(groups, as_of, EXPORT_KEYS, table=table)
        progress.stage("rows")
        write_report(
            out,
            header=header,
            scope_rows=summary_rows(figures, total_label=described.total_label, skip=described.skip),
            group_rows=engine.streamed_group_rows(groups, as_of, table, sort=sort),
            member_rows=(engine.keluarga_values(row) for row in engine.member_rows(groups, as_of, table)),
        )


@dataclass(frozen=True)
class Described:
    """What a report covers, in words: the first line's name, the sections that would only
    repeat it, and the filter lines of the workbook's header block."""

    total_label: str
    skip: frozenset  # "opd", "type": sections left out
    filters: list[tuple[str, str]]
    opd_code: str | None  # the OPD the whole report is about, if one


def describe(cleaned: dict, user=None) -> Described:
    """The selection named as the user sees it (``user`` None: the whole city, for the
    command). Call in the language wanted: the workbook is always Indonesian."""
    opd = cleaned.get("opd")
    if opd is None and user is not None and user.is_opd and not user.sees_whole_city:
        opd = user.opd  # every group an OPD user sees is their OPD's
    kind, kecamatan, kelurahan = cleaned.get("group_type"), cleaned.get("kecamatan"), cleaned.get("kelurahan")
    parts = []
    if opd:
        parts.append(_("OPD %(code)s – %(name)s") % {"code": opd.code, "name": opd.name})
    if kind:
        parts.append(_("Type %(code)s – %(name)s") % {"code": kind.code, "name": kind.name})
    if kelurahan:
        parts.append(_("groups based in Kelurahan %(name)s") % {"name": kelurahan.name})
    elif kecamatan:
        parts.append(_("groups based in Kecamatan %(name)s") % {"name": kecamatan.name})
    city_wide = user is None or user.sees_whole_city
    if not opd and (not city_wide or not parts):
        parts.insert(0, _("Kota Palopo") if city_wide else _("All my groups"))
    label = " · ".join(parts)
    label = label[:1].upper() + label[1:]
    filters = [("Cakupan", label)]
    for key, name in (("group_type", "Jenis kelompok"), ("kecamatan", "Kecamatan"), ("kelurahan", "Kelurahan")):
        if cleaned.get(key):
            filters.append((name, f"{cleaned[key].code} – {cleaned[key].name}"))
    skip = frozenset(section for section, on in (("opd", opd), ("type", kind)) if on)
    return Described(label, skip, filters, opd.code if opd else None)


def explanations() -> list[str]:
    """Why the lines of a report need not add up: under the page's tables and in the
    workbook's header block."""
    return [
        _("Each line counts a family once, with its earliest joining among the groups the line covers. "
          "A family in two groups counts once in the first line and once in each OPD and group type it "
          "belongs to, so those lines can add up to more than the first line."),
        _("Kecamatan lines count families where they live; the filters choose groups by where the groups "
          "are based."),
        _("Active members: families with at least one membership active at the end of the month. Compared "
          "families: those with an income recorded both before and after joining; families who left stay in."),
    ]


def export_recap(out, *, groups, month: dt.date, made_by: str, cleaned: dict, user=None) -> None:
    """The monthly recap workbook of SPEC section 8 for the groups given (already scoped to
    the user), always in Indonesian."""
    with translation.override("id"):
        described = describe(cleaned, user)
        progress.stage("query")
        lines = recap.recap(month, groups)
        progress.stage("rows")
        now = timezone.localtime()
        header = [
            ("Laporan", "Rekapitulasi bulanan kelompok UPPKA (register R/I/UPPKA)"),
            *described.filters,
            ("Bulan", formats.date_format(month, "F Y", use_l10n=True)),
            ("Dibuat oleh", made_by),
            ("Dibuat pada", formats.date_format(now, "j F Y H:i", use_l10n=True) + " WITA"),
            ("Catatan", "Baris wilayah memuat kelompok yang berkedudukan di wilayah itu beserta anggotanya; "
                        "setiap keluarga dihitung sekali per baris."),
        ]
        write_recap(
            out, header=header, rows=recap.recap_rows(lines, total_label=described.total_label, skip=described.skip),
            group_rows=recap.group_recap_rows(lines, month),
        )
