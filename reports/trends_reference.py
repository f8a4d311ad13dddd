"""Pictures over time, as plain Python: the readable reference that the database queries of
``reports/trends.py`` are held to by ``tests/test_trends.py``. No page uses it.

Plain data in (small dataclasses, no ORM), plain data out. Months are ``datetime.date``
values on the first of the month; money is exact (``int`` and ``Fraction``).

- ``target_by_month``: households acceptor by the method in force in each month, with a
  membership active on the month's last day (today for the current month);
- ``income_by_offset``: incomes by months since joining (−6 … +12), their count and
  quartiles across households;
- ``reporting_by_month``: groups counted in each month and how many of them reported it.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from households.register import method_in_force
from reports.recap_reference import Membership
from uppka.months import end_of_month, month_of

NONE = "TIDAK"
OFFSETS = range(-6, 13)  # months since the join month: six before it, twelve after
QUARTILES = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4))


@dataclass(frozen=True)
class Status:
    household: int
    period: dt.date
    method: str


@dataclass(frozen=True)
class Reading:
    household: int
    period: dt.date
    amount: int


@dataclass(frozen=True)
class OffsetPoint:
    """Incomes ``offset`` months after the join month (negative: before) across households:
    how many households have a reading then, and the 25th, 50th and 75th percentiles."""

    offset: int
    n: int
    p25: Fraction | None
    median: Fraction | None
    p75: Fraction | None


def months_of_year(year: int, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """(month, day counted) for each month of ``year`` up to today's month: the month's last
    day, or today for the current month. None after today.

    >>> months_of_year(2026, dt.date(2026, 3, 5))[-2:]
    [(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)), (datetime.date(2026, 3, 1), datetime.date(2026, 3, 5))]
    """
    days = []
    for m in range(1, 13):
        month = dt.date(year, m, 1)
        if month > today:
            break
        days.append((month, min(end_of_month(month), today)))
    return days


def target_by_month(memberships: Iterable[Membership], statuses: Iterable[Status], year: int,
                    today: dt.date) -> list[tuple[dt.date, int]]:
    """For each month of ``year`` up to today's: distinct households with a membership (of
    those given: the selection's) active on the month's counted day, whose method in force
    in the month (latest status from that month or before) is a method, not TIDAK nor none."""
    memberships = list(memberships)
    history: dict[int, list[tuple[dt.date, str]]] = {}
    for s in statuses:
        history.setdefault(s.household, []).append((s.period, s.method))
    result = []
    for month, day in months_of_year(year, today):
        members = {m.household for m in memberships if m.active_on(day)}
        acceptors = [h for h in members if method_in_force(history.get(h, []), month) not in (None, NONE)]
        result.append((month, len(acceptors)))
    return result


def percentile(values: Sequence[int], p: Fraction) -> Fraction:
    """The p-th percentile of sorted ``values`` by linear interpolation between ranks, as
    PostgreSQL's ``percentile_cont``: at position h = p·(n − 1) (0-based), the value at ⌊h⌋
    plus (h − ⌊h⌋) times the step to the value at ⌈h⌉. The median of an even count is the
    mean of the two middle values.

    >>> percentile([10, 20, 30, 40], Fraction(1, 4)), percentile([10, 20, 30, 40], Fraction(1, 2))
    (Fraction(35, 2), Fraction(25, 1))
    """
    h = p * (len(values) - 1)
    low = int(h)  # h ≥ 0: the floor
    high = min(low + 1, len(values) - 1)
    return values[low] + (h - low) * (values[high] - values[low])


def month_number(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def income_by_offset(memberships: Iterable[Membership], readings: Iterable[Reading],
                     as_of: dt.date) -> list[OffsetPoint]:
    """Each household of the memberships given (the selection's) once, with J the month of its
    earliest join among those begun by the end of ``as_of``'s month; its reading k months
    from J (k = 0: the join month), readings up to ``as_of``'s month only. Per k in −6 … +12:
    how many households have one, and their quartiles (``percentile``)."""
    as_of = month_of(as_of)
    last = end_of_month(as_of)
    joined: dict[int, dt.date] = {}
    for m in memberships:
        if m.joined_on <= last:
            joined[m.household] = min(joined.get(m.household, m.joined_on), m.joined_on)
    by_offset: dict[int, list[int]] = {k: [] for k in OFFSETS}
    for r in readings:
        if r.household in joined and r.period <= as_of:
            k = month_number(r.period) - month_number(joined[r.household])
            if k in by_offset:
                by_offset[k].append(r.amount)
    points = []
    for k, values in by_offset.items():
        values.sort()
        if not values:
            points.append(OffsetPoint(k, 0, None, None, None))
            continue
        points.append(OffsetPoint(k, len(values), *(percentile(values, p) for p in QUARTILES)))
    return points


def reporting_by_month(months: Iterable[dt.date], group_ids: Iterable[int], memberships: Iterable[Membership],
                       reported: set[tuple[int, dt.date]],
                       active_then: Callable[[int, dt.date], bool]) -> list[tuple[dt.date, int, int]]:
    """Per month: the groups counted (of ``group_ids``: active at the end of the month, as
    ``active_then(group, month)`` says, with a member active on its last day), and how many
    of those reported the month (``reported``: (group, month) pairs)."""
    group_ids = list(group_ids)
    memberships = list(memberships)
    result = []
    for month in months:
        last = end_of_month(month)
        with_members = {m.group for m in memberships if m.active_on(last)}
        counted = [g for g in group_ids if g in with_members and active_then(g, month)]
        result.append((month, len(counted), sum((g, month) in reported for g in counted)))
    return result
