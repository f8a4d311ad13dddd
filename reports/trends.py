"""Pictures over time, aggregated in the database: one SQL statement per function whatever
the number of households, on SQLite and PostgreSQL. ``reports/trends_reference.py`` is the
readable rule each is held to (tests/test_trends.py, random data, both databases).

- ``target_by_month``: month by month, households acceptor by the method in force with a
  membership of the selection active at the end of the month (today for this month);
- ``income_by_offset``: incomes by months since joining (−6 … +12): count and quartiles;
- ``reporting_by_month``: groups counted in each month (as the monthly recap counts them)
  and how many of them reported it.
"""

import datetime as dt
from fractions import Fraction

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef

from households.models import IncomeReading, KbMethod, KbStatus, Membership, MonthlyReport
from reports.engine import Selection, active_on
from reports.trends_reference import OFFSETS, OffsetPoint, months_of_year
from uppka.months import end_of_month, month_of

__all__ = ["OffsetPoint", "target_by_month", "income_by_offset", "reporting_by_month"]

MEMBERSHIP = Membership._meta.db_table
READING = IncomeReading._meta.db_table
STATUS = KbStatus._meta.db_table
REPORT = MonthlyReport._meta.db_table


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _month_number(column: str) -> str:
    """SQL: the month of a date column as a whole number (year × 12 + month − 1), so that
    months apart is a subtraction."""
    if _postgresql():
        # date_part (a double) rather than EXTRACT (a numeric since PostgreSQL 14): faster
        return f"(CAST(date_part('year', {column}) AS INTEGER) * 12 + CAST(date_part('month', {column}) AS INTEGER) - 1)"
    # SQLite keeps dates as ISO text: reading the digits is several times faster than strftime
    return f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 + CAST(substr({column}, 6, 2) AS INTEGER) - 1)"


def _months_from(column: str, months: int) -> str:
    """SQL: the first day of the month ``months`` months from the month of a date column."""
    if _postgresql():
        return f"CAST(date_trunc('month', CAST({column} AS timestamp)) + interval '{int(months)} months' AS date)"
    return f"date({column}, 'start of month', '{int(months):+d} months')"


def target_by_month(groups, year: int, today: dt.date) -> list[tuple[dt.date, int]]:
    """For each month of ``year`` up to today's month: distinct households with a membership
    of ``groups`` active on the month's last day (on ``today`` for the current month) whose
    method in force in the month (latest KbStatus from that month or before) is a method,
    neither TIDAK nor none. One SQL statement.

    Each status holds from its month until the household's next one (``LEAD``): a household
    counts in a month when one of its acceptor spans holds then, which needs no search for
    the latest status per household and month."""
    days = months_of_year(year, today)
    if not days:
        return []
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return [(month, 0) for month, _ in days]
    values = ", ".join(f"({i}, %s, %s)" for i in range(len(days)))
    sql = f"""
    WITH months (i, month, day) AS (VALUES {values}),
    spans AS (
        SELECT household_id, period AS since, method,
               LEAD(period) OVER (PARTITION BY household_id ORDER BY period) AS until
        FROM {STATUS}
    )
    SELECT mo.i, COUNT(DISTINCT m.household_id)
    FROM months mo
    JOIN {MEMBERSHIP} m ON {active_on('m').replace('%s', 'mo.day')}
    JOIN spans a ON a.household_id = m.household_id AND a.since <= mo.month AND (a.until IS NULL OR a.until > mo.month)
    WHERE a.method <> %s{selection.on('m.group_id')}
    GROUP BY mo.i"""
    params = [v for month, day in days for v in (month, day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, KbMethod.TIDAK.value, *selection.params])
        counts = {int(i): int(n) for i, n in cursor.fetchall()}
    return [(month, counts.get(i, 0)) for i, (month, _) in enumerate(days)]


def income_by_offset(groups, as_of: dt.date) -> list[OffsetPoint]:
    """Incomes by months since joining, −6 … +12, across the households of ``groups``: each
    household once, from the month of its earliest join among its memberships there begun by
    the end of ``as_of``'s month; readings up to that month. Per offset: how many households
    have a reading, and the 25th, 50th and 75th percentiles by linear interpolation between
    ranks (PostgreSQL's ``percentile_cont``; ``trends_reference.percentile``), exact.

    PostgreSQL aggregates with ``percentile_cont``; SQLite ranks the values of each offset
    in SQL and returns only the (at most six) ranks the quartiles read."""
    as_of = month_of(as_of)
    empty = [OffsetPoint(k, 0, None, None, None) for k in OFFSETS]
    try:
        selection = Selection(groups)
    except EmptyResultSet:
        return empty
    first, last = OFFSETS[0], OFFSETS[-1]
    values = f"""
    WITH earliest AS (
        SELECT m.household_id, MIN(m.joined_on) AS joined_on FROM {MEMBERSHIP} m
        WHERE m.joined_on <= %s{selection.on('m.group_id')}
        GROUP BY m.household_id
    ),
    joined AS MATERIALIZED (  -- each household's bounds computed once, not per reading
        SELECT household_id, {_month_number('joined_on')} AS month,
               {_months_from('joined_on', first)} AS low, {_months_from('joined_on', last + 1)} AS high
        FROM earliest
    ),
    v AS (
        SELECT {_month_number('r.period')} - j.month AS k, r.amount
        FROM joined j JOIN {READING} r ON r.household_id = j.household_id
         AND r.period >= j.low AND r.period < j.high AND r.period <= %s
    )"""
    params = [end_of_month(as_of), *selection.params, as_of]
    points = {}
    with connection.cursor() as cursor:
        if _postgresql():
            cursor.execute(
                f"""{values} SELECT k, COUNT(*), percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY amount)
                FROM v GROUP BY k""",
                params,
            )
            for k, n, quartiles in cursor.fetchall():
                points[k] = OffsetPoint(k, n, *(Fraction(round(q * 4), 4) for q in quartiles))
        else:
            # rank r (0-based) of the n values: quartile q reads ranks ⌊q(n−1)/4⌋ and ⌈q(n−1)/4⌉.
            # The count reads the same window with a whole frame: one sort for both.
            cursor.execute(
                f"""{values} SELECT k, n, rn, amount FROM (
                    SELECT k, amount, ROW_NUMBER() OVER w - 1 AS rn,
                           COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n
                    FROM v WINDOW w AS (PARTITION BY k ORDER BY amount)
                ) w WHERE rn IN ((n - 1) / 4, (n + 2) / 4, (n - 1) / 2, n / 2, 3 * (n - 1) / 4, 3 * n / 4)""",
                params,
            )
            ranked: dict[int, tuple[int, dict[int, int]]] = {}
            for k, n, rn, amount in cursor.fetchall():
                ranked.setdefault(k, (n, {}))[1][rn] = amount
            for k, (n, at) in ranked.items():
                points[k] = OffsetPoint(k, n, *(_interpolate(at, n, q) for q in (1, 2, 3)))
    return [points.get(k, point) for k, point in zip(OFFSETS, empty, strict=True)]


def _interpolate(at: dict[int, int], n: int, quarter: int) -> Fraction:
    """The ``quarter``/4 percentile from the values at the ranks it reads (see ``percentile``)."""
    h4 = quarter * (n - 1)  # the position h, ×4
    low, high = h4 // 4, -(-h4 // 4)
    return at[low] + Fraction(h4 % 4, 4) * (at[high] - at[low])


def reporting_by_month(groups, months: list[dt.date]) -> list[tuple[dt.date, int, int]]:
    """Per month: (month, groups counted, of those the groups that reported it). A group
    counts in a month when active at the end of it (``Group.objects.active_on``, from its
    history) with a member active on its last day, as the monthly recap counts it. One SQL
    statement for all the months."""
    parts, params = [], []
    for i, month in enumerate(months):
        last = end_of_month(month)
        counted = (
            groups.active_on(last)
            .filter(Exists(Membership.objects.active_on(last).filter(group=OuterRef("pk"))))
            .order_by().values("id")
        )
        try:
            sql, counted_params = counted.query.sql_with_params()
        except EmptyResultSet:
            continue
        parts.append(
            f"SELECT {i} AS i, COUNT(*) AS counted, SUM(CASE WHEN r.id IS NULL THEN 0 ELSE 1 END) AS reported "
            f"FROM ({sql}) g LEFT JOIN {REPORT} r ON r.group_id = g.id AND r.period = %s"
        )
        params += [*counted_params, month_of(month)]
    rows: dict[int, tuple[int, int]] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            rows = {int(i): (int(n), int(r or 0)) for i, n, r in cursor.fetchall()}
    return [(month_of(month), *rows.get(i, (0, 0))) for i, month in enumerate(months)]
