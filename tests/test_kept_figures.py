"""The kept figures (``households.MemberFigures``) always equal a rebuild.

``households/figures.py`` keeps one row per membership: the scopes it is counted in (group,
OPD, type, the household's kelurahan and kecamatan), its dates, the household's family size,
acceptor status and number of memberships, and the sum, count and latest month of the latest
three readings before and after its join month. Every write that can change a row rewrites
the household's rows in the same transaction. These tests drive random sequences of those
writes over a small world — the entry sheet, registration, leaving, (de)activation, imports
(with changed families and groups), the admin's add, change and history-revert forms for
readings, memberships, households, groups, working teams and kelurahan, ``load_areas``,
plain ORM saves and deletes, writes that fail — and after every one compare the kept rows with

- the rows ``figures.rebuild()`` would write (its SELECT, run without writing), and
- the same rows worked out in Python from the rule's words (so a wrong SQL shared by
  ``refresh`` and ``rebuild`` is caught too).

Besides the random runs: every copied field saved on its own (``save()`` and
``update_fields``), failed writes (a stale entry sheet, an import with errors, an
IntegrityError, a refused registration) leaving the rows as they were, ``rebuild_figures``
repairing a corrupted table, ``seed_demo``, and a race on PostgreSQL.

A failure names the seed and the operations so far; ``KEPT_FIGURES_SEEDS=7,8`` (or a count,
``KEPT_FIGURES_SEEDS=200``) replays or widens the search. Run on SQLite and on PostgreSQL
(``DATABASE_URL=postgres://…``): the SQL differs between them.
"""

import csv
import datetime as dt
import io
import itertools
import os
import random
from collections import Counter, defaultdict

import pytest
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.urls import reverse

from groups.models import Group, GroupType, Kecamatan, Kelurahan, Opd, WorkingTeam
from households import figures, services
from households.demo import seed_demo
from households.importer import apply_plan, plan_import
from households.models import Household, IncomeReading, KbMethod, MemberFigures, Membership
from households.workbook import read_workbook
from tests.conftest import THIS_MONTH, TODAY, months_ago
from tests.factories import make_group, make_member, make_reading, make_user, valid_nik
from tests.test_import import build
from uppka.months import month_before

NAMES = figures.COLUMNS.split(", ")  # the kept columns, in the order figures_sql selects them
READING_MONTHS = [months_ago(n) for n in range(18)]  # this month and the 17 before
JOIN_MONTHS = READING_MONTHS[:15]
OPERATIONS_PER_RUN = 60


def _seeds():
    text = os.environ.get("KEPT_FIGURES_SEEDS", "").strip()
    if not text:
        return list(range(1, 9))
    if "," in text or not text.isdigit() or int(text) < 1:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(1, int(text) + 1))


# What is kept, and what it should be -----------------------------------------------------


def kept():
    return sorted(MemberFigures.objects.values_list(*NAMES))


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite returns text


def _converter(name):
    try:
        field = MemberFigures._meta.get_field(name)
    except FieldDoesNotExist:
        field = MemberFigures._meta.get_field(name.removesuffix("_id"))
    if isinstance(field, models.DateField):
        return _date
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else bool(v)
    return lambda v: None if v is None else int(v)


CONVERT = [_converter(name) for name in NAMES]


def rebuilt():
    """The rows ``figures.rebuild()`` would write: its own SELECT, executed without writing."""
    with connection.cursor() as cursor:
        cursor.execute(figures.figures_sql("1 = 1", bounded=False))
        rows = cursor.fetchall()
    return sorted(tuple(convert(v) for convert, v in zip(CONVERT, row, strict=True)) for row in rows)


def by_rule():
    """The same rows from the rule's words: per membership, its group's OPD (through the
    team) and type, the household's kelurahan, kecamatan, family size, acceptor status and
    number of memberships, and the latest (up to) three readings dated before the join
    month and the latest three after it (the join month's own reading is on neither side)."""
    readings = defaultdict(list)
    for household_id, period, amount in IncomeReading.objects.values_list("household_id", "period", "amount"):
        readings[household_id].append((period, amount))
    memberships = list(Membership.objects.select_related("group__team", "household__kelurahan"))
    count = Counter(m.household_id for m in memberships)
    rows = []
    for m in memberships:
        month = m.joined_on.replace(day=1)
        newest_first = sorted(readings[m.household_id], reverse=True)
        before = [r for r in newest_first if r[0] < month][:figures.SIDE]
        after = [r for r in newest_first if r[0] > month][:figures.SIDE]
        row = {
            "membership_id": m.pk, "household_id": m.household_id, "group_id": m.group_id,
            "opd_id": m.group.team.opd_id, "type_id": m.group.group_type_id,
            "kelurahan_id": m.household.kelurahan_id, "kecamatan_id": m.household.kelurahan.kecamatan_id,
            "joined_on": m.joined_on, "left_on": m.left_on, "family_size": m.household.family_size,
            "acceptor": m.household.kb_method != KbMethod.TIDAK, "memberships": count[m.household_id],
            "before_sum": sum(a for _, a in before), "before_count": len(before),
            "before_last": before[0][0] if before else None,
            "after_sum": sum(a for _, a in after), "after_count": len(after),
            "after_last": after[0][0] if after else None,
        }
        # The means × 6 (whole numbers: 6 is divisible by 1, 2 and 3), and whether paired.
        scale = getattr(figures, "SCALE", 6)
        means = {side: row[f"{side}_sum"] * (scale // row[f"{side}_count"]) if row[f"{side}_count"] else None
                 for side in ("before", "after")}
        row.update(
            paired=int(bool(before and after)), before6=means["before"], after6=means["after"],
            change6=means["after"] - means["before"] if before and after else None,
        )
        rows.append(tuple(row[name] for name in NAMES))  # a KeyError: a new kept column this rule lacks
    return sorted(rows)


def rebuilt_for_real():
    """Kept rows after ``figures.rebuild()``, in a savepoint rolled back afterwards."""
    savepoint = transaction.savepoint()
    try:
        figures.rebuild()
        return kept()
    finally:
        transaction.savepoint_rollback(savepoint)


def _diff(actual, expected) -> str:
    """Row by row (keyed by the first column, the membership), the columns that differ."""
    a, e = {r[0]: r for r in actual}, {r[0]: r for r in expected}
    lines = []
    for key in sorted(a.keys() | e.keys()):
        if key not in e:
            lines.append(f"  {NAMES[0]} {key}: kept, should not be: {a[key]}")
        elif key not in a:
            lines.append(f"  {NAMES[0]} {key}: missing from kept: {e[key]}")
        elif a[key] != e[key]:
            wrong = [f"{n} {x!r}, should be {y!r}" for n, x, y in zip(NAMES, a[key], e[key]) if x != y]
            lines.append(f"  {NAMES[0]} {key}: " + "; ".join(wrong))
    return "\n".join(lines)


def assert_kept_equal_rebuild(history=("(setup)",), *, seed=None):
    actual, expected, rule = kept(), rebuilt(), by_rule()
    where = f"seed {seed}, " if seed is not None else ""
    steps = "\n".join(f"  {n:>3}. {op}" for n, op in enumerate(history, start=1))
    assert expected == rule, (
        f"{where}rebuild's SQL disagrees with the rule after:\n{steps}\n{_diff(expected, rule)}"
    )
    assert actual == expected, (
        f"{where}kept figures are stale after operation {len(history)} ({history[-1]}).\n"
        f"Operations:\n{steps}\nDifferences (kept vs rebuild):\n{_diff(actual, expected)}"
    )


# The world and its random writes -------------------------------------------------------


class Refused(Exception):
    """An operation that found nothing to do (no such row): skipped, not a failure."""


_kk_serial = itertools.count(1)


def new_kk() -> str:
    return f"7373990000{next(_kk_serial):06d}"


def some_kelurahan() -> list[Kelurahan]:
    """Two kelurahan in each of three kecamatan."""
    return [k for kecamatan in Kecamatan.objects.order_by("code")[:3] for k in kecamatan.kelurahan.order_by("code")[:2]]


class World:
    """A few groups, cadres and OPD/DPPKB users, households with memberships and readings;
    ``step()`` makes one random write and returns what it did, in words."""

    def __init__(self, rng: random.Random, *, client, admin, dppkb, opd, tmp_path):
        self.rng, self.client, self.admin, self.dppkb, self.opd, self.tmp_path = rng, client, admin, dppkb, opd, tmp_path
        self.client.force_login(admin)
        self.groups = list(Group.objects.order_by("code"))
        self.cadres = {g.pk: list(g.cadres.all()) for g in self.groups}
        self.city = [admin, dppkb]
        self.everyone_recording = self.city + [c for cs in self.cadres.values() for c in cs]
        self.kecamatan = list(Kecamatan.objects.order_by("code")[:3])
        self.kelurahan = some_kelurahan()
        self.types = list(GroupType.objects.order_by("code"))
        self.opds = list(Opd.objects.filter(code__in=["DISTAN", "DISKAN", "DINSOS"]).order_by("code"))
        self.files = itertools.count(1)
        weighted = [
            (self.entry_sheet, 5), (self.correct, 3), (self.conflict, 1), (self.register_new, 1),
            (self.register_existing, 2), (self.leave, 1), (self.set_active, 1), (self.import_workbook, 3),
            (self.admin_reading, 3), (self.admin_membership, 2), (self.admin_household, 2),
            (self.admin_add, 1), (self.admin_revert, 1), (self.admin_group, 1), (self.admin_team, 1),
            (self.admin_kelurahan, 1), (self.load_areas, 1),
            (self.orm_reading, 3), (self.orm_membership, 2), (self.orm_scopes, 2), (self.rolled_back, 1),
        ]
        self.operations = [op for op, weight in weighted for _ in range(weight)]

    # Random values ----------------------------------------------------------------------

    def amount(self) -> int:
        r = self.rng.random()
        if r < 0.1:
            return 0
        if r < 0.15:
            return 1_000_000_000  # the largest income allowed
        return self.rng.randrange(100_000, 5_000_000, 50_000)

    def join_date(self) -> dt.date:
        month = self.rng.choice(JOIN_MONTHS)
        return month.replace(day=self.rng.randint(1, TODAY.day if month == THIS_MONTH else 28))

    def household(self) -> Household:
        return self.rng.choice(list(Household.objects.order_by("pk")))

    def reading(self) -> IncomeReading:
        readings = list(IncomeReading.objects.order_by("pk"))
        if not readings:
            raise Refused
        return self.rng.choice(readings)

    def group(self) -> Group:
        return self.rng.choice(list(Group.objects.order_by("code")))

    def team(self) -> WorkingTeam:
        return self.rng.choice(list(WorkingTeam.objects.order_by("pk")))

    def details(self, household) -> dict:
        """The household's details, sometimes with a new kelurahan, family size or KB method."""
        values = {"kelurahan": household.kelurahan, "family_size": household.family_size, "kb_method": household.kb_method}
        for name, choose in (("kelurahan", lambda: self.rng.choice(self.kelurahan)),
                             ("family_size", lambda: self.rng.randint(1, 9)),
                             ("kb_method", lambda: self.rng.choice([KbMethod.TIDAK, KbMethod.PIL, KbMethod.IUD]))):
            if self.rng.random() < 0.3:
                values[name] = choose()
        return values

    def membership(self, **filters) -> Membership:
        memberships = list(Membership.objects.filter(**filters).order_by("pk"))
        if not memberships:
            raise Refused
        return self.rng.choice(memberships)

    def free_month(self, household_id, *, months=READING_MONTHS):
        taken = set(IncomeReading.objects.filter(household_id=household_id).values_list("period", flat=True))
        free = [m for m in months if m not in taken]
        if not free:
            raise Refused
        return self.rng.choice(free)

    def recorder(self):
        return self.rng.choice(self.everyone_recording)

    @staticmethod
    def who(user) -> str:
        return user.username if user else "command line"

    # Failing writes leave the kept rows as they were --------------------------------------

    def may_fail(self, label, write, *errors):
        before = kept()
        try:
            write()
        except errors as e:
            assert kept() == before, f"{label}: refused with {type(e).__name__} but changed the kept rows"
            return f"{label} → refused ({type(e).__name__})"
        return label

    # The services ------------------------------------------------------------------------

    def entry_sheet(self):
        period = self.rng.choice(READING_MONTHS)
        households = self.rng.sample(list(Household.objects.order_by("pk")), k=self.rng.randint(1, 4))
        ids = [h.pk for h in households]
        current = dict(IncomeReading.objects.filter(period=period, household_id__in=ids).values_list("household_id", "amount"))
        amounts = {h: (current[h] if h in current and self.rng.random() < 0.25 else self.amount()) for h in ids}
        by = self.recorder()
        label = f"entry sheet {period:%Y-%m} by {self.who(by)}: {amounts} (was {current})"
        return self.may_fail(label, lambda: services.record_incomes(
            period=period, amounts=amounts, expected={h: current.get(h) for h in ids}, by=by
        ), PermissionDenied)

    def correct(self):
        reading = self.reading()
        amount = self.amount()
        services.record_incomes(
            period=reading.period, amounts={reading.household_id: amount},
            expected={reading.household_id: reading.amount}, by=self.dppkb,
        )
        return f"correct reading {reading.household_id} {reading.period:%Y-%m}: {reading.amount} → {amount}"

    def conflict(self):
        """A stale sheet: nothing of it is written, not even the other households' incomes."""
        reading = self.reading()
        other = self.household()
        period = reading.period
        amounts = {reading.household_id: self.amount()}
        expected = {reading.household_id: reading.amount + 1}  # someone else saved in between
        if other.pk != reading.household_id:
            current = IncomeReading.objects.filter(household=other, period=period).values_list("amount", flat=True).first()
            amounts[other.pk], expected[other.pk] = self.amount(), current
        before = (kept(), list(IncomeReading.objects.order_by("pk").values_list("pk", "household_id", "period", "amount")))
        with pytest.raises(services.ConflictError):
            services.record_incomes(period=period, amounts=amounts, expected=expected, by=self.dppkb)
        after = (kept(), list(IncomeReading.objects.order_by("pk").values_list("pk", "household_id", "period", "amount")))
        assert after == before, "a conflicting entry sheet changed readings or kept rows"
        return f"stale entry sheet {period:%Y-%m}: {amounts} expecting {expected} → ConflictError"

    def register_new(self):
        group = self.rng.choice(self.groups)
        by = self.rng.choice(self.city + self.cadres[group.pk])
        joined = self.join_date()
        n = next(_kk_serial)
        details = {
            "kk_number": new_kk(), "head_nik": valid_nik(5000 + n), "head_name": f"Keluarga Baru {n}",
            "kelurahan": self.rng.choice(self.kelurahan), "family_size": self.rng.randint(1, 8),
            "kb_method": self.rng.choice(KbMethod.values),
        }
        baseline = self.amount()
        services.register_household(group=group, joined_on=joined, baseline_amount=baseline, by=by, details=details)
        return f"register new family into {group.code} on {joined} by {self.who(by)}, baseline {baseline}"

    def register_existing(self):
        household = self.household()
        group = self.rng.choice(self.groups)  # sometimes one it is already in: refused
        by = self.rng.choice(self.city + self.cadres[group.pk])
        joined = self.join_date()
        baseline = None if self.rng.random() < 0.3 else self.amount()  # missing: refused unless on record
        label = (f"register family {household.pk} into {group.code} on {joined} by {self.who(by)}, "
                 f"baseline {baseline}")
        return self.may_fail(label, lambda: services.register_household(
            group=group, joined_on=joined, baseline_amount=baseline, by=by, household=household,
            head_nik=household.head_nik,
        ), ValidationError)

    def leave(self):
        membership = self.membership(left_on__isnull=True)
        span = (TODAY - membership.joined_on).days
        days = self.rng.randint(-3, -1) if self.rng.random() < 0.25 else self.rng.randint(0, max(span, 0))
        left = membership.joined_on + dt.timedelta(days=days)  # before joining: refused
        label = f"membership {membership.pk} (family {membership.household_id}) leaves on {left}"
        return self.may_fail(label, lambda: services.record_leaving(membership=membership, left_on=left, by=self.dppkb), ValidationError)

    def set_active(self):
        household = self.household()
        active = not household.is_active
        by = self.rng.choice(self.city + [c for cs in self.cadres.values() for c in cs])
        label = f"{'activate' if active else 'deactivate'} family {household.pk} by {self.who(by)}"
        return self.may_fail(label, lambda: services.set_household_active(household=household, active=active, by=by),
                             ValidationError)

    # The importer ----------------------------------------------------------------------

    def family_row(self, household, details, code, joined, left=None):
        return [household.kk_number, household.head_nik, household.head_name, details["kelurahan"].code,
                household.address, details["family_size"], details["kb_method"], code, joined, left]

    def group_row(self, group):
        """A Kelompok row for an existing group, sometimes of another type, OPD or team."""
        kind, opd, team = group.group_type, group.team.opd, group.team.name
        if self.rng.random() < 0.5:
            kind = self.rng.choice(self.types)
        if self.rng.random() < 0.5:
            opd = self.rng.choice(self.opds)
            team = ""  # the OPD's default team
        if self.rng.random() < 0.3:
            team = self.rng.choice(["", "Tim Sayur", f"Tim Baru {next(self.files)}"])
        return [group.code, group.name, kind.code, opd.code, group.kelurahan.code, group.formed_on, group.business, team]

    def import_workbook(self):
        rng = self.rng
        households = list(Household.objects.select_related("kelurahan").order_by("pk"))
        current_groups = list(Group.objects.select_related("team", "group_type", "kelurahan").order_by("code"))
        groups = [self.group_row(g) for g in rng.sample(current_groups, k=rng.randint(0, 2)) if rng.random() < 0.5]
        incomes, families, seen, details = [], [], set(), {}
        for _ in range(rng.randint(0, 5)):  # new incomes and changed amounts
            household, period = rng.choice(households), rng.choice(READING_MONTHS)
            if (household.kk_number, period) not in seen:
                seen.add((household.kk_number, period))
                incomes.append([household.kk_number, period.strftime("%Y-%m"), self.amount()])
        for _ in range(rng.randint(0, 2)):  # a family joins a group, or its dates change
            household, group = rng.choice(households), rng.choice(self.groups)
            if any(row[0] == household.kk_number and row[7] == group.code for row in families):
                continue
            joined = self.join_date()
            current = Membership.objects.filter(household=household, group=group).first()
            left = current.left_on if current and current.left_on and current.left_on >= joined else None
            same = details.setdefault(household.pk, self.details(household))  # one KK, the same details
            families.append(self.family_row(household, same, group.code, joined, left))
        if rng.random() < 0.3:  # a new family with its incomes
            n = next(_kk_serial)
            kk = new_kk()
            joined = self.join_date()
            families.append([kk, valid_nik(7000 + n), f"Keluarga Impor {n}", self.kelurahan[0].code, "", 3, "PIL",
                             rng.choice(self.groups).code, joined, None])
            for period in rng.sample(READING_MONTHS, k=rng.randint(1, 5)):
                incomes.append([kk, period.strftime("%Y-%m"), self.amount()])
        if rng.random() < 0.1:  # a bad row: the whole workbook is refused
            incomes.append([rng.choice(households).kk_number, "bulan lalu", "banyak"])
        user = rng.choice([None, self.dppkb, self.admin, self.opd])
        path = build(self.tmp_path / f"import-{next(self.files)}.xlsx", groups=groups, families=families, incomes=incomes)
        plan = plan_import(read_workbook(path), user=user)
        label = (f"import by {self.who(user)}: groups {[r[:4] + r[7:] for r in groups]}, "
                 f"families {[r[0][-4:] + ' ' + ' '.join(map(str, r[3:10])) for r in families]}, incomes {incomes}")
        if plan.error_count:
            before = kept()
            with pytest.raises(ValueError):
                apply_plan(plan, user=user)
            assert kept() == before, "an import plan with errors changed the kept rows"
            return f"{label} → refused ({plan.error_count} errors)"
        counts = apply_plan(plan, user=user)
        return f"{label} → {counts}"

    # The admin --------------------------------------------------------------------------

    def admin_post(self, label, url, data):
        before = kept()
        response = self.client.post(url, data)
        assert response.status_code in (200, 302), f"{label}: status {response.status_code}"
        if response.status_code == 200:  # the form refused it
            errors = [dict(response.context["adminform"].form.errors)]
            errors += [f.errors for inline in response.context.get("inline_admin_formsets", []) for f in inline.formset.forms
                       if f.errors]
            assert kept() == before, f"{label}: refused by the admin form but changed the kept rows"
            return f"{label} → refused by the form {errors}"
        return label

    def admin_reading(self):
        reading = self.reading()
        household_id, period, amount = reading.household_id, reading.period, reading.amount
        change = self.rng.choice(["amount", "period", "household", "all"])
        if change in ("amount", "all"):
            amount = self.amount()
        if change in ("period", "all"):
            period = self.rng.choice(READING_MONTHS)  # sometimes taken: refused
        if change in ("household", "all"):
            household_id = self.household().pk
        label = (f"admin: reading {reading.pk} ({reading.household_id} {reading.period:%Y-%m} {reading.amount}) "
                 f"→ ({household_id} {period:%Y-%m} {amount})")
        url = reverse("admin:households_incomereading_change", args=[reading.pk])
        return self.admin_post(label, url, {
            "household": household_id, "period": period.isoformat(), "amount": amount, "_save": "Simpan",
        })

    def admin_membership(self):
        membership = self.membership()
        joined = self.join_date()  # after left_on sometimes: refused
        household_id = membership.household_id
        if self.rng.random() < 0.3:
            household_id = self.household().pk  # sometimes already in the group: refused
        elif self.rng.random() < 0.15:
            household_id = self.membership(group=membership.group).household_id  # often already in it: refused
        label = (f"admin: membership {membership.pk} ({membership.household_id} in {membership.group.code} from "
                 f"{membership.joined_on}) → family {household_id} from {joined}")
        url = reverse("admin:households_membership_change", args=[membership.pk])
        return self.admin_post(label, url, {
            "household": household_id, "group": membership.group_id, "joined_on": joined.isoformat(),
            "left_on": membership.left_on.isoformat() if membership.left_on else "", "_save": "Simpan",
        })

    def admin_add(self):
        """The admin's add form, for a reading (sometimes of a month already on record:
        refused) or a membership."""
        household = self.household()
        if self.rng.random() < 0.5:
            period, amount = self.rng.choice(READING_MONTHS), self.amount()
            label = f"admin: add reading {household.pk} {period:%Y-%m} {amount}"
            return self.admin_post(label, reverse("admin:households_incomereading_add"), {
                "household": household.pk, "period": period.isoformat(), "amount": amount, "_save": "Simpan",
            })
        group, joined = self.rng.choice(self.groups), self.join_date()
        label = f"admin: add membership {household.pk} in {group.code} from {joined}"
        return self.admin_post(label, reverse("admin:households_membership_add"), {
            "household": household.pk, "group": group.pk, "joined_on": joined.isoformat(), "left_on": "",
            "_save": "Simpan",
        })

    def admin_revert(self):
        """Reverting a reading or a membership to an earlier version from its admin history."""
        model = self.rng.choice([IncomeReading, Membership])
        ids = list(model.history.values_list("id", flat=True).distinct().order_by("id"))
        live = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        changed = [pk for pk in ids if pk in live and model.history.filter(id=pk).count() > 1]
        if not changed:
            raise Refused
        pk = self.rng.choice(changed)
        version = self.rng.choice(list(model.history.filter(id=pk).order_by("-history_date", "-history_id"))[1:])
        name = model._meta.model_name
        url = reverse(f"admin:households_{name}_simple_history", args=[pk, version.history_id])
        if model is IncomeReading:
            data = {"household": version.household_id, "period": version.period.isoformat(), "amount": version.amount}
        else:
            data = {"household": version.household_id, "group": version.group_id,
                    "joined_on": version.joined_on.isoformat(),
                    "left_on": version.left_on.isoformat() if version.left_on else ""}
        label = f"admin: revert {name} {pk} to {data}"
        return self.admin_post(label, url, {**data, "_save": "Simpan"})

    def admin_household(self):
        """The household's change form with its memberships inline: its details change
        (sometimes), and a join date changes, a membership is deleted or one is added, or
        none of them."""
        household = self.household()
        memberships = list(household.memberships.order_by("pk"))
        action = self.rng.choice(["change", "delete", "add", "none"]) if memberships else "add"
        target = self.rng.choice(memberships) if memberships else None
        details = self.details(household)
        data = {
            "kk_number": household.kk_number, "head_nik": household.head_nik, "head_name": household.head_name,
            "kelurahan": details["kelurahan"].pk, "address": household.address,
            "family_size": details["family_size"], "kb_method": details["kb_method"], "_save": "Simpan",
            "memberships-INITIAL_FORMS": len(memberships), "memberships-MIN_NUM_FORMS": 0,
            "memberships-MAX_NUM_FORMS": 1000,
        }
        if household.is_active:
            data["is_active"] = "on"
        forms = [(m.pk, m.group_id, m.joined_on, m.left_on) for m in memberships]
        label = (f"admin: family {household.pk} kelurahan {household.kelurahan_id}→{details['kelurahan'].pk}, "
                 f"size {household.family_size}→{details['family_size']}, KB {household.kb_method}→{details['kb_method']}")
        if action == "add":
            group = self.rng.choice(self.groups)
            forms.append(("", group.pk, self.join_date(), None))
            label += f"; joins {group.code} on {forms[-1][2]}"
        elif action == "change":
            joined = self.join_date()
            forms = [(pk, g, joined if pk == target.pk else j, left) for pk, g, j, left in forms]
            label += f"; membership {target.pk} joined {target.joined_on} → {joined}"
        elif action == "delete":
            data[f"memberships-{memberships.index(target)}-DELETE"] = "on"
            label += f"; membership {target.pk} (from {target.joined_on}) deleted"
        data["memberships-TOTAL_FORMS"] = len(forms)
        for i, (pk, group_id, joined, left) in enumerate(forms):
            data.update({
                f"memberships-{i}-id": pk, f"memberships-{i}-household": household.pk,
                f"memberships-{i}-group": group_id, f"memberships-{i}-joined_on": joined.isoformat(),
                f"memberships-{i}-left_on": left.isoformat() if left else "",
            })
        return self.admin_post(label, reverse("admin:households_household_change", args=[household.pk]), data)

    def admin_group(self):
        """A group moves to another working team (so perhaps another OPD) or type."""
        group = self.group()
        team = self.team() if self.rng.random() < 0.7 else group.team
        kind = self.rng.choice(self.types) if self.rng.random() < 0.5 else group.group_type
        label = f"admin: group {group.code} team {group.team_id}→{team.pk}, type {group.group_type_id}→{kind.pk}"
        data = {
            "code": group.code, "name": group.name, "group_type": kind.pk, "team": team.pk,
            "kelurahan": group.kelurahan_id, "formed_on": group.formed_on.isoformat() if group.formed_on else "",
            "business": group.business, "cadres": list(group.cadres.values_list("pk", flat=True)),
            "problems-TOTAL_FORMS": 0, "problems-INITIAL_FORMS": 0, "problems-MIN_NUM_FORMS": 0,
            "problems-MAX_NUM_FORMS": 1000, "_save": "Simpan",
        }
        if group.is_active:
            data["is_active"] = "on"
        return self.admin_post(label, reverse("admin:groups_group_change", args=[group.pk]), data)

    def admin_team(self):
        """A working team moves to another OPD (a default team where the OPD has one: refused)."""
        team, opd = self.team(), self.rng.choice(self.opds)
        label = f"admin: team {team.pk} ({team.name}) OPD {team.opd_id}→{opd.pk}"
        data = {"name": team.name, "opd": opd.pk, "members": list(team.members.values_list("pk", flat=True)),
                "_save": "Simpan"}
        if team.is_default:
            data["is_default"] = "on"
        return self.admin_post(label, reverse("admin:groups_workingteam_change", args=[team.pk]), data)

    def admin_kelurahan(self):
        kelurahan, kecamatan = self.rng.choice(self.kelurahan), self.rng.choice(self.kecamatan)
        kelurahan.refresh_from_db()
        label = f"admin: kelurahan {kelurahan.code} kecamatan {kelurahan.kecamatan_id}→{kecamatan.pk}"
        return self.admin_post(label, reverse("admin:groups_kelurahan_change", args=[kelurahan.pk]), {
            "code": kelurahan.code, "name": kelurahan.name, "kecamatan": kecamatan.pk, "_save": "Simpan",
        })

    def load_areas(self):
        """``load_areas`` with a CSV that moves a kelurahan to another kecamatan."""
        kelurahan, kecamatan = self.rng.choice(self.kelurahan), self.rng.choice(self.kecamatan)
        path = self.tmp_path / f"areas-{next(self.files)}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["kode_kecamatan", "nama_kecamatan", "kode_kelurahan", "nama_kelurahan"])
            writer.writerow([kecamatan.code, kecamatan.name, kelurahan.code, kelurahan.name])
        call_command("load_areas", str(path), stdout=io.StringIO())
        return f"load_areas: kelurahan {kelurahan.code} into kecamatan {kecamatan.code}"

    # Plain ORM saves and deletes ----------------------------------------------------------

    def orm_scopes(self):
        """Single saves of what the kept rows copy: a household's details, a group's team or
        type, a team's OPD, a kelurahan's kecamatan; all fields or ``update_fields``."""
        kind = self.rng.choice(["household", "group", "team", "kelurahan"])
        partial = self.rng.random() < 0.5
        if kind == "household":
            obj = self.household()
            changes = {k: v for k, v in self.details(obj).items() if getattr(obj, k) != v} or {"head_name": "Nama Baru"}
        elif kind == "group":
            obj = self.group()
            changes = self.rng.choice([{"team": self.team()}, {"group_type": self.rng.choice(self.types)},
                                       {"team": self.team(), "group_type": self.rng.choice(self.types)}])
        elif kind == "team":
            obj = self.team()
            changes = {"opd": self.rng.choice(self.opds)}
        else:
            obj = self.rng.choice(self.kelurahan)
            obj.refresh_from_db()
            changes = {"kecamatan": self.rng.choice(self.kecamatan)}
        for name, value in changes.items():
            setattr(obj, name, value)
        label = f"ORM: {kind} {obj.pk} ← {changes}" + (" (update_fields)" if partial else "")

        def save():
            with transaction.atomic():  # a second default team for an OPD is refused
                obj.save(update_fields=list(changes)) if partial else obj.save()

        return self.may_fail(label, save, IntegrityError)


    def orm_reading(self):
        kind = self.rng.choice(["create", "amount", "amount-update-fields", "period", "household", "delete",
                                "queryset-delete"])
        if kind == "queryset-delete":  # QuerySet.delete() sends post_delete for every row
            household, first = self.household(), self.rng.choice(READING_MONTHS)
            deleted, _ = IncomeReading.objects.filter(household=household, period__gte=first).delete()
            return f"ORM: delete family {household.pk}'s readings from {first:%Y-%m} on ({deleted} rows)"
        if kind == "create":
            household = self.household()
            period = self.free_month(household.pk)
            amount = self.amount()
            IncomeReading.objects.create(household=household, period=period, amount=amount)
            return f"ORM: create reading {household.pk} {period:%Y-%m} {amount}"
        reading = self.reading()
        label = f"ORM: reading {reading.pk} ({reading.household_id} {reading.period:%Y-%m} {reading.amount})"
        if kind == "delete":
            reading.delete()
            return f"{label} deleted"
        if kind == "amount":
            reading.amount = self.amount()
            reading.save()
        elif kind == "amount-update-fields":
            reading.amount = self.amount()
            reading.save(update_fields=["amount"])
        elif kind == "period":
            reading.period = self.free_month(reading.household_id)
            reading.save()
        else:
            household = self.household()
            reading.period = self.free_month(household.pk, months=[reading.period]) if self.rng.random() < 0.5 \
                else self.free_month(household.pk)
            reading.household = household
            reading.save(update_fields=["household", "period"])
        return f"{label} → ({reading.household_id} {reading.period:%Y-%m} {reading.amount}) [{kind}]"

    def orm_membership(self):
        kind = self.rng.choice(["create", "joined", "joined-update-fields", "household", "delete"])
        if kind == "create":
            household = self.household()
            free = [g for g in self.groups if not Membership.objects.filter(household=household, group=g).exists()]
            if not free:
                raise Refused
            group, joined = self.rng.choice(free), self.join_date()
            Membership.objects.create(household=household, group=group, joined_on=joined)
            return f"ORM: create membership {household.pk} in {group.code} from {joined}"
        membership = self.membership()
        label = f"ORM: membership {membership.pk} ({membership.household_id} in {membership.group.code} from {membership.joined_on})"
        if kind == "delete":
            membership.delete()
            return f"{label} deleted"
        if kind == "household":
            taken = set(Membership.objects.filter(group=membership.group).values_list("household_id", flat=True))
            free = [h for h in Household.objects.order_by("pk") if h.pk not in taken]
            if not free:
                raise Refused
            membership.household = self.rng.choice(free)
            membership.save()
        else:
            joined = self.join_date()
            if membership.left_on and joined > membership.left_on:
                joined = membership.left_on
            membership.joined_on = joined
            if kind == "joined":
                membership.save()
            else:
                membership.save(update_fields=["joined_on"])
        return f"{label} → family {membership.household_id} from {membership.joined_on} [{kind}]"

    def rolled_back(self):
        """A write inside ``transaction.atomic`` that then fails: everything rolls back."""
        household = self.household()
        period = self.free_month(household.pk)
        before = kept()
        with pytest.raises(IntegrityError):
            with transaction.atomic():
                IncomeReading.objects.create(household=household, period=period, amount=self.amount())
                if self.rng.random() < 0.5:
                    Membership.objects.create(household=household, group=self.rng.choice(self.groups),
                                              joined_on=self.join_date())
                IncomeReading.objects.create(household=household, period=period, amount=1)  # the same month again
        assert kept() == before, "a rolled-back transaction left its kept rows behind"
        return f"atomic: reading {household.pk} {period:%Y-%m} (+ maybe a membership), then IntegrityError → rolled back"

    def step(self) -> tuple[str, str]:
        """One random write: (the operation's name, what it did)."""
        for _ in range(10):
            operation = self.rng.choice(self.operations)
            try:
                return operation.__name__, operation()
            except Refused:
                continue
        raise AssertionError("ten operations in a row found nothing to do")


def populate(rng: random.Random, groups, households: int = 8):
    """Households in several kelurahan, in one or two of the groups, joined on random days,
    with readings in about half the months."""
    kelurahan = some_kelurahan()
    for n in range(households):
        first, *others = rng.sample(groups, k=rng.randint(1, 2))
        joined = min(rng.choice(JOIN_MONTHS).replace(day=rng.randint(1, 28)), TODAY)
        member = make_member(first, joined_on=joined, head_name=f"Keluarga {n}", kelurahan=rng.choice(kelurahan),
                             family_size=rng.randint(1, 9), kb_method=rng.choice([KbMethod.TIDAK, KbMethod.SUNTIK]))
        for group in others:
            Membership.objects.create(household=member.household, group=group,
                                      joined_on=min(rng.choice(JOIN_MONTHS).replace(day=rng.randint(1, 28)), TODAY))
        for month in READING_MONTHS:
            if rng.random() < 0.5:
                make_reading(member.household, month, rng.randrange(0, 4_000_000, 10_000))


@pytest.fixture
def world_users(group_a, group_b, cadre_a, cadre_b, opd_user, dppkb_user, admin_user):
    second_team = WorkingTeam.objects.create(opd=Opd.objects.get(code="DISTAN"), name="Tim Sayur")
    group_c = make_group(code="KWT-C", opd_code="DISTAN", name="KWT Cempaka")
    group_c.team = second_team
    group_c.save()
    group_c.cadres.add(cadre_a)  # cadre A has two groups
    make_user(role="kader", groups=[group_c], username="kader_c")
    return {"admin": admin_user, "dppkb": dppkb_user, "opd": opd_user}


# The property ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_random_writes_keep_the_figures_equal_to_a_rebuild(world_users, client, tmp_path):
    """Each seed: a fresh world (in a savepoint rolled back afterwards) and
    ``OPERATIONS_PER_RUN`` random writes, the kept rows checked after every one. Across the
    seeds every operation must have succeeded, and the refusable ones been refused, at least
    once: no write path is left out by chance."""
    outcomes = defaultdict(int)
    for seed in _seeds():
        rng = random.Random(seed)
        with transaction.atomic():
            populate(rng, list(Group.objects.order_by("code")))
            assert_kept_equal_rebuild(seed=seed)
            world = World(rng, client=client, tmp_path=tmp_path, **world_users)
            history = []
            for _ in range(OPERATIONS_PER_RUN):
                name, label = world.step()
                history.append(label)
                outcomes[name, "refused" in label] += 1
                assert_kept_equal_rebuild(history, seed=seed)
            # rebuild() itself writes exactly what its SELECT returns, and what was kept
            assert rebuilt_for_real() == kept(), f"seed {seed}: figures.rebuild() wrote other rows than were kept"
            assert kept(), f"seed {seed}: no kept rows left, the property held vacuously"
            transaction.set_rollback(True)
    succeeded = {name for name, refused in outcomes if not refused}
    every = {op.__name__ for op in world.operations}
    assert every <= succeeded, f"never succeeded: {every - succeeded} ({dict(outcomes)})"
    refused = {name for name, refused in outcomes if refused}
    refusable = {"entry_sheet", "register_existing", "leave", "import_workbook", "admin_reading", "admin_membership"}
    assert refusable <= refused, f"never refused: {refusable - refused}"


# Every copied field, saved alone ------------------------------------------------------------


def _change(model, field, world):
    """The object of ``model`` whose ``field`` now holds another value (not yet saved)."""
    first, second = world["first"], world["second"]
    if model is IncomeReading:
        reading = first.readings.order_by("period").first()
        if field == "household":
            reading.household = second  # to a month ``second`` has no reading for
        elif field == "period":
            reading.period = months_ago(0)
        else:
            reading.amount += 1
        return reading
    if model is Membership:
        membership = first.memberships.order_by("pk").first()
        if field == "household":
            membership.household = world["third"]
        elif field == "group":
            membership.group = world["far_group"]
        elif field == "joined_on":
            membership.joined_on = months_ago(8).replace(day=3)
        else:
            membership.left_on = TODAY
        return membership
    if model is Household:
        setattr(first, field, {"kelurahan": world["far_kelurahan"], "family_size": first.family_size + 1,
                               "kb_method": KbMethod.TIDAK}[field])
        return first
    if model is Group:
        group = first.memberships.order_by("pk").first().group
        if field == "team":
            group.team = world["far_group"].team
        else:
            group.group_type = GroupType.objects.exclude(pk=group.group_type_id).order_by("code").first()
        return group
    if model is WorkingTeam:
        team = world["far_group"].team
        team.opd = Opd.objects.get(code="DINSOS")
        return team
    kelurahan = first.kelurahan
    kelurahan.kecamatan = Kecamatan.objects.exclude(pk=kelurahan.kecamatan_id).order_by("code").first()
    return kelurahan


COPIED = [
    (IncomeReading, "household"), (IncomeReading, "period"), (IncomeReading, "amount"),
    (Membership, "household"), (Membership, "group"), (Membership, "joined_on"), (Membership, "left_on"),
    (Household, "kelurahan"), (Household, "family_size"), (Household, "kb_method"),
    (Group, "team"), (Group, "group_type"), (WorkingTeam, "opd"), (Kelurahan, "kecamatan"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("partial", [False, True], ids=["save()", "update_fields"])
@pytest.mark.parametrize(("model", "field"), COPIED, ids=[f"{m.__name__}.{f}" for m, f in COPIED])
def test_a_single_save_of_any_copied_field_refreshes_the_kept_rows(model, field, partial, group_a, group_b):
    """Each field the kept rows depend on (see ``by_rule``), changed and saved on its own,
    with ``save()`` and with ``save(update_fields=[field])``: the rows follow."""
    far_kelurahan = Kelurahan.objects.exclude(kecamatan=Kelurahan.objects.order_by("code").first().kecamatan)
    far_group = make_group(code="UEP-J", opd_code="DISKAN", type_code="UEP")  # another OPD and type
    far_group.team = WorkingTeam.objects.create(opd=far_group.team.opd, name="Tim Jauh")
    far_group.save()
    world = {
        "first": make_member(group_a, joined_on=months_ago(5).replace(day=9), family_size=4).household,
        "second": make_member(group_b, joined_on=months_ago(4).replace(day=9)).household,
        "third": make_member(far_group, joined_on=months_ago(3).replace(day=9)).household,
        "far_kelurahan": far_kelurahan.order_by("code").first(),
        "far_group": far_group,
    }
    Membership.objects.create(household=world["first"], group=group_b, joined_on=months_ago(2).replace(day=1))
    for household, months in ((world["first"], (7, 6, 1)), (world["second"], (6, 2))):
        for n in months:
            make_reading(household, months_ago(n), 1_000_000 + n)
    assert_kept_equal_rebuild([f"setup for {model.__name__}.{field}"])
    before = kept()
    obj = _change(model, field, world)
    obj.save(update_fields=[field]) if partial else obj.save()
    assert rebuilt() != before, "the change does not matter to the kept rows: the test would prove nothing"
    assert_kept_equal_rebuild([f"{model.__name__}.{field} saved " + ("with update_fields" if partial else "whole")])


# Writes that fail ----------------------------------------------------------------------


@pytest.fixture
def family(group_a):
    """A family that joined group A in the month four months ago, with readings before and after."""
    household = make_member(group_a, joined_on=months_ago(4).replace(day=10), head_name="Hasnah").household
    for n, amount in ((7, 1_000_000), (6, 1_100_000), (5, 1_200_000), (3, 1_500_000), (2, 1_600_000)):
        make_reading(household, months_ago(n), amount)
    return household


@pytest.mark.django_db
def test_a_conflicting_entry_sheet_leaves_the_kept_rows_as_they_were(family, group_a, dppkb_user):
    other = make_member(group_a, joined_on=months_ago(4).replace(day=3)).household
    make_reading(other, months_ago(6), 900_000)
    month = months_ago(1)
    make_reading(family, month, 1_700_000)
    before = kept()
    amounts = {family.pk: 2_000_000, other.pk: 1_000_000}
    with pytest.raises(services.ConflictError) as raised:
        # the user saw no reading for ``family`` (someone saved one since); ``other`` is new
        services.record_incomes(period=month, amounts=amounts, expected={family.pk: None, other.pk: None}, by=dppkb_user)
    assert raised.value.household_ids == {family.pk}
    assert kept() == before
    assert not IncomeReading.objects.filter(household=other, period=month).exists()
    # The same sheet, saved with what is really there, does change the kept rows.
    services.record_incomes(period=month, amounts=amounts, expected={family.pk: 1_700_000, other.pk: None}, by=dppkb_user)
    assert kept() != before
    assert_kept_equal_rebuild(["entry sheet after a conflict"])


@pytest.mark.django_db
def test_an_import_plan_with_errors_is_never_applied(family, tmp_path):
    from tests.test_import import run

    joined = months_ago(2).replace(day=2)
    kk, new = family.kk_number, new_kk()
    families = [
        [kk, family.head_nik, family.head_name, family.kelurahan.code, "", family.family_size, family.kb_method,
         "NEL-B", joined, None],  # joins a second group: a new kept row
        [new, valid_nik(9001), "Keluarga Impor", family.kelurahan.code, "", 3, "PIL", "KWT-A", joined, None],
    ]
    incomes = [[kk, months_ago(1).strftime("%Y-%m"), 2_500_000], [new, months_ago(3).strftime("%Y-%m"), 800_000],
               [kk, months_ago(5).strftime("%Y-%m"), 5_000_000]]  # a changed amount
    bad = [[kk, "kemarin", "dua juta"]]
    Group.objects.filter(code="NEL-B").exists() or make_group(code="NEL-B", opd_code="DISKAN", type_code="NELAYAN")
    before = kept()
    faulty = build(tmp_path / "faulty.xlsx", groups=(), families=families, incomes=incomes + bad)
    plan = plan_import(read_workbook(faulty))
    assert plan.error_count and plan.has_changes  # the good rows are planned all the same
    with pytest.raises(ValueError):
        apply_plan(plan)
    assert kept() == before
    status, _out, _err = run(faulty)  # the command line refuses it too
    assert status == 1 and kept() == before
    # Without the bad row the same workbook is imported, and the kept rows follow.
    status, _out, err = run(build(tmp_path / "clean.xlsx", groups=(), families=families, incomes=incomes))
    assert status == 0, err
    assert kept() != before
    assert_kept_equal_rebuild(["clean import"])


@pytest.mark.django_db
def test_an_integrity_error_rolls_the_kept_rows_back_with_the_write(family, group_b):
    before = kept()
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            make_reading(family, months_ago(1), 3_000_000)
            Membership.objects.create(household=family, group=group_b, joined_on=months_ago(2))
            assert kept() != before  # the kept rows did follow, inside the transaction
            make_reading(family, months_ago(1), 3_000_000)  # the same month twice
    assert kept() == before
    assert_kept_equal_rebuild(["rolled back"])


@pytest.mark.django_db
def test_a_registration_refused_after_its_membership_was_saved_leaves_the_kept_rows(family, group_b, dppkb_user):
    """register_household saves the membership (its kept row follows) and only then finds
    the baseline missing: the refusal takes the kept row with it."""
    joined = months_ago(3).replace(day=5)  # a month with a reading, and none in the month before
    assert not IncomeReading.objects.filter(household=family, period=month_before(joined)).exists()
    before = kept()
    with pytest.raises(ValidationError):
        services.register_household(group=group_b, joined_on=joined, baseline_amount=None, by=dppkb_user, household=family)
    assert kept() == before
    assert not Membership.objects.filter(household=family, group=group_b).exists()


# Concurrent writes (PostgreSQL) --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("master_data")
def test_a_group_moving_team_while_a_family_registers_into_it(dppkb_user):
    """T1 registers a new family into group G (its kept row copies G's OPD) and, before it
    commits, T2 moves G to a team of another OPD. Unless T2 waits for T1 (the refresh
    share-locks the group, team and kelurahan rows it copies), T2 commits first, its refresh
    cannot see T1's membership, and T1's row keeps the old OPD: stale."""
    import threading

    # On SQLite the move waits for the registration's IMMEDIATE transaction: same outcome.
    group = make_group(code="RACE-1", opd_code="DISTAN")
    make_member(group, joined_on=months_ago(6).replace(day=5))
    elsewhere = WorkingTeam.objects.create(opd=Opd.objects.get(code="DISKAN"), name="Tim Lain")
    registered, moved, errors = threading.Event(), threading.Event(), []

    def register():
        try:
            with transaction.atomic():
                services.register_household(
                    group=group, joined_on=months_ago(2).replace(day=5), baseline_amount=1_000_000, by=dppkb_user,
                    details={"kk_number": new_kk(), "head_nik": valid_nik(4242), "head_name": "Keluarga Baru",
                             "kelurahan": Kelurahan.objects.order_by("code").first(), "family_size": 3,
                             "kb_method": KbMethod.PIL})
                registered.set()
                moved.wait(2)  # without the lock the move commits meanwhile; with it, it waits for us
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            connection.close()

    def move():
        try:
            if not registered.wait(10):
                raise TimeoutError("the family was not registered")
            with transaction.atomic():
                moving = Group.objects.get(pk=group.pk)
                moving.team = elsewhere
                moving.save()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            moved.set()
            connection.close()

    threads = [threading.Thread(target=register), threading.Thread(target=move)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise RuntimeError(errors)  # not the AssertionError the mark expects
    assert_kept_equal_rebuild(["T1 registers a family into G; T2 moves G to another OPD's team and commits first"])


# Rebuilding and demo data ---------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_figures_rewrites_a_corrupted_table(family, group_b):
    second = make_member(group_b, joined_on=months_ago(6).replace(day=20)).household
    make_reading(second, months_ago(8), 700_000)
    make_reading(second, months_ago(1), 900_000)
    assert kept() == rebuilt() and len(kept()) == 2
    first = MemberFigures.objects.order_by("pk").first()
    MemberFigures.objects.filter(pk=first.pk).update(before_sum=F("before_sum") + 1, after_count=0, memberships=7)
    MemberFigures.objects.exclude(pk=first.pk).delete()
    # a membership written behind the ORM's back (bulk_create sends no signals): no kept row
    Membership.objects.bulk_create([Membership(household=family, group=group_b, joined_on=months_ago(9))])
    expected = rebuilt()
    assert len(expected) == 3 and kept() != expected
    out = io.StringIO()
    call_command("rebuild_figures", stdout=out)
    assert kept() == expected
    assert f"Kept figures rebuilt: {len(expected)} rows" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_keeps_the_figures_and_writes_on_top_keep_them(dppkb_user, admin_user, opd_user, client, tmp_path):
    seed_demo(households=60, months=12, seed=3, last_month=months_ago(1))
    assert kept(), "the demo data has no kept rows"
    assert_kept_equal_rebuild(["seed_demo"])
    rng = random.Random(3)
    world = World(rng, client=client, tmp_path=tmp_path, admin=admin_user, dppkb=dppkb_user, opd=opd_user)
    history = ["seed_demo"]
    for _ in range(20):
        _name, label = world.step()
        history.append(label)
        assert_kept_equal_rebuild(history, seed=3)


@pytest.mark.django_db
def test_the_comparison_sees_a_stale_row(family):
    """The oracle is not blind: a row changed behind the maintenance's back is reported."""
    MemberFigures.objects.filter(household=family).update(after_sum=F("after_sum") + 1)
    with pytest.raises(AssertionError, match="kept figures are stale"):
        assert_kept_equal_rebuild(["hand edit"])
    # Writes behind the ORM's back (bulk_create and QuerySet.update send no signals) too.
    figures.rebuild()
    IncomeReading.objects.bulk_create([IncomeReading(household=family, period=months_ago(1), amount=1)])
    with pytest.raises(AssertionError, match="after_count 2, should be 3"):
        assert_kept_equal_rebuild(["bulk_create"])
    figures.rebuild()
    Household.objects.filter(pk=family.pk).update(kb_method=KbMethod.TIDAK)
    with pytest.raises(AssertionError, match="acceptor True, should be False"):
        assert_kept_equal_rebuild(["QuerySet.update"])
    figures.rebuild()
    assert_kept_equal_rebuild(["rebuilt"])



# loaddata and unchanged master data ------------------------------------------------------


@pytest.mark.django_db
def test_loaddata_keeps_the_figures(family, tmp_path):
    """A fixture loaded with loaddata (raw saves, rows in any order) changes a reading and
    adds one: the kept rows follow."""
    reading = IncomeReading.objects.filter(household=family).order_by("-period").first()
    fixture = tmp_path / "readings.json"
    fixture.write_text(
        '[{"model": "households.incomereading", "pk": %d, "fields": {"household": %d, "period": "%s", "amount": %d,'
        ' "recorded_at": "2026-01-01T00:00:00Z"}},'
        ' {"model": "households.incomereading", "pk": 999999, "fields": {"household": %d, "period": "%s", "amount": 5,'
        ' "recorded_at": "2026-01-01T00:00:00Z"}}]'
        % (reading.pk, family.pk, reading.period, reading.amount + 777_000, family.pk, months_ago(1))
    )
    before = kept()
    call_command("loaddata", str(fixture), verbosity=0)
    assert kept() != before
    assert_kept_equal_rebuild(["loaddata: a reading changed, one added"])


@pytest.mark.django_db
def test_master_data_saved_unchanged_rewrites_nothing(family, group_a, monkeypatch):
    """load_areas saves every kelurahan; an admin saves a group to rename it: nothing that
    the kept rows copy changed, so no household's rows are rewritten."""
    calls = []
    monkeypatch.setattr(figures, "refresh", lambda ids: calls.append(set(ids)))
    kelurahan = family.kelurahan
    kelurahan.save()
    group_a.name = "Nama Baru"
    group_a.save()
    group_a.team.save()
    assert calls == []
    group_a.group_type = GroupType.objects.exclude(pk=group_a.group_type_id).first()
    group_a.save()
    assert calls == [{family.pk}]
