"""The before/after income metrics of SPEC section 4, as pure functions.

Plain data in, frozen dataclasses out, no ORM: this module is the readable reference. No
page uses it: the figures engine (``reports/engine.py``, SQL over the kept figures) is held
to its answers by ``tests/test_engine.py``, on random data and both databases.

Months are ``datetime.date`` values on the first of the month. Money is exact: means are
``Fraction`` values, rounded half-up only for display and export.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from uppka.months import end_of_month, month_of

SIDE = 3  # readings averaged on each side of the join month


@dataclass(frozen=True)
class Reading:
    period: dt.date
    amount: int


@dataclass(frozen=True)
class BeforeAfter:
    """One household's income before and after a join month, as of a month."""

    baseline: Fraction | None  # mean of the latest (up to) 3 readings before the join month
    current: Fraction | None  # mean of the latest (up to) 3 readings after it, up to the as-of month
    baseline_month: dt.date | None  # the latest month used for the baseline
    current_month: dt.date | None

    @property
    def paired(self) -> bool:
        return self.baseline is not None and self.current is not None

    @property
    def change(self) -> Fraction | None:
        return self.current - self.baseline if self.paired else None

    @property
    def change_pct(self) -> Fraction | None:
        """Undefined (None) when the baseline is 0."""
        if not self.paired or self.baseline == 0:
            return None
        return self.change / self.baseline * 100


def before_after(readings: Iterable[Reading], join_month: dt.date, as_of: dt.date) -> BeforeAfter:
    """Baseline and current income around ``join_month``; the join month itself is in neither.

    >>> rs = [Reading(dt.date(2021, m, 1), a) for m, a in [(1, 100), (2, 200), (3, 999), (4, 400)]]
    >>> ba = before_after(rs, dt.date(2021, 3, 1), dt.date(2021, 12, 1))
    >>> ba.baseline, ba.current, ba.change
    (Fraction(150, 1), Fraction(400, 1), Fraction(250, 1))
    """
    ordered = sorted(readings, key=lambda r: r.period)
    before = [r for r in ordered if r.period < join_month][-SIDE:]
    after = [r for r in ordered if join_month < r.period <= as_of][-SIDE:]
    return BeforeAfter(
        baseline=Fraction(sum(r.amount for r in before), len(before)) if before else None,
        current=Fraction(sum(r.amount for r in after), len(after)) if after else None,
        baseline_month=before[-1].period if before else None,
        current_month=after[-1].period if after else None,
    )


@dataclass(frozen=True)
class PovertyLine:
    valid_from: dt.date
    amount: int  # Rupiah per person per month


def line_in_force(lines: Sequence[PovertyLine], month: dt.date) -> int | None:
    """The latest line dated on or before the month (any day of it), or None."""
    end = end_of_month(month)
    dated = [line for line in lines if line.valid_from <= end]
    return max(dated, key=lambda line: line.valid_from).amount if dated else None


@dataclass(frozen=True)
class Unit:
    """One household counted in a scope: its before/after figures and family size."""

    figures: BeforeAfter
    family_size: int


@dataclass(frozen=True)
class Summary:
    active_members: int
    paired: int
    mean_baseline: Fraction | None
    mean_current: Fraction | None
    mean_change: Fraction | None
    median_change: Fraction | None
    pct_increased: Fraction | None
    pct_poor_before: Fraction | None  # share of paired households below the poverty line
    pct_poor_after: Fraction | None


def median(values: Sequence) -> Fraction | None:
    """The middle value, or the mean of the two middle values when the count is even."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Fraction(ordered[middle])
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


def summarize(units: Iterable[Unit], active_members: int, lines: Sequence[PovertyLine] = ()) -> Summary:
    """Figures over the paired units of a scope (SPEC section 4)."""
    paired = [u for u in units if u.figures.paired]
    n = len(paired)
    if not n:
        return Summary(active_members, 0, None, None, None, None, None, None, None)
    changes = [u.figures.change for u in paired]
    poor_before = _poverty_share(paired, lines, before=True)
    poor_after = _poverty_share(paired, lines, before=False)
    return Summary(
        active_members=active_members,
        paired=n,
        mean_baseline=sum(u.figures.baseline for u in paired) / n,
        mean_current=sum(u.figures.current for u in paired) / n,
        mean_change=sum(changes) / n,
        median_change=median(changes),
        pct_increased=Fraction(sum(1 for c in changes if c > 0) * 100, n),
        pct_poor_before=poor_before,
        pct_poor_after=poor_after,
    )


def _poverty_share(paired: list[Unit], lines, *, before: bool) -> Fraction | None:
    """Share of paired households whose income per person is below the line in force in the
    latest month used for that figure; households with no line in force are left out."""
    judged = below = 0
    for unit in paired:
        month = unit.figures.baseline_month if before else unit.figures.current_month
        income = unit.figures.baseline if before else unit.figures.current
        line = line_in_force(lines, month)
        if line is None:
            continue
        judged += 1
        below += income / unit.family_size < line
    return Fraction(below * 100, judged) if judged else None


@dataclass(frozen=True)
class Membership:
    household_id: int
    group_id: int
    joined_on: dt.date
    left_on: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        """Joined on or before the day and not left on or before it."""
        return self.joined_on <= day and (self.left_on is None or self.left_on > day)


def scope_summaries(
    *,
    memberships: Iterable[Membership],
    readings: dict[int, list[Reading]],
    family_sizes: dict[int, int],
    as_of: dt.date,
    scopes_of: Callable[[Membership], Iterable[Hashable]],
    lines: Sequence[PovertyLine] = (),
) -> dict[Hashable, Summary]:
    """Summaries for every scope a membership belongs to, as of a month.

    Each household counts once per scope, with J = the month of its earliest ``joined_on``
    among its memberships in that scope (memberships that joined on or before the end of
    the as-of month, leavers included). A group is such a scope too: a household has one
    membership per group. Active members are the distinct households with an active
    membership in the scope at the end of the month.
    """
    end = end_of_month(as_of)
    first_join: dict[tuple, dt.date] = {}
    active: dict[Hashable, set[int]] = defaultdict(set)
    for m in memberships:
        if m.joined_on > end:
            continue
        for scope in scopes_of(m):
            key = (scope, m.household_id)
            first_join[key] = min(first_join.get(key, m.joined_on), m.joined_on)
            if m.active_on(end):
                active[scope].add(m.household_id)
    units: dict[Hashable, list[Unit]] = defaultdict(list)
    for (scope, household_id), joined in first_join.items():
        figures = before_after(readings.get(household_id, ()), month_of(joined), as_of)
        units[scope].append(Unit(figures, family_sizes[household_id]))
    return {scope: summarize(units[scope], len(active[scope]), lines) for scope in units}


def target_progress(
    *,
    memberships: Iterable[Membership],
    acceptors: set[int],
    day: dt.date,
    scopes_of: Callable[[Membership], Iterable[Hashable]],
) -> dict[Hashable, int]:
    """Distinct acceptor households with a membership active on ``day``, per scope."""
    counted: dict[Hashable, set[int]] = defaultdict(set)
    for m in memberships:
        if m.household_id in acceptors and m.active_on(day):
            for scope in scopes_of(m):
                counted[scope].add(m.household_id)
    return {scope: len(households) for scope, households in counted.items()}


@dataclass(frozen=True)
class Completeness:
    active_members: int
    reported: int

    @property
    def pct(self) -> Fraction | None:
        return Fraction(self.reported * 100, self.active_members) if self.active_members else None


def completeness(
    *,
    memberships: Iterable[Membership],
    reported: set[int],
    month: dt.date,
    scopes_of: Callable[[Membership], Iterable[Hashable]],
) -> dict[Hashable, Completeness]:
    """Active members with a reading for the month / active members, per scope."""
    end = end_of_month(month)
    members: dict[Hashable, set[int]] = defaultdict(set)
    for m in memberships:
        if m.active_on(end):
            for scope in scopes_of(m):
                members[scope].add(m.household_id)
    return {
        scope: Completeness(len(households), len(households & reported)) for scope, households in members.items()
    }
