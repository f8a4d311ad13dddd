"""The metrics computed entirely in the database, for the report workbook.

The pages load a selection's memberships into pandas (``reports/queries.py``): fast, but
their memory grows with the households. The export must not, so here the per-household
figures stay in a temporary table and only one row per scope (or a chunk of memberships)
ever reaches Python. Medians come from window functions; means stay integers ×6, as in
``queries.py``. The tests hold this path to the pure core on SQLite and PostgreSQL.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection

from reports.compute import Summary
from uppka.months import end_of_month
from reports.queries import EMPTY, SCALE, Figures, pair_stats_query
from reports.rows import GroupRow

TABLE = "uppka_export_pairs"
SCOPE_SQL = {
    "all": "0",
    "group_id": "m.group_id",
    "opd_id": "t.opd_id",
    "type_id": "g.group_type_id",
    "kecamatan_id": "k.kecamatan_id",
    "kelurahan_id": "h.kelurahan_id",
}
MEMBERS_FROM = (
    "FROM households_membership m "
    "JOIN groups_group g ON g.id = m.group_id "
    "JOIN groups_workingteam t ON t.id = g.team_id "
    "JOIN households_household h ON h.id = m.household_id "
    "JOIN groups_kelurahan k ON k.id = h.kelurahan_id "
)


def _month_start(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"date({column}, 'start of month')"


def _next_month(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} + interval '1 month')::date"
    return f"date({column}, '+1 month')"


@contextmanager
def pairs_table(groups, as_of: dt.date):
    """A temporary table of every (household, join month)'s readings on each side; yields
    False when the selection is empty."""
    try:
        sql, params = pair_stats_query(groups, as_of)
    except EmptyResultSet:
        yield False
        return
    # The poverty line in force in each side's latest month, looked up once per pair.
    line = "(SELECT l.amount FROM groups_povertyline l WHERE l.valid_from < {} ORDER BY l.valid_from DESC LIMIT 1)"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TABLE} AS SELECT q.*, {line.format(_next_month('q.b_last'))} AS line_b, "
            f"{line.format(_next_month('q.a_last'))} AS line_a FROM ({sql}) q",
            params,
        )
        # Joined on (household, join month) below; without an index and statistics a
        # streaming cursor picks a nested loop over the whole table.
        cursor.execute(f"CREATE INDEX {TABLE}_key ON {TABLE} (household_id, j)")
        cursor.execute(f"ANALYZE {TABLE}")
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def scope_figures(groups, as_of: dt.date, keys) -> Figures:
    """The same Figures as ``Dataset.figures``, one SQL statement per scope key. Call inside
    ``pairs_table``."""
    by = {key: _summaries(groups, as_of, key) for key in ("all", *keys)}
    return Figures(as_of=as_of, total=by.pop("all").get(0, EMPTY), by=by)


def _summaries(groups, as_of, key) -> dict:
    sql, params = _summaries_sql(groups, as_of, key)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: _summary(row) for row in cursor.fetchall()}


def _summaries_sql(groups, as_of, key) -> tuple[str, list]:
    """One row per scope value: scope, active members, then the paired figures ×6."""
    groups_sql, groups_params = groups.order_by().values("id").query.sql_with_params()
    end = end_of_month(as_of)
    middle = "rn IN ((cnt + 1) / 2, (cnt + 2) / 2)"
    sql = f"""
    WITH units AS (
        SELECT {SCOPE_SQL[key]} AS scope, m.household_id AS household_id, MIN(m.joined_on) AS joined,
               MAX(CASE WHEN m.left_on IS NULL OR m.left_on > %s THEN 1 ELSE 0 END) AS active,
               MAX(h.family_size) AS family_size
        {MEMBERS_FROM}
        WHERE m.joined_on <= %s AND m.group_id IN ({groups_sql})
        GROUP BY 1, 2
    ),
    paired AS (
        SELECT u.scope, u.family_size,
               p.b_sum * ({SCALE} / p.b_n) AS b6, p.a_sum * ({SCALE} / p.a_n) AS a6, p.line_b, p.line_a
        FROM units u JOIN {TABLE} p ON p.household_id = u.household_id AND p.j = {_month_start('u.joined')}
        WHERE p.b_n > 0 AND p.a_n > 0
    ),
    ranked AS (
        SELECT scope, family_size, b6, a6, a6 - b6 AS c6, line_b, line_a,
               ROW_NUMBER() OVER (PARTITION BY scope ORDER BY a6 - b6) AS rn,
               COUNT(*) OVER (PARTITION BY scope) AS cnt
        FROM paired
    ),
    totals AS (
        SELECT scope, COUNT(*) AS n, SUM(b6) AS b6, SUM(a6) AS a6, SUM(c6) AS c6,
               SUM(CASE WHEN c6 > 0 THEN 1 ELSE 0 END) AS rose,
               SUM(CASE WHEN line_b IS NOT NULL THEN 1 ELSE 0 END) AS judged_b,
               SUM(CASE WHEN line_b IS NOT NULL AND b6 < line_b * {SCALE} * family_size THEN 1 ELSE 0 END) AS poor_b,
               SUM(CASE WHEN line_a IS NOT NULL THEN 1 ELSE 0 END) AS judged_a,
               SUM(CASE WHEN line_a IS NOT NULL AND a6 < line_a * {SCALE} * family_size THEN 1 ELSE 0 END) AS poor_a,
               SUM(CASE WHEN {middle} THEN c6 ELSE 0 END) AS mid_sum,
               SUM(CASE WHEN {middle} THEN 1 ELSE 0 END) AS mid_n
        FROM ranked GROUP BY scope
    ),
    members AS (SELECT scope, SUM(active) AS active FROM units GROUP BY scope)
    SELECT members.scope, members.active, totals.n, totals.b6, totals.a6, totals.c6, totals.rose,
           totals.judged_b, totals.poor_b, totals.judged_a, totals.poor_a, totals.mid_sum, totals.mid_n
    FROM members LEFT JOIN totals ON totals.scope = members.scope
    """
    return sql, [end, end, *groups_params]


def group_rows(groups, as_of: dt.date) -> Iterator[GroupRow]:
    """Kelompok rows in code order, each group with its figures, streamed from the database
    (groups without members included). Call inside ``pairs_table``."""
    groups_sql, groups_params = groups.order_by().values("id").query.sql_with_params()
    summaries_sql, summaries_params = _summaries_sql(groups, as_of, "group_id")
    sql = (
        "SELECT g.id, g.code, g.name, gt.code, t.opd_code, kel.name, g.is_active, s.* "
        "FROM groups_group g JOIN groups_grouptype gt ON gt.id = g.group_type_id "
        "JOIN (SELECT wt.id, o.code AS opd_code FROM groups_workingteam wt JOIN groups_opd o ON o.id = wt.opd_id) t "
        "ON t.id = g.team_id JOIN groups_kelurahan kel ON kel.id = g.kelurahan_id "
        f"LEFT JOIN ({summaries_sql}) s ON s.scope = g.id "
        f"WHERE g.id IN ({groups_sql}) ORDER BY g.code"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*summaries_params, *groups_params])
        while rows := cursor.fetchmany(1_000):
            for row in rows:
                figures = row[7:] if row[7] is not None else (row[0], 0, 0, *[None] * 10)
                yield GroupRow(*row[:6], bool(row[6]), summary=_summary(figures))


def _summary(row) -> Summary:
    _scope, active, n, b6, a6, c6, rose, judged_b, poor_b, judged_a, poor_a, mid_sum, mid_n = (
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


MEMBER_COLUMNS = ["kk_number", "head_name", "group_code", "joined_on", "b_sum", "b_n", "a_sum", "a_n"]


def member_chunks(groups, as_of: dt.date, chunk_size: int = 5_000) -> Iterator[pd.DataFrame]:
    """One row per membership with its readings around its own join month, ordered by group
    code and head's name, streamed in chunks (a server-side cursor on PostgreSQL). Call
    inside ``pairs_table``."""
    groups_sql, groups_params = groups.order_by().values("id").query.sql_with_params()
    sql = (
        "SELECT h.kk_number, h.head_name, g.code, m.joined_on, p.b_sum, p.b_n, p.a_sum, p.a_n "
        f"{MEMBERS_FROM}"
        f"LEFT JOIN {TABLE} p ON p.household_id = m.household_id AND p.j = {_month_start('m.joined_on')} "
        f"WHERE m.joined_on <= %s AND m.group_id IN ({groups_sql}) "
        "ORDER BY g.code, h.head_name, m.household_id"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [end_of_month(as_of), *groups_params])
        while rows := cursor.fetchmany(chunk_size):
            frame = pd.DataFrame(rows, columns=MEMBER_COLUMNS)
            frame["joined_on"] = pd.to_datetime(frame["joined_on"])
            yield frame
