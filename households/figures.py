"""Kept figures: each household's readings around each month it joined a group.

SPEC section 4 compares the latest (up to) three readings before a join month with the
latest three after it. This module is the one place that rule is written for the database:
``figures_sql`` selects, for (household, join month) pairs, the sum, count and latest month
of the readings on each side. It fills the ``JoinFigures`` table (``refresh`` for some
households, in the same transaction as the write that changed them; ``rebuild`` for all),
and ``reports/engine.py`` uses the same SQL, bounded by an as-of month, for a past month.

Every write of readings or memberships goes through one of:
- ``refresh(household_ids)``, called by the bulk writers (entry sheet, import, demo data);
- the ``post_save``/``post_delete`` receivers below, for single rows saved through the ORM
  (registration, leaving, deactivation, the admin, the shell).
``tests/test_kept_figures.py`` drives random sequences of writes and checks that the kept
rows always equal a rebuild.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from households.models import IncomeReading, JoinFigures, Membership

SIDE = 3  # readings averaged on each side of the join month
COLUMNS = "household_id, month, before_sum, before_count, before_last, after_sum, after_count, after_last"
CHUNK = 5_000  # household ids per statement


def month_start_sql(column: str) -> str:
    """SQL for the first day of the month of a date column."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"date({column}, 'start of month')"


def pairs_sql(where: str) -> str:
    """Distinct (household, join month) of the memberships meeting ``where`` (alias m)."""
    return (
        f"SELECT DISTINCT m.household_id AS household_id, {month_start_sql('m.joined_on')} AS month "
        f"FROM households_membership m WHERE {where}"
    )


def _latest(condition: str) -> str:
    return (
        "SELECT r.amount, r.period FROM households_incomereading r "
        f"WHERE r.household_id = p.household_id AND {condition} ORDER BY r.period DESC LIMIT {SIDE}"
    )


def figures_sql(pairs: str, *, bounded: bool) -> str:
    """For each (household_id, month) row of ``pairs``: the kept columns (``COLUMNS``).

    Before: readings dated before the join month. After: readings after it and, when
    ``bounded``, on or before the as-of month (one more ``%s`` parameter, after those of
    ``pairs``); unbounded, the rows hold for any month on or after the latest reading.
    """
    before = "r.period < p.month"
    after = "r.period > p.month" + (" AND r.period <= %s" if bounded else "")
    if connection.vendor == "postgresql":
        # LATERAL with LIMIT 3 per side reads each household's latest readings straight from
        # the covering index (household, period) INCLUDE (amount).
        side = "SELECT COALESCE(SUM(x.amount), 0) AS s, COUNT(*) AS n, MAX(x.period) AS last FROM ({}) x"
        return (
            "SELECT p.household_id, p.month, b.s AS before_sum, b.n AS before_count, b.last AS before_last, "
            "a.s AS after_sum, a.n AS after_count, a.last AS after_last "
            f"FROM ({pairs}) p "
            f"CROSS JOIN LATERAL ({side.format(_latest(before))}) b "
            f"CROSS JOIN LATERAL ({side.format(_latest(after))}) a"
        )
    columns = []
    for side, condition in (("before", before), ("after", after)):
        latest = _latest(condition)
        columns += [
            f"(SELECT COALESCE(SUM(x.amount), 0) FROM ({latest}) x) AS {side}_sum",
            f"(SELECT COUNT(*) FROM ({latest}) x) AS {side}_count",
            f"(SELECT MAX(x.period) FROM ({latest}) x) AS {side}_last",
        ]
    return f"SELECT p.household_id, p.month, {', '.join(columns)} FROM ({pairs}) p"


def figures_params(pairs_params: list, as_of: dt.date | None) -> list:
    """The parameters of ``figures_sql`` in the order each database reads them."""
    if as_of is None:
        return list(pairs_params)
    if connection.vendor == "postgresql":
        return [*pairs_params, as_of]  # FROM pairs, then the "after" LATERAL
    return [as_of, as_of, as_of, *pairs_params]  # three "after" subqueries, then FROM pairs


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

    @classmethod
    def of(cls, kept: JoinFigures | None) -> "HouseholdFigures":
        if kept is None:
            return cls(None, None, None, None)
        return cls.from_sums(kept.before_sum, kept.before_count, kept.after_sum, kept.after_count)


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (denominator > 0)."""
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


TABLE = JoinFigures._meta.db_table


def refresh(household_ids: Iterable[int]) -> None:
    """Rewrite the kept rows of these households from their readings and memberships.
    Call inside the transaction of the write that changed them."""
    ids = sorted({int(pk) for pk in household_ids})
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {TABLE} WHERE household_id IN ({marks})", chunk)
            pairs = pairs_sql(f"m.household_id IN ({marks})")
            cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {figures_sql(pairs, bounded=False)}", chunk)


def rebuild() -> int:
    """Rewrite every kept row from the readings; returns the number of rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {figures_sql(pairs_sql('1 = 1'), bounded=False)}")
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        count = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")
    return count


def _note_household(sender, instance, raw=False, update_fields=None, **kwargs):
    """Before a row moves to another household (the admin allows it), note the old one."""
    moving = update_fields is None or "household" in update_fields or "household_id" in update_fields
    if raw or instance.pk is None or not moving:
        return
    old = sender.objects.filter(pk=instance.pk).values_list("household_id", flat=True).first()
    instance._kept_figures_old_household = old


def _refresh_one(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: rows arrive in any order; restore rebuilds at the end
        return
    old = getattr(instance, "_kept_figures_old_household", None)
    refresh({instance.household_id} | ({old} if old else set()))


def connect_signals() -> None:
    """Single rows saved or deleted through the ORM (bulk writers call ``refresh``)."""
    for model in (IncomeReading, Membership):
        name = model.__name__
        pre_save.connect(_note_household, sender=model, dispatch_uid=f"kept_figures_note_{name}")
        post_save.connect(_refresh_one, sender=model, dispatch_uid=f"kept_figures_save_{name}")
        post_delete.connect(_refresh_one, sender=model, dispatch_uid=f"kept_figures_delete_{name}")
