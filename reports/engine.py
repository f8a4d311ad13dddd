"""The one path to every figure of SPEC section 4, for every page and workbook.

Everything the figures need about each membership is kept in the ``MemberFigures`` table
(``households/figures.py``): its scopes, dates, family size and its readings around its
join month. Every figure is an aggregate of those rows in the database, one SQL statement
per page section whatever the number of households:

- ``figures``: active members, paired, means, median, % increased and poverty shares, for
  a selection of groups and any scopes (group, OPD, type, kecamatan, kelurahan, all);
- ``streamed_group_rows``: the same per group, streamed (the workbook's Kelompok sheet);
- ``member_rows``: each membership with its own before/after (the group page, Keluarga);
- ``progress``: target progress; ``reporting``: reporting completeness.

As of a month on or after the latest reading, the kept rows are the figures. As of an
earlier month (``source``), the same SQL that keeps them builds them, bounded by that month,
into a temporary table, and everything else is the same.

Exactness: a mean of up to three whole-Rupiah readings is kept as an integer ×6 (6 is
divisible by 1, 2 and 3), so sums, means and medians stay exact and become ``Fraction``
values at the end. ``reports/compute.py`` is the readable reference the tests hold this to.
"""

import datetime as dt
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection

from groups.models import Group, PovertyLine
from households.figures import SCALE, HouseholdFigures, figures_params, figures_sql
from households.models import IncomeReading, MemberFigures
from reports.compute import Summary
from uppka.months import end_of_month, month_of

EMPTY = Summary(0, 0, None, None, None, None, None, None, None)
KEPT = MemberFigures._meta.db_table
PAST = "uppka_past_figures"
SCOPE_KEYS = ("group_id", "opd_id", "type_id", "kecamatan_id", "kelurahan_id")
PROGRESS_KEYS = ("kecamatan_id", "opd_id", "type_id")


@dataclass(frozen=True)
class Figures:
    """Every scope's Summary for one selection of groups and one as-of month."""

    as_of: dt.date
    total: Summary
    by: dict[str, dict[Hashable, Summary]]  # scope key → scope id → Summary


@dataclass(frozen=True)
class Progress:
    """Distinct acceptor households with a membership active on a day."""

    day: dt.date
    total: int
    by: dict[str, dict[Hashable, int]]  # "kecamatan_id", "opd_id", "type_id" → id → count


@dataclass(frozen=True)
class Reporting:
    """Reporting completeness for a month: per group and per cadre."""

    month: dt.date
    active_members: int
    reported: int
    by_group: dict[int, tuple[int, int]]  # group id → (active members, reported)
    by_cadre: dict[int, tuple[int, int]]  # cadre user id → (distinct active members, reported)

    @property
    def pct(self) -> Fraction | None:
        return Fraction(self.reported * 100, self.active_members) if self.active_members else None


class Selection:
    """A queryset of groups as an SQL condition on a group id column: nothing to add for
    every group (the city), else ``AND column IN (…)``. EmptyResultSet when it cannot match."""

    def __init__(self, groups):
        query = groups.query
        self.everything = not query.where.children and query.low_mark == 0 and query.high_mark is None
        self.sql, self.params = ("", []) if self.everything else groups.order_by().values("id").query.sql_with_params()

    def on(self, column: str) -> str:
        return "" if self.everything else f" AND {column} IN ({self.sql})"


def kept_figures_hold(as_of: dt.date) -> bool:
    """The kept rows are the figures as of any month on or after the latest reading."""
    return not IncomeReading.objects.filter(period__gt=as_of).exists()


@contextmanager
def source(groups, as_of: dt.date) -> Iterator[str]:
    """The table of kept figures as of the month: the kept table itself, or for an earlier
    month a temporary table built by the same SQL bounded by that month (one at a time per
    connection: do not nest)."""
    try:
        selection = Selection(groups)
    except EmptyResultSet:  # nothing to build: every reader answers "empty" for it
        selection = None
    if selection is None or kept_figures_hold(as_of):
        yield KEPT
        return
    sql = figures_sql(f"m.joined_on <= %s{selection.on('m.group_id')}", bounded=True)
    params = figures_params([end_of_month(as_of), *selection.params], as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAST}")
        cursor.execute(f"CREATE TEMPORARY TABLE {PAST} AS {sql}", params)
        cursor.execute(f"CREATE INDEX {PAST}_key ON {PAST} (membership_id)")
        cursor.execute(f"ANALYZE {PAST}")
    try:
        yield PAST
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {PAST}")
        except DatabaseError:  # an aborted transaction: its rollback drops the table, and the
            pass  # error that aborted it is the one to report


def active_on(alias: str) -> str:
    """SQL: the membership ``alias`` is active on a day (SPEC section 3; the model's rule is
    ``Membership.objects.active_on``). Two parameters: the day, twice."""
    return f"{alias}.joined_on <= %s AND ({alias}.left_on IS NULL OR {alias}.left_on > %s)"


SCOPE_SQL = {
    "all": "0",
    "group_id": "b.group_id",
    "opd_id": "b.opd_id",
    "type_id": "b.type_id",
    "kecamatan_id": "b.kecamatan_id",
    "kelurahan_id": "b.kelurahan_id",
}
SUMMARY_COLUMNS = "scope, active, n, b6, a6, c6, rose, judged_b, poor_b, judged_a, poor_a, median12"


def _base_cte(selection: Selection, table: str, lines) -> tuple[str, list]:
    """``base``: the selection's memberships begun by the end of the month, with their
    scopes, whether they are active at the end of the month, and what the figures sum for
    a paired membership (NULL otherwise): its means ×6 for its own join month, and whether
    it was below the poverty line in force in each side's latest month (1 or 0; NULL
    without a line in force). Parameters: the end of the month, the lines', the end of the
    month, the selection's."""
    line_b, params_b = _line_in_force("f.before_last", lines)
    line_a, params_a = _line_in_force("f.after_last", lines)
    sql = f"""
    base AS NOT MATERIALIZED (
        SELECT f.household_id, f.group_id, f.opd_id, f.type_id, f.kelurahan_id, f.kecamatan_id, f.joined_on,
               f.memberships, f.active, f.b6, f.a6, f.c6,
               CASE WHEN f.b6 < f.line_b * {SCALE} * f.family_size THEN 1 WHEN f.line_b IS NOT NULL THEN 0 END AS poor_b,
               CASE WHEN f.a6 < f.line_a * {SCALE} * f.family_size THEN 1 WHEN f.line_a IS NOT NULL THEN 0 END AS poor_a
        FROM (
            SELECT f.*, CASE WHEN f.left_on IS NULL OR f.left_on > %s THEN 1 ELSE 0 END AS active,
                   CASE WHEN f.paired = 1 THEN f.before6 END AS b6, CASE WHEN f.paired = 1 THEN f.after6 END AS a6,
                   f.change6 AS c6,
                   CASE WHEN f.paired = 1 THEN {line_b} END AS line_b, CASE WHEN f.paired = 1 THEN {line_a} END AS line_a
            FROM {table} f
            WHERE f.joined_on <= %s{selection.on('f.group_id')}
        ) f
    )"""
    return sql, [*params_b, *params_a]


def _line_in_force(column: str, lines: list[tuple[dt.date, int]]) -> tuple[str, list]:
    """SQL for the poverty line in force in the month of ``column`` (the latest line dated
    on or before the end of that month), or NULL; ``lines``: (valid_from, amount)."""
    starts: dict[dt.date, int] = {}
    for valid_from, amount in sorted(lines):  # a later line of the same month wins
        starts[month_of(valid_from)] = amount
    if not starts:
        return "NULL", []
    cases = " ".join(f"WHEN {column} >= %s THEN %s" for _ in starts)
    params = [v for month in sorted(starts, reverse=True) for v in (month, starts[month])]
    return f"(CASE {cases} END)", params


FIGURE_COLUMNS = "b6, a6, c6, poor_b, poor_a"
POSTGRESQL = connection.vendor == "postgresql"
# PostgreSQL plans each use of the units best inline; SQLite computes them once.
UNITS_MATERIALIZED = "NOT MATERIALIZED" if POSTGRESQL else "MATERIALIZED"
MEDIAN_TYPE = "double precision" if POSTGRESQL else "REAL"  # percentile_cont's type


# A household's memberships with the same scope value, for each key: one membership per
# household and group; the whole selection, kelurahan and kecamatan (the household's own)
# are one scope value for all of its memberships; an OPD or a type may hold several.
SHARED_BY = {
    "group_id": None, "all": "", "kelurahan_id": "", "kecamatan_id": "", "opd_id": "opd_id", "type_id": "type_id",
}


def _first(within: str, order: str) -> str:
    """The first row of ``multi`` (alias b) in ``order`` for each value of ``within``."""
    if POSTGRESQL:
        return f"(SELECT DISTINCT ON ({within}) * FROM multi b ORDER BY {within}, {order})"
    ranked = f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {within} ORDER BY {order}) AS earliest FROM multi b"
    return f"(SELECT * FROM ({ranked}) r WHERE r.earliest = 1)"


def _units_cte(keys) -> str:
    """``units``: the households counted in the scopes of every key at once. Column ``k{i}``
    is the scope of key i, NULL on a row that does not count for that key.

    Each household counts once per scope value, with its earliest join there: its figures
    are those of that membership's join month, and it is active if any of its memberships
    there is. A household with a single membership (most of them) is one row that counts
    for every key. The others (``multi``) count with one row per scope value: their
    earliest membership there, active if one of them is."""
    columns = ", ".join(f"{SCOPE_SQL[key]} AS k{i}" for i, key in enumerate(keys))
    parts = []
    for shared in dict.fromkeys(SHARED_BY[key] for key in keys):
        if shared is None:  # no two memberships share a scope value
            parts.append(f"SELECT {_scopes(keys, shared)}, b.active, {FIGURE_COLUMNS} FROM multi b")
            continue
        within = ["household_id", *([shared] if shared else [])]
        on = " AND ".join(f"a.{column} = b.{column}" for column in within)
        parts.append(
            f"SELECT {_scopes(keys, shared)}, CASE WHEN a.household_id IS NULL THEN 0 ELSE 1 END, {FIGURE_COLUMNS} "
            f"FROM {_first(', '.join(f'b.{column}' for column in within), 'b.joined_on')} b "
            f"LEFT JOIN (SELECT DISTINCT {', '.join(within)} FROM multi WHERE active = 1) a ON {on}"
        )
    union = "".join(f"\n        UNION ALL {part}" for part in parts)
    return f"""
    multi AS MATERIALIZED (SELECT * FROM base b WHERE b.memberships > 1),
    units AS {UNITS_MATERIALIZED} (
        SELECT {columns}, b.active, {FIGURE_COLUMNS} FROM base b WHERE b.memberships = 1{union}
    )"""


def _scopes(keys, shared) -> str:
    """Columns ``k{i}``: the scopes of the keys whose memberships share scope values as
    ``shared`` says (``SHARED_BY``), NULL for the others."""
    return ", ".join(
        f"{SCOPE_SQL[key]} AS k{i}" if SHARED_BY[key] == shared else f"NULL AS k{i}" for i, key in enumerate(keys)
    )


def _households_once(keys, rows: str) -> list[str]:
    """SELECTs giving each household of ``rows`` (alias b: household_id and the keys' scope
    columns) once per scope value of every key, as columns ``k{i}`` (see ``units``)."""
    parts = []
    for shared in dict.fromkeys(SHARED_BY[key] for key in keys):
        if shared is None:  # one row per household and scope value already
            parts.append(f"SELECT {_scopes(keys, shared)} FROM {rows}")
            continue
        columns = ["b.household_id", *(f"b.{key}" for key in keys if SHARED_BY[key] == shared and key != "all")]
        parts.append(f"SELECT {_scopes(keys, shared)} FROM (SELECT DISTINCT {', '.join(columns)} FROM {rows}) b")
    return parts


def _per_scope(aggregates: str, source: str, indices, where: str = "1 = 1") -> str:
    """Rows (k, scope, aggregates…) of ``source`` per scope value of each key index, over
    its rows meeting ``where``: one pass with GROUPING SETS on PostgreSQL, a GROUP BY per
    key on SQLite."""
    if POSTGRESQL:
        k = "CASE " + " ".join(f"WHEN GROUPING(k{i}) = 0 THEN {i}" for i in indices) + " END"
        scope = f"COALESCE({', '.join(f'k{i}' for i in indices)})"  # the one column grouped
        sets = ", ".join(f"(k{i})" for i in indices)
        return (
            f"SELECT {k} AS k, {scope} AS scope, {aggregates} FROM {source} WHERE {where} "
            f"GROUP BY GROUPING SETS ({sets}) HAVING {scope} IS NOT NULL"
        )
    return " UNION ALL ".join(
        f"SELECT {i} AS k, k{i} AS scope, {aggregates} FROM {source} WHERE k{i} IS NOT NULL AND {where} GROUP BY k{i}"
        for i in indices
    )


# Active members over every unit, the rest over the paired ones (their figures are NULL on
# the others); whole numbers, not decimals (×6 sums of a million memberships stay far below 2^63).
SUMS = """CAST(SUM(active) AS BIGINT) AS active, COUNT(c6) AS n, CAST(SUM(b6) AS BIGINT) AS b6,
    CAST(SUM(a6) AS BIGINT) AS a6, CAST(SUM(c6) AS BIGINT) AS c6, COUNT(*) FILTER (WHERE c6 > 0) AS rose,
    COUNT(poor_b) AS judged_b, CAST(SUM(poor_b) AS BIGINT) AS poor_b,
    COUNT(poor_a) AS judged_a, CAST(SUM(poor_a) AS BIGINT) AS poor_a"""


def _medians_sql(keys, indices) -> str:
    """Rows (k, scope, median12) of the paired units for the key indices: the median change
    ×12 (the mean of two middle values ×6 may end in a half)."""
    if POSTGRESQL:
        median = "ROUND(2 * percentile_cont(0.5) WITHIN GROUP (ORDER BY c6)) AS median12"
        parts = []
        for i in indices:
            if keys[i] == "all":  # no grouping: no sort of the rows before the median's own
                parts.append(f"SELECT {i} AS k, 0 AS scope, {median} FROM units WHERE c6 IS NOT NULL AND k{i} IS NOT NULL")
            elif keys[i] == "group_id":  # each membership is a unit of its group: read in index order
                parts.append(
                    f"SELECT {i} AS k, b.group_id AS scope, {median} FROM base b WHERE b.c6 IS NOT NULL GROUP BY b.group_id"
                )
        if grouped := [i for i in indices if keys[i] not in ("all", "group_id")]:
            parts.append(_per_scope(median, "units", grouped, where="c6 IS NOT NULL"))
        return " UNION ALL ".join(parts)
    # SQLite has no percentile_cont: the middle row(s) by their rank
    return " UNION ALL ".join(
        f"""SELECT {i} AS k, scope, CASE WHEN COUNT(*) = 1 THEN 2 * SUM(c6) ELSE SUM(c6) END AS median12 FROM (
            SELECT k{i} AS scope, c6, ROW_NUMBER() OVER (PARTITION BY k{i} ORDER BY c6) AS rn,
                   COUNT(*) OVER (PARTITION BY k{i}) AS cnt
            FROM units WHERE c6 IS NOT NULL AND k{i} IS NOT NULL
        ) w WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2) GROUP BY scope"""
        for i in indices
    )


def _summary(row) -> Summary:
    """A Summary from the columns ``SUMMARY_COLUMNS`` after the scope."""
    active, n, b6, a6, c6, rose, judged_b, poor_b, judged_a, poor_a, median12 = (
        int(v) if v is not None else None for v in row
    )
    if not n:
        return Summary(active, 0, None, None, None, None, None, None, None)
    return Summary(
        active_members=active,
        paired=n,
        mean_baseline=Fraction(b6, SCALE * n),
        mean_current=Fraction(a6, SCALE * n),
        mean_change=Fraction(c6, SCALE * n),
        median_change=Fraction(median12, 2 * SCALE) if median12 is not None else None,
        pct_increased=Fraction(rose * 100, n),
        pct_poor_before=Fraction(poor_b * 100, judged_b) if judged_b else None,
        pct_poor_after=Fraction(poor_a * 100, judged_a) if judged_a else None,
    )


def _poverty_lines() -> list[tuple[dt.date, int]]:
    return list(PovertyLine.objects.values_list("valid_from", "amount"))


def _summaries_sql(selection: Selection, as_of, keys, table, medians) -> tuple[str, list]:
    """WITH base, units, then ``summaries``: rows (k, ``SUMMARY_COLUMNS``) for each scope
    of every key (k: its index in ``keys``); parameters in order. ``medians``: the keys
    whose medians are computed (a sort each), or True for all."""
    base, line_params = _base_cte(selection, table, _poverty_lines())
    end = end_of_month(as_of)
    indices = [i for i, key in enumerate(keys) if medians is True or key in medians]
    if indices:
        medians_cte = f", medians AS ({_medians_sql(keys, indices)})"
        median_column, median_join = "m.median12", "LEFT JOIN medians m ON m.k = t.k AND m.scope = t.scope"
    else:
        medians_cte, median_column, median_join = "", f"CAST(NULL AS {MEDIAN_TYPE})", ""
    sql = f"""WITH {base}, {_units_cte(keys)},
    totals AS ({_per_scope(SUMS, "units", range(len(keys)))}){medians_cte},
    summaries AS (
        SELECT t.k, t.scope, t.active, t.n, t.b6, t.a6, t.c6, t.rose, t.judged_b, t.poor_b, t.judged_a, t.poor_a,
               {median_column} AS median12
        FROM totals t {median_join}
    )"""
    return sql, [end, *line_params, end, *selection.params]


def figures(groups, as_of: dt.date, keys=SCOPE_KEYS, *, table: str | None = None, medians=True) -> Figures:
    """Summaries of a selection of groups as of a month: the selection as a whole and per
    scope key, one SQL statement. ``table``: a ``source`` already open; ``medians``: True,
    or the keys whose medians are needed ("all" for the selection as a whole)."""
    if table is None:
        with source(groups, as_of) as opened:
            return figures(groups, as_of, keys, table=opened, medians=medians)
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return Figures(as_of=as_of, total=EMPTY, by={key: {} for key in keys})
    all_keys = ("all", *keys)
    head, params = _summaries_sql(selection, as_of, all_keys, table, medians)
    by: dict[str, dict] = {key: {} for key in all_keys}
    with connection.cursor() as cursor:
        cursor.execute(f"{head} SELECT k, {SUMMARY_COLUMNS} FROM summaries", params)
        for row in cursor.fetchall():
            by[all_keys[row[0]]][row[1]] = _summary(row[2:])
    return Figures(as_of=as_of, total=by.pop("all").get(0, EMPTY), by=by)


@dataclass(frozen=True)
class GroupRow:
    id: int
    code: str
    name: str
    type_code: str
    opd_code: str
    kelurahan: str
    is_active: bool
    summary: Summary


GROUP_COLUMNS = "g.id, g.code, g.name, gt.code, o.code, kel.name, g.is_active"
GROUPS_FROM = (
    "FROM groups_group g JOIN groups_grouptype gt ON gt.id = g.group_type_id "
    "JOIN groups_workingteam wt ON wt.id = g.team_id JOIN groups_opd o ON o.id = wt.opd_id "
    "JOIN groups_kelurahan kel ON kel.id = g.kelurahan_id "
)


def group_rows(groups, figures: Figures) -> list[GroupRow]:
    """One row per group of the selection, in code order, with its figures (one query)."""
    summaries = figures.by["group_id"]
    values = groups.order_by("code").values_list(
        "id", "code", "name", "group_type__code", "team__opd__code", "kelurahan__name", "is_active"
    )
    return [GroupRow(*row, summary=summaries.get(row[0], EMPTY)) for row in values]


# The report page's sort keys (reports/rows.py SORT_KEYS) in SQL, for the workbook. Text is
# compared by code point, as Python does; means by their value (a double: two different
# means closer than 1 in 10^15 may swap, which no reader can tell apart).
GROUP_SORT_SQL = {
    "code": "g.code", "name": "LOWER(g.name)", "type": "gt.code", "opd": "o.code", "kelurahan": "kel.name",
    "active": "COALESCE(s0.active, 0)", "paired": "COALESCE(s0.n, 0)",
    "before": "1.0 * s0.b6 / s0.n", "after": "1.0 * s0.a6 / s0.n", "change": "1.0 * s0.c6 / s0.n",
    "median": "s0.median12", "increased": "1.0 * s0.rose / s0.n",
}
TEXT_SORTS = {"code", "name", "type", "opd", "kelurahan"}


def _group_order(sort: str) -> str:
    """ORDER BY for a page sort key (``-`` first: descending): empty figures last either
    way, ties in code order, as ``reports.rows.sort_rows`` orders the page."""
    key = sort.lstrip("-")
    expression = GROUP_SORT_SQL.get(key, "g.code")
    if key in TEXT_SORTS and connection.vendor == "postgresql":
        expression += ' COLLATE "C"'
    direction = " DESC" if sort.startswith("-") else ""
    return f"({expression}) IS NULL, {expression}{direction}, g.code"


def streamed_group_rows(groups, as_of: dt.date, table: str, sort: str = "code") -> Iterator[GroupRow]:
    """Every group of the selection with its figures, in the page's order for ``sort``,
    streamed from the database (the workbook: memory does not grow with the groups).
    Inside ``source``."""
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return
    head, params = _summaries_sql(selection, as_of, ("group_id",), table, True)
    sql = (
        f"{head} SELECT {GROUP_COLUMNS}, s0.active, s0.n, s0.b6, s0.a6, s0.c6, s0.rose, s0.judged_b, s0.poor_b, "
        f"s0.judged_a, s0.poor_a, s0.median12 {GROUPS_FROM}"
        f"LEFT JOIN summaries s0 ON s0.scope = g.id WHERE 1 = 1{selection.on('g.id')} ORDER BY {_group_order(sort)}"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*params, *selection.params])
        while rows := cursor.fetchmany(1_000):
            for row in rows:
                summary = _summary(row[7:]) if row[7] is not None else EMPTY
                yield GroupRow(*row[:6], bool(row[6]), summary=summary)


@dataclass(frozen=True)
class MemberRow:
    """A membership with its own before/after (the group page and the Keluarga sheet)."""

    membership_id: int
    household_id: int
    kk_number: str
    head_name: str
    group_code: str
    joined_on: dt.date
    left_on: dt.date | None
    figures: HouseholdFigures


def member_rows(groups, as_of: dt.date, table: str, chunk_size: int = 5_000) -> Iterator[MemberRow]:
    """Every membership of the selection begun by the end of the month (leavers included),
    ordered by group code and head's name, streamed. Inside ``source``."""
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return
    sql = (
        "SELECT m.id, m.household_id, h.kk_number, h.head_name, g.code, m.joined_on, m.left_on, "
        "f.before_sum, f.before_count, f.after_sum, f.after_count "
        "FROM households_membership m JOIN groups_group g ON g.id = m.group_id "
        "JOIN households_household h ON h.id = m.household_id "
        f"LEFT JOIN {table} f ON f.membership_id = m.id "
        f"WHERE m.joined_on <= %s{selection.on('m.group_id')} "
        "ORDER BY g.code, h.head_name, m.household_id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [end_of_month(as_of), *selection.params])
        while rows := cursor.fetchmany(chunk_size):
            for row in rows:
                yield MemberRow(*row[:5], _date(row[5]), _date(row[6]), HouseholdFigures.from_sums(*row[7:]))


def _date(value):
    """Raw SQL on SQLite gives dates as text."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def progress(groups, day: dt.date) -> Progress:
    """Target progress on a day: distinct acceptor households with a membership of the
    selection active on the day, in all and per kecamatan, OPD and group type."""
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return Progress(day, 0, {key: {} for key in PROGRESS_KEYS})
    keys = ("all", *PROGRESS_KEYS)
    columns = ", ".join(f"{SCOPE_SQL[key]} AS k{i}" for i, key in enumerate(keys))
    # A household with one membership is one row; the others are counted from DISTINCT rows.
    counted = " UNION ALL ".join(
        [f"SELECT {columns} FROM a b WHERE b.memberships = 1", *_households_once(keys, "a b WHERE b.memberships > 1")]
    )
    sql = f"""
    WITH a AS NOT MATERIALIZED (
        SELECT f.household_id, f.memberships, f.opd_id, f.type_id, f.kecamatan_id FROM {KEPT} f
        WHERE {active_on('f')} AND f.acceptor = %s
          {selection.on('f.group_id')}
    ),
    counted AS ({counted})
    {_per_scope("COUNT(*)", "counted", range(len(keys)))}
    """
    by: dict[str, dict] = {key: {} for key in keys}
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, day, True, *selection.params])
        for k, scope, count in cursor.fetchall():
            by[keys[k]][scope] = int(count)
    return Progress(day, by.pop("all").get(0, 0), by)


def reporting(groups, month: dt.date) -> Reporting:
    """Active members (end of month) with a reading for the month, in all, per group and
    per cadre (distinct households over the cadre's groups), one SQL statement."""
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return Reporting(month, 0, 0, {}, {})
    end = end_of_month(month)
    cadres = Group.cadres.through._meta.db_table
    # A household with one membership is one row; the others are counted from DISTINCT rows
    # (one membership per household and group: a group needs none).
    sql = f"""
    WITH a AS (
        SELECT f.household_id, f.group_id, f.memberships, CASE WHEN r.household_id IS NULL THEN 0 ELSE 1 END AS reported
        FROM {KEPT} f
        LEFT JOIN (SELECT household_id FROM households_incomereading WHERE period = %s) r
             ON r.household_id = f.household_id
        WHERE {active_on('f')}{selection.on('f.group_id')}
    ),
    c AS (SELECT a.*, c.user_id FROM a JOIN {cadres} c ON c.group_id = a.group_id)
    SELECT 'all', 0, COUNT(*), SUM(reported) FROM (
        SELECT reported FROM a WHERE memberships = 1
        UNION ALL SELECT reported FROM (SELECT DISTINCT household_id, reported FROM a WHERE memberships > 1) d
    ) x
    UNION ALL SELECT 'group', group_id, COUNT(*), SUM(reported) FROM a GROUP BY group_id
    UNION ALL SELECT 'cadre', user_id, COUNT(*), SUM(reported) FROM (
        SELECT user_id, reported FROM c WHERE memberships = 1
        UNION ALL SELECT user_id, reported FROM (
            SELECT DISTINCT user_id, household_id, reported FROM c WHERE memberships > 1
        ) d
    ) x GROUP BY user_id
    """
    by: dict[str, dict] = {"all": {}, "group": {}, "cadre": {}}
    with connection.cursor() as cursor:
        cursor.execute(sql, [month, end, end, *selection.params])
        for key, scope, active, reported in cursor.fetchall():
            if active:  # the selection as a whole is one row even when empty
                by[key][int(scope)] = (int(active), int(reported))
    total = by["all"].get(0, (0, 0))
    return Reporting(month, total[0], total[1], by_group=by["group"], by_cadre=by["cadre"])


def keluarga_values(row: MemberRow) -> tuple:
    """A Keluarga sheet row: KK, name, group code, joined, before, after, change, change %."""
    f = row.figures
    return (row.kk_number, row.head_name, row.group_code, row.joined_on, f.before, f.after, f.change, f.change_pct)

