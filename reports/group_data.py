"""Group data by year (SPEC section 9): the rows of the `Data Kelompok` workbook, the
workbook itself, and the city's view of it for the dashboard and the group data page.

Rows and summary are computed in the database with a fixed number of queries, whatever the
number of groups; the workbook is streamed row by row (XlsxWriter's constant memory).
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value, When

from groups.models import GroupProblem
from households.models import (
    CAPITAL_SOURCES, CHANNELS, MKJP_METHODS, BusinessField, GroupProfile, KbMethod, KbStatus, Membership,
)
from reports.excel import DATE_FORMAT, MONEY_FORMAT, _header_row
from uppka.scratch import xlsx_workbook

SHEET = "Data Kelompok"
CAPITAL_HEADERS = [
    "Modal Sendiri (Rp)", "Modal KUR/Bank (Rp)", "Modal Bantuan Pemerintah (Rp)", "Modal BAZNAS (Rp)",
    "Modal Koperasi (Rp)", "Modal Lainnya (Rp)",
]
HEADERS = [
    "Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan", "Kelurahan",
    "Tanggal Dibentuk", "Nomor SK", "Tanggal SK", "Ketua", "Sekretaris", "Bendahara", "Bidang Usaha", "Produk",
    *CAPITAL_HEADERS, "Pemasaran", "Omzet per Bulan (Rp)", "Anggota Aktif", "Akseptor", "MKJP",
]
MONEY_COLUMNS = {HEADERS.index(h) for h in [*CAPITAL_HEADERS, "Omzet per Bulan (Rp)"]}
DATE_COLUMNS = {HEADERS.index("Tanggal Dibentuk"), HEADERS.index("Tanggal SK")}
WIDTHS = [16, 36, 12, 10, 16, 20, 14, 22, 14, 26, 26, 26, 22, 30, 16, 16, 16, 16, 16, 16, 28, 16, 10, 10, 10]
ACCEPTOR_METHODS = [m for m in KbMethod.values if m != KbMethod.TIDAK]


def groups_for_year(groups, year: int):
    """The groups a year's data covers: the active ones, and any with data for that year."""
    return groups.filter(Q(is_active=True) | Exists(GroupProfile.objects.filter(group=OuterRef("pk"), year=year)))


def member_counts(groups, year: int) -> dict[int, tuple[int, int, int]]:
    """Group id → (active members, acceptors, MKJP) on 1 January of ``year``, by the method
    in force in January; one query. A family with no status in force counts in neither."""
    january = dt.date(year, 1, 1)
    method = KbStatus.objects.filter(household=OuterRef("household"), period__lte=january).order_by("-period")
    rows = (
        Membership.objects.filter(group__in=groups).active_on(january)
        .annotate(method=Subquery(method.values("method")[:1]))
        .values("group_id")
        .annotate(
            active=Count("id"),
            acceptors=Count("id", filter=Q(method__in=ACCEPTOR_METHODS)),
            mkjp=Count("id", filter=Q(method__in=list(MKJP_METHODS))),
        )
        .order_by()
    )
    return {r["group_id"]: (r["active"], r["acceptors"], r["mkjp"]) for r in rows}


def group_data_rows(groups, year: int) -> Iterator[list]:
    """One row per group in code order, the columns of HEADERS (SPEC section 9); a group
    without data for the year has its profile columns empty. Three queries."""
    counts = member_counts(groups, year)
    profiles = {
        p.group_id: p
        for p in GroupProfile.objects.filter(group__in=groups, year=year).select_related("chair", "secretary", "treasurer")
    }
    chosen = groups_for_year(groups, year).select_related("group_type", "team__opd", "kelurahan").order_by("code")
    for group in chosen.iterator(chunk_size=2000):
        p = profiles.get(group.pk)
        row = [
            group.code, group.name, group.group_type.code, group.team.opd.code, group.kelurahan.code,
            group.kelurahan.name, group.formed_on,
        ]
        if p is None:
            row += [None] * 15
        else:
            row += [
                p.sk_number or None, p.sk_date,
                *((getattr(p, o).head_name if getattr(p, f"{o}_id") else None) for o in ("chair", "secretary", "treasurer")),
                p.business_field, p.products or None,
                *(getattr(p, field) for _code, field, _label in CAPITAL_SOURCES),
                ", ".join(p.channels) or None, p.turnover,
            ]
        row += list(counts.get(group.pk, (0, 0, 0)))
        yield row


def write_group_data(out, rows) -> None:
    """The `Data Kelompok` workbook: header row frozen with an autofilter, money as numbers
    with the Rupiah format, dates as dates, codes and names as text."""
    with xlsx_workbook(out, {"constant_memory": True, "default_date_format": DATE_FORMAT}) as book:
        money = book.add_format({"num_format": MONEY_FORMAT})
        date = book.add_format({"num_format": DATE_FORMAT})
        head = book.add_format({"bold": True, "bg_color": "#D9EAD3", "border": 1, "text_wrap": True, "valign": "top"})
        sheet = book.add_worksheet(SHEET)
        for column, width in enumerate(WIDTHS):
            sheet.set_column(column, column, width, money if column in MONEY_COLUMNS else None)
        _header_row(sheet, 0, HEADERS, head)
        last = 0
        for last, values in enumerate(rows, start=1):
            for column, value in enumerate(values):
                if value is None:
                    continue
                if column in DATE_COLUMNS:
                    sheet.write_datetime(last, column, dt.datetime.combine(value, dt.time()), date)
                elif column in MONEY_COLUMNS:
                    sheet.write_number(last, column, value, money)
                elif isinstance(value, int):
                    sheet.write_number(last, column, value)
                else:
                    sheet.write_string(last, column, str(value))  # codes stay text: 73.73.01.1001
        sheet.autofilter(0, 0, last, len(HEADERS) - 1)


def export_group_data(out, *, groups, year: int) -> None:
    write_group_data(out, group_data_rows(groups, year))


# What officials ask of the year's data: the dashboard's block and the group data page.


@dataclass(frozen=True)
class Summary:
    year: int
    groups: int  # groups the year covers
    with_data: int
    business: list[tuple[str, str, int]]  # (code, label, groups)
    channels: list[tuple[str, str, int]]  # (code, label, groups)
    capital: list[tuple[str, str, int, int]]  # (code, label, Rupiah, groups with capital from it)
    capital_total: int
    turnover_groups: int
    turnover_mean: Fraction | None
    missing: list  # some groups without data for the year (see MISSING_SHOWN)
    market_problems: list  # groups with an open pasar problem selling through one channel or none

    @property
    def without_data(self) -> int:
        return self.groups - self.with_data


MISSING_SHOWN = 10


def channel_count():
    """How many channels a profile names, as a database expression."""
    return sum(
        (Case(When(**{name: True}, then=Value(1)), default=Value(0), output_field=IntegerField())
         for _code, name, _label in CHANNELS),
        Value(0),
    )


def summary(groups, year: int) -> Summary:
    """Groups by business field and marketing channel, capital by source (sums and groups),
    turnover, the groups without data, and the groups with an open market problem (pasar)
    that sell through one channel or none. Five queries whatever the number of groups."""
    covered = groups_for_year(groups, year)
    profiles = GroupProfile.objects.filter(group__in=covered, year=year)
    totals = profiles.aggregate(
        n=Count("id"),
        turnover_groups=Count("id", filter=Q(turnover__isnull=False)),
        turnover_sum=Sum("turnover"),
        **{f"ch_{code}": Count("id", filter=Q(**{name: True})) for code, name, _label in CHANNELS},
        **{f"cap_{code}": Sum(name) for code, name, _label in CAPITAL_SOURCES},
        **{f"capn_{code}": Count("id", filter=Q(**{f"{name}__gt": 0})) for code, name, _label in CAPITAL_SOURCES},
    )
    by_field = dict(profiles.values_list("business_field").annotate(n=Count("id")).order_by())
    capital = [(code, str(label), totals[f"cap_{code}"] or 0, totals[f"capn_{code}"]) for code, _n, label in CAPITAL_SOURCES]
    open_market = GroupProblem.objects.filter(group=OuterRef("group"), kind=GroupProblem.Kind.MARKET, is_resolved=False)
    flagged = list(
        profiles.annotate(channel_count=channel_count()).filter(Exists(open_market), channel_count__lte=1)
        .select_related("group__team__opd").order_by("group__code")
    )
    no_data = covered.exclude(Exists(GroupProfile.objects.filter(group=OuterRef("pk"), year=year)))
    return Summary(
        year=year,
        groups=covered.count(),
        with_data=totals["n"],
        business=[(code, str(label), by_field.get(code, 0)) for code, label in BusinessField.choices],
        channels=[(code, str(label), totals[f"ch_{code}"]) for code, _n, label in CHANNELS],
        capital=capital,
        capital_total=sum(amount for _c, _l, amount, _n in capital),
        turnover_groups=totals["turnover_groups"],
        turnover_mean=Fraction(totals["turnover_sum"], totals["turnover_groups"]) if totals["turnover_groups"] else None,
        missing=list(no_data.select_related("team__opd").order_by("code")[:MISSING_SHOWN]),
        market_problems=flagged,
    )
