"""The one path to every figure of SPEC section 4, for every page and workbook.

Each household's readings around each of its join months are kept in the ``JoinFigures``
table (``households/figures.py``). Every figure is an aggregate of those rows in the
database, one SQL statement per page section whatever the number of households:

- ``figures``: active members, paired, means, median, % increased and poverty shares, for
  a selection of groups and any scopes (group, OPD, type, kecamatan, kelurahan, all);
- ``group_summaries``: the same per group, streamed (the workbook's Kelompok sheet);
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
from django.db import connection

from groups.models import Group
from households.figures import figures_params, figures_sql, month_start_sql, pairs_sql
from households.models import IncomeReading, JoinFigures, KbMethod
from reports.compute import Summary
from uppka.months import end_of_month

SCALE = 6
EMPTY = Summary(0, 0, None, None, None, None, None, None, None)
KEPT = JoinFigures._meta.db_table
PAST = "uppka_past_figures"
SCOPE_KEYS = ("group_id", "opd_id", "type_id", "kecamatan_id", "kelurahan_id")
PROGRESS_KEYS = ("kecamatan_id", "opd_id", "type_id")
ACCEPTOR = f"h.kb_method <> '{KbMethod.TIDAK.value}'"


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


@dataclass(frozen=True)
class HouseholdFigures:
    """One membership's before/after, rounded as SPEC section 4 says for display and export."""

    before: int | None
    after: int | None
    change: int | None
    change_pct: float | None  # one decimal; None when unpaired or the baseline is 0

    @property
    def paired(self) -> bool:
        return self.change is not None

    @classmethod
    def from_sums(cls, before_sum, before_count, after_sum, after_count) -> "HouseholdFigures":
        """Exact integer arithmetic: change = a/na − b/nb = (a·nb − b·na) / (na·nb)."""
        b, nb, a, na = (int(v or 0) for v in (before_sum, before_count, after_sum, after_count))
        if not (nb and na):
            return cls(_round(b, nb) if nb else None, _round(a, na) if na else None, None, None)
        change_num, change_den = a * nb - b * na, na * nb
        pct = _round(change_num * nb * 1000, change_den * b) / 10 if b else None  # change / (b/nb) × 100
        return cls(_round(b, nb), _round(a, na), _round(change_num, change_den), pct)


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (denominator > 0)."""
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def _selection(groups) -> tuple[str, list]:
    """SQL for the ids of a queryset of groups; EmptyResultSet when it cannot match."""
    return groups.order_by().values("id").query.sql_with_params()


def kept_figures_hold(as_of: dt.date) -> bool:
    """The kept rows are the figures as of any month on or after the latest reading."""
    return not IncomeReading.objects.filter(period__gt=as_of).exists()


@contextmanager
def source(groups, as_of: dt.date) -> Iterator[str]:
    """The table of (household, join month) figures as of the month: the kept table, or for
    an earlier month a temporary table built by the same SQL bounded by that month."""
    if kept_figures_hold(as_of):
        yield KEPT
        return
    groups_sql, groups_params = _selection(groups)
    pairs = pairs_sql(f"m.joined_on <= %s AND m.group_id IN ({groups_sql})")
    params = figures_params([end_of_month(as_of), *groups_params], as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PAST}")
        cursor.execute(f"CREATE TEMPORARY TABLE {PAST} AS {figures_sql(pairs, bounded=True)}", params)
        # Joined on (household, month) below; without an index and statistics a streaming
        # cursor picks a nested loop over the whole table.
        cursor.execute(f"CREATE INDEX {PAST}_key ON {PAST} (household_id, month)")
        cursor.execute(f"ANALYZE {PAST}")
    try:
        yield PAST
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PAST}")


SCOPE_SQL = {
    "all": "0",
    "group_id": "b.group_id",
    "opd_id": "b.opd_id",
    "type_id": "b.type_id",
    "kecamatan_id": "b.kecamatan_id",
    "kelurahan_id": "b.kelurahan_id",
}
SUMMARY_COLUMNS = "scope, active, n, b6, a6, c6, rose, judged_b, poor_b, judged_a, poor_a, mid_sum, mid_n"


def _base_ctes(groups_sql: str) -> str:
    """``base``: the selection's memberships begun by the end of the month, with their
    scopes; ``lines``: each poverty line with the months it is in force, [first, next)."""
    return f"""
    base AS (
        SELECT m.household_id, m.group_id, t.opd_id, g.group_type_id AS type_id, h.kelurahan_id,
               k.kecamatan_id, m.joined_on,
               CASE WHEN m.left_on IS NULL OR m.left_on > %s THEN 1 ELSE 0 END AS active, h.family_size
        FROM households_membership m
        JOIN groups_group g ON g.id = m.group_id
        JOIN groups_workingteam t ON t.id = g.team_id
        JOIN households_household h ON h.id = m.household_id
        JOIN groups_kelurahan k ON k.id = h.kelurahan_id
        WHERE m.joined_on <= %s AND m.group_id IN ({groups_sql})
    ),
    lines AS (
        SELECT amount, {month_start_sql('valid_from')} AS first,
               LEAD({month_start_sql('valid_from')}) OVER (ORDER BY valid_from, id) AS next
        FROM groups_povertyline
    )"""


def _key_ctes(i: int, key: str, table: str) -> str:
    """Summary rows of one scope key, as CTE ``s{i}`` (columns ``SUMMARY_COLUMNS``).

    Each household counts once per scope value, with its earliest join there (a group is a
    scope too: one membership per household and group)."""
    if key == "group_id":
        units = "SELECT b.group_id AS scope, b.household_id, b.joined_on AS joined, b.active, b.family_size FROM base b"
    else:
        units = (
            f"SELECT {SCOPE_SQL[key]} AS scope, b.household_id, MIN(b.joined_on) AS joined, MAX(b.active) AS active, "
            "MAX(b.family_size) AS family_size FROM base b GROUP BY 1, 2"
        )
    middle = "rn IN ((cnt + 1) / 2, (cnt + 2) / 2)"  # the middle row, or the two middle rows
    line = "LEFT JOIN lines {0} ON {0}.first <= p.{1} AND ({0}.next IS NULL OR p.{1} < {0}.next)"
    return f"""
    u{i} AS ({units}),
    p{i} AS (
        SELECT u.scope, u.family_size, f.before_sum * ({SCALE} / f.before_count) AS b6,
               f.after_sum * ({SCALE} / f.after_count) AS a6, f.before_last, f.after_last
        FROM u{i} u JOIN {table} f ON f.household_id = u.household_id AND f.month = {month_start_sql('u.joined')}
        WHERE f.before_count > 0 AND f.after_count > 0
    ),
    r{i} AS (
        SELECT p.scope, p.family_size, p.b6, p.a6, p.a6 - p.b6 AS c6, lb.amount AS line_b, la.amount AS line_a,
               ROW_NUMBER() OVER (PARTITION BY p.scope ORDER BY p.a6 - p.b6) AS rn,
               COUNT(*) OVER (PARTITION BY p.scope) AS cnt
        FROM p{i} p {line.format('lb', 'before_last')} {line.format('la', 'after_last')}
    ),
    t{i} AS (
        SELECT scope, COUNT(*) AS n, SUM(b6) AS b6, SUM(a6) AS a6, SUM(c6) AS c6,
               SUM(CASE WHEN c6 > 0 THEN 1 ELSE 0 END) AS rose,
               SUM(CASE WHEN line_b IS NOT NULL THEN 1 ELSE 0 END) AS judged_b,
               SUM(CASE WHEN line_b IS NOT NULL AND b6 < line_b * {SCALE} * family_size THEN 1 ELSE 0 END) AS poor_b,
               SUM(CASE WHEN line_a IS NOT NULL THEN 1 ELSE 0 END) AS judged_a,
               SUM(CASE WHEN line_a IS NOT NULL AND a6 < line_a * {SCALE} * family_size THEN 1 ELSE 0 END) AS poor_a,
               SUM(CASE WHEN {middle} THEN c6 ELSE 0 END) AS mid_sum,
               SUM(CASE WHEN {middle} THEN 1 ELSE 0 END) AS mid_n
        FROM r{i} GROUP BY scope
    ),
    s{i} AS (
        SELECT a.scope, a.active, t.n, t.b6, t.a6, t.c6, t.rose, t.judged_b, t.poor_b, t.judged_a, t.poor_a,
               t.mid_sum, t.mid_n
        FROM (SELECT scope, SUM(active) AS active FROM u{i} GROUP BY scope) a LEFT JOIN t{i} t ON t.scope = a.scope
    )"""


def _summary(row) -> Summary:
    """A Summary from the columns ``SUMMARY_COLUMNS`` after the scope."""
    active, n, b6, a6, c6, rose, judged_b, poor_b, judged_a, poor_a, mid_sum, mid_n = (
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
        median_change=Fraction(mid_sum, SCALE * mid_n),
        pct_increased=Fraction(rose * 100, n),
        pct_poor_before=Fraction(poor_b * 100, judged_b) if judged_b else None,
        pct_poor_after=Fraction(poor_a * 100, judged_a) if judged_a else None,
    )


def figures(groups, as_of: dt.date, keys=SCOPE_KEYS, *, table: str | None = None) -> Figures:
    """Summaries of a selection of groups as of a month: the selection as a whole and per
    scope key, one SQL statement. ``table``: a ``source`` already open."""
    if table is None:
        with source(groups, as_of) as opened:
            return figures(groups, as_of, keys, table=opened)
    try:
        groups_sql, groups_params = _selection(groups)
    except EmptyResultSet:
        return Figures(as_of=as_of, total=EMPTY, by={key: {} for key in keys})
    all_keys = ("all", *keys)
    ctes = ",".join(_key_ctes(i, key, table) for i, key in enumerate(all_keys))
    union = " UNION ALL ".join(f"SELECT {i} AS k, {SUMMARY_COLUMNS} FROM s{i}" for i in range(len(all_keys)))
    end = end_of_month(as_of)
    by: dict[str, dict] = {key: {} for key in all_keys}
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {_base_ctes(groups_sql)},{ctes} {union}", [end, end, *groups_params])
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


def streamed_group_rows(groups, as_of: dt.date, table: str) -> Iterator[GroupRow]:
    """Every group of the selection in code order with its figures, streamed from the
    database (the workbook: memory does not grow with the groups). Inside ``source``."""
    try:
        groups_sql, groups_params = _selection(groups)
    except EmptyResultSet:
        return
    end = end_of_month(as_of)
    sql = (
        f"WITH {_base_ctes(groups_sql)},{_key_ctes(0, 'group_id', table)} "
        f"SELECT {GROUP_COLUMNS}, s0.active, s0.n, s0.b6, s0.a6, s0.c6, s0.rose, s0.judged_b, s0.poor_b, "
        f"s0.judged_a, s0.poor_a, s0.mid_sum, s0.mid_n {GROUPS_FROM}"
        f"LEFT JOIN s0 ON s0.scope = g.id WHERE g.id IN ({groups_sql}) ORDER BY g.code"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [end, end, *groups_params, *groups_params])
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
        groups_sql, groups_params = _selection(groups)
    except EmptyResultSet:
        return
    sql = (
        "SELECT m.id, m.household_id, h.kk_number, h.head_name, g.code, m.joined_on, m.left_on, "
        "f.before_sum, f.before_count, f.after_sum, f.after_count "
        "FROM households_membership m JOIN groups_group g ON g.id = m.group_id "
        "JOIN households_household h ON h.id = m.household_id "
        f"LEFT JOIN {table} f ON f.household_id = m.household_id AND f.month = {month_start_sql('m.joined_on')} "
        f"WHERE m.joined_on <= %s AND m.group_id IN ({groups_sql}) "
        "ORDER BY g.code, h.head_name, m.household_id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [end_of_month(as_of), *groups_params])
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
        groups_sql, groups_params = _selection(groups)
    except EmptyResultSet:
        return Progress(day, 0, {key: {} for key in PROGRESS_KEYS})
    sql = f"""
    WITH a AS (
        SELECT DISTINCT m.household_id, t.opd_id, g.group_type_id AS type_id, k.kecamatan_id
        FROM households_membership m
        JOIN groups_group g ON g.id = m.group_id
        JOIN groups_workingteam t ON t.id = g.team_id
        JOIN households_household h ON h.id = m.household_id
        JOIN groups_kelurahan k ON k.id = h.kelurahan_id
        WHERE m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on > %s) AND {ACCEPTOR}
          AND m.group_id IN ({groups_sql})
    )
    SELECT 'all', 0, COUNT(DISTINCT household_id) FROM a
    UNION ALL SELECT 'kecamatan_id', kecamatan_id, COUNT(DISTINCT household_id) FROM a GROUP BY kecamatan_id
    UNION ALL SELECT 'opd_id', opd_id, COUNT(DISTINCT household_id) FROM a GROUP BY opd_id
    UNION ALL SELECT 'type_id', type_id, COUNT(DISTINCT household_id) FROM a GROUP BY type_id
    """
    by: dict[str, dict] = {"all": {}, **{key: {} for key in PROGRESS_KEYS}}
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, day, *groups_params])
        for key, scope, count in cursor.fetchall():
            if count:
                by[key][scope] = int(count)
    return Progress(day, by.pop("all").get(0, 0), by)


def reporting(groups, month: dt.date) -> Reporting:
    """Active members (end of month) with a reading for the month, in all, per group and
    per cadre (distinct households over the cadre's groups), one SQL statement."""
    try:
        groups_sql, groups_params = _selection(groups)
    except EmptyResultSet:
        return Reporting(month, 0, 0, {}, {})
    end = end_of_month(month)
    cadres = Group.cadres.through._meta.db_table
    counts = "COUNT(DISTINCT household_id), COUNT(DISTINCT CASE WHEN reported = 1 THEN household_id END)"
    sql = f"""
    WITH a AS (
        SELECT m.household_id, m.group_id,
               CASE WHEN EXISTS (SELECT 1 FROM households_incomereading r
                                 WHERE r.household_id = m.household_id AND r.period = %s) THEN 1 ELSE 0 END AS reported
        FROM households_membership m
        WHERE m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on > %s) AND m.group_id IN ({groups_sql})
    )
    SELECT 'all', 0, {counts} FROM a
    UNION ALL SELECT 'group', group_id, {counts} FROM a GROUP BY group_id
    UNION ALL SELECT 'cadre', c.user_id, {counts}
        FROM a JOIN {cadres} c ON c.group_id = a.group_id GROUP BY c.user_id
    """
    by: dict[str, dict] = {"all": {}, "group": {}, "cadre": {}}
    with connection.cursor() as cursor:
        cursor.execute(sql, [month, end, end, *groups_params])
        for key, scope, active, reported in cursor.fetchall():
            by[key][int(scope)] = (int(active), int(reported))
    total = by["all"].get(0, (0, 0))
    return Reporting(month, total[0], total[1], by_group=by["group"], by_cadre=by["cadre"])


def keluarga_values(row: MemberRow) -> tuple:
    """A Keluarga sheet row: KK, name, group code, joined, before, after, change, change %."""
    f = row.figures
    return (row.kk_number, row.head_name, row.group_code, row.joined_on, f.before, f.after, f.change, f.change_pct)

