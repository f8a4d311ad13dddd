"""Kept figures: one row per membership with everything the figures of SPEC section 4 need.

SPEC section 4 compares the latest (up to) three readings before a join month with the
latest three after it. This module is the one place that rule is written for the database:
``figures_sql`` selects, for memberships, their scopes and the sum, count and latest month
of the readings on each side of their join month. It fills the ``MemberFigures`` table
(``refresh`` for some households, in the same transaction as the write that changed them;
``rebuild`` for all), and ``reports/engine.py`` runs the same SQL, bounded by an as-of
month, into a temporary table for a past month.

Every write that can change a row goes through one of:
- ``refresh(household_ids)``, called by the bulk writers (entry sheet, import, demo data);
- the ``post_save``/``post_delete`` receivers below, for rows saved one at a time through
  the ORM (registration, leaving, deactivation, the admin, the shell): readings,
  memberships, households, and the groups, teams and kelurahan whose scopes are copied.
``tests/test_kept_figures.py`` drives random sequences of writes and checks that the kept
rows always equal a rebuild.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from groups.models import Group, Kelurahan, WorkingTeam
from households.models import Household, IncomeReading, KbMethod, Membership, MemberFigures

SIDE = 3  # readings averaged on each side of the join month
SCALE = 6  # means are kept ×6: a whole number for one, two or three whole-Rupiah readings
TABLE = MemberFigures._meta.db_table
COLUMNS = (
    "membership_id, household_id, group_id, opd_id, type_id, kelurahan_id, kecamatan_id, joined_on, left_on, "
    "family_size, acceptor, memberships, before_sum, before_count, before_last, after_sum, after_count, after_last, "
    "paired, before6, after6, change6"
)
CHUNK = 5_000  # household ids per statement


def month_start_sql(column: str) -> str:
    """SQL for the first day of the month of a date column."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column}::timestamp)::date"
    return f"date({column}, 'start of month')"


def _latest(condition: str) -> str:
    return (
        "SELECT r.amount, r.period FROM households_incomereading r "
        f"WHERE r.household_id = m.household_id AND {condition} ORDER BY r.period DESC LIMIT {SIDE}"
    )


def figures_sql(where: str, *, bounded: bool) -> str:
    """The kept columns (``COLUMNS``) of the memberships meeting ``where`` (alias m).

    Before: readings dated before the join month. After: readings after it and, when
    ``bounded``, on or before the as-of month (``%s`` parameters, see ``figures_params``);
    unbounded, the rows hold for any month on or after the latest reading.
    """
    join = month_start_sql("m.joined_on")
    before = f"r.period < {join}"
    after = f"r.period > {join}" + (" AND r.period <= %s" if bounded else "")
    names = COLUMNS.split(", ")
    copied = [
        "m.id", "m.household_id", "m.group_id", "t.opd_id", "g.group_type_id", "h.kelurahan_id", "k.kecamatan_id",
        "m.joined_on", "m.left_on", "h.family_size", f"h.kb_method <> '{KbMethod.TIDAK.value}'",
        "(SELECT COUNT(*) FROM households_membership o WHERE o.household_id = m.household_id)",
    ]
    tables = (
        "FROM households_membership m JOIN groups_group g ON g.id = m.group_id "
        "JOIN groups_workingteam t ON t.id = g.team_id JOIN households_household h ON h.id = m.household_id "
        "JOIN groups_kelurahan k ON k.id = h.kelurahan_id"
    )
    if connection.vendor == "postgresql":
        # LATERAL with LIMIT 3 per side reads each household's latest readings straight from
        # the covering index (household, period) INCLUDE (amount).
        side = "SELECT COALESCE(SUM(x.amount), 0) AS s, COUNT(*) AS n, MAX(x.period) AS last FROM ({}) x"
        values = [*copied, "b.s", "b.n", "b.last", "a.s", "a.n", "a.last"]
        laterals = (
            f"CROSS JOIN LATERAL ({side.format(_latest(before))}) b "
            f"CROSS JOIN LATERAL ({side.format(_latest(after))}) a"
        )
    else:
        values, laterals = list(copied), ""
        for condition in (before, after):
            latest = _latest(condition)
            values += [
                f"(SELECT COALESCE(SUM(x.amount), 0) FROM ({latest}) x)",
                f"(SELECT COUNT(*) FROM ({latest}) x)",
                f"(SELECT MAX(x.period) FROM ({latest}) x)",
            ]
    selected = ", ".join(f"{value} AS {name}" for value, name in zip(values, names[: len(values)], strict=True))
    before6 = f"q.before_sum * ({SCALE} / NULLIF(q.before_count, 0))"  # NULL without readings
    after6 = f"q.after_sum * ({SCALE} / NULLIF(q.after_count, 0))"
    derived = (
        "CASE WHEN q.before_count > 0 AND q.after_count > 0 THEN 1 ELSE 0 END AS paired, "
        f"{before6} AS before6, {after6} AS after6, {after6} - {before6} AS change6"
    )
    return f"SELECT q.*, {derived} FROM (SELECT {selected} {tables} {laterals} WHERE {where}) q"


def figures_params(where_params: list, as_of: dt.date | None) -> list:
    """The parameters of ``figures_sql`` in the order each database reads them."""
    if as_of is None:
        return list(where_params)
    if connection.vendor == "postgresql":
        return [as_of, *where_params]  # the "after" LATERAL, then WHERE
    return [as_of, as_of, as_of, *where_params]  # three "after" subqueries, then WHERE


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
    def of(cls, kept: MemberFigures | None) -> "HouseholdFigures":
        if kept is None:
            return cls(None, None, None, None)
        return cls.from_sums(kept.before_sum, kept.before_count, kept.after_sum, kept.after_count)


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, exactly (denominator > 0)."""
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def _lock(ids: list[int]) -> None:
    """Writes that touch what these households' rows copy take turns with this one
    (PostgreSQL; SQLite runs one write at a time):

    - the groups, teams and kelurahan copied are share-locked, so moving a group to another
      team (or OPD, or a kelurahan to another kecamatan) waits until this write commits and
      then refreshes this write's rows too, or this write waits for the move and copies it;
    - the households are locked, so two writes for one family (two groups' cadres, an
      import) refresh one after the other instead of inserting rows beside each other.
    """
    if connection.vendor != "postgresql":
        return
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.id FROM households_membership m JOIN groups_group g ON g.id = m.group_id "
            f"JOIN groups_workingteam t ON t.id = g.team_id WHERE m.household_id IN ({marks}) "
            "ORDER BY g.id FOR SHARE OF g, t",
            ids,
        )
        cursor.execute(
            "SELECT k.id FROM households_household h JOIN groups_kelurahan k ON k.id = h.kelurahan_id "
            f"WHERE h.id IN ({marks}) ORDER BY k.id FOR SHARE OF k",
            ids,
        )
        cursor.execute(f"SELECT id FROM households_household WHERE id IN ({marks}) ORDER BY id FOR UPDATE", ids)


def refresh(household_ids: Iterable[int]) -> None:
    """Rewrite the kept rows of these households from their readings and memberships.
    Call inside the transaction of the write that changed them."""
    ids = sorted({int(pk) for pk in household_ids if pk is not None})
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            _lock(chunk)
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {TABLE} WHERE household_id IN ({marks})", chunk)
            sql = figures_sql(f"m.household_id IN ({marks})", bounded=False)
            cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {sql}", chunk)


def rebuild() -> int:
    """Rewrite every kept row from the readings; returns the number of rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {figures_sql('1 = 1', bounded=False)}")
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        count = cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")
    return count


# What each single-row write changes, as the households whose rows it rewrites.
def _households_of(instance) -> set[int]:
    if isinstance(instance, (IncomeReading, Membership)):
        return {instance.household_id}
    if isinstance(instance, Household):
        return {instance.pk}
    members = Membership.objects.all()
    if isinstance(instance, Group):
        members = members.filter(group=instance)
    elif isinstance(instance, WorkingTeam):
        members = members.filter(group__team=instance)
    elif isinstance(instance, Kelurahan):
        members = members.filter(household__kelurahan=instance)
    return set(members.values_list("household_id", flat=True))


# The fields each model's kept copy depends on: a save of other fields changes nothing.
COPIED_FIELDS = {
    IncomeReading: {"household", "period", "amount"},
    Membership: {"household", "group", "joined_on", "left_on"},
    Household: {"kelurahan", "family_size", "kb_method"},
    Group: {"team", "group_type"},
    WorkingTeam: {"opd"},
    Kelurahan: {"kecamatan"},
}
FANNING_OUT = (Group, WorkingTeam, Kelurahan)  # a save rewrites many households' rows


def _copies_nothing(sender, update_fields) -> bool:
    """A save of named fields none of which the kept rows copy."""
    return update_fields is not None and not {f.removesuffix("_id") for f in update_fields} & COPIED_FIELDS[sender]


def _attnames(model) -> list[str]:
    return [model._meta.get_field(name).attname for name in sorted(COPIED_FIELDS[model])]


def _note_before_save(sender, instance, update_fields=None, **kwargs):
    """Before a save: a reading or membership moving to another household (the admin allows
    it) notes the old one; a group, team or kelurahan notes whether what is copied changes
    (``load_areas`` saves every kelurahan, most of them unchanged)."""
    if instance.pk is None:
        return
    if _copies_nothing(sender, update_fields):
        return
    if sender in FANNING_OUT:
        names = _attnames(sender)
        old = sender.objects.filter(pk=instance.pk).values_list(*names).first()
        instance._kept_figures_unchanged = old == tuple(getattr(instance, name) for name in names)
    elif sender in (IncomeReading, Membership):
        old = sender.objects.filter(pk=instance.pk).values_list("household_id", flat=True).first()
        instance._kept_figures_old_household = old


def _refresh_one(sender, instance, update_fields=None, **kwargs):
    """After a save or delete through the ORM, loaddata included (its rows arrive in any
    order, and each save refreshes what depends on it, so the last one leaves them right)."""
    if _copies_nothing(sender, update_fields):
        return
    if getattr(instance, "_kept_figures_unchanged", False):
        return
    old = getattr(instance, "_kept_figures_old_household", None)
    households = _households_of(instance)
    if households or old:
        refresh(households | ({old} if old else set()))


def connect_signals() -> None:
    """Rows saved or deleted one at a time through the ORM (bulk writers call ``refresh``)."""
    for model in (IncomeReading, Membership):
        post_delete.connect(_refresh_one, sender=model, dispatch_uid=f"kept_figures_delete_{model.__name__}")
    for model in COPIED_FIELDS:
        pre_save.connect(_note_before_save, sender=model, dispatch_uid=f"kept_figures_note_{model.__name__}")
        post_save.connect(_refresh_one, sender=model, dispatch_uid=f"kept_figures_save_{model.__name__}")
