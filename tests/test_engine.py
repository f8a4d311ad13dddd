"""The figures engine (kept figures aggregated in the database) gives the pure core's
answers on the same random data: every scope, the workbook's Keluarga rows, target progress
and reporting completeness; as of a month on or after the latest reading (the kept rows)
and as of earlier months (the temporary table built by the same SQL)."""

import datetime as dt
import random

import pytest

from groups.models import Group
from groups.models import PovertyLine as PovertyLineRow
from households import figures as kept_figures
from households.models import Household, IncomeReading
from households.models import Membership as MembershipRow
from reports import compute
from reports import engine
from uppka.formats import round_half_up, round_percent
from tests.factories import make_group, make_household, make_member, make_reading, make_user


def figures_of(groups, as_of):
    return engine.figures(groups, as_of)


# Readings run from 2020-01 to 2022-06: the last month reads the kept rows, the others a
# temporary table; 2023-01 is after every reading too.
AS_OF_MONTHS = [dt.date(2021, 3, 1), dt.date(2021, 9, 1), dt.date(2022, 6, 1), dt.date(2023, 1, 1)]


@pytest.fixture
def random_data(db):
    """Households with random readings (gaps, zeros, the join month), groups of three OPD and
    two types, households in several groups, leavers, late joiners, two poverty lines."""
    rng = random.Random(20210205)
    PovertyLineRow.objects.create(valid_from=dt.date(2020, 9, 1), amount=400_000)
    PovertyLineRow.objects.create(valid_from=dt.date(2021, 9, 15), amount=450_000)
    groups = [
        make_group(opd_code=opd, type_code=kind)
        for opd, kind in [("DISTAN", "KWT"), ("DISTAN", "UEP"), ("DINSOS", "UEP"), ("DISKAN", "NELAYAN"), ("DISKAN", "KWT")]
    ]
    from groups.models import Kelurahan

    kelurahan = list(Kelurahan.objects.all()[:6])
    months = [dt.date(2020 + (i // 12), i % 12 + 1, 1) for i in range(30)]
    for i in range(60):
        household = make_household(kelurahan=rng.choice(kelurahan), family_size=rng.randint(1, 7))
        for group in rng.sample(groups, rng.choice([1, 1, 1, 2, 3])):
            joined = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
            left = joined + dt.timedelta(days=rng.randint(0, 300)) if rng.random() < 0.2 else None
            MembershipRow.objects.create(household=household, group=group, joined_on=joined, left_on=left)
        IncomeReading.objects.bulk_create(
            IncomeReading(household=household, period=p, amount=rng.choice([0, rng.randint(0, 3_000_000)]))
            for p in months if rng.random() < 0.7
        )
    kept_figures.rebuild()  # bulk_create skips the writers that keep them
    return groups


def pure_figures(groups, as_of, key):
    """The pure core, fed straight from the database rows."""
    group_info = {g.pk: g for g in Group.objects.select_related("team").filter(pk__in=[g.pk for g in groups])}
    households = {h.pk: h for h in Household.objects.select_related("kelurahan")}
    readings = {}
    for r in IncomeReading.objects.all():
        readings.setdefault(r.household_id, []).append(compute.Reading(r.period, r.amount))
    memberships = [
        compute.Membership(m.household_id, m.group_id, m.joined_on, m.left_on)
        for m in MembershipRow.objects.filter(group__in=groups)
    ]
    scope = {
        "group_id": lambda m: [m.group_id],
        "opd_id": lambda m: [group_info[m.group_id].team.opd_id],
        "type_id": lambda m: [group_info[m.group_id].group_type_id],
        "kelurahan_id": lambda m: [households[m.household_id].kelurahan_id],
        "kecamatan_id": lambda m: [households[m.household_id].kelurahan.kecamatan_id],
        "all": lambda m: [0],
    }[key]
    lines = [compute.PovertyLine(p.valid_from, p.amount) for p in PovertyLineRow.objects.all()]
    return compute.scope_summaries(
        memberships=memberships,
        readings=readings,
        family_sizes={pk: h.family_size for pk, h in households.items()},
        as_of=as_of,
        scopes_of=scope,
        lines=lines,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", AS_OF_MONTHS)
@pytest.mark.parametrize("key", ["group_id", "opd_id", "type_id", "kecamatan_id", "kelurahan_id"])
def test_engine_equals_pure_core(random_data, as_of, key):
    fast = figures_of(Group.objects.all(), as_of)
    expected = pure_figures(random_data, as_of, key)
    assert expected, "the random data must produce figures"
    assert fast.by[key] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", AS_OF_MONTHS)
def test_engine_total_equals_pure_core_city(random_data, as_of):
    assert figures_of(Group.objects.all(), as_of).total == pure_figures(random_data, as_of, "all")[0]


@pytest.mark.django_db
def test_two_memberships_joined_in_the_same_month_count_once():
    """A family that joined two groups of one OPD in the same month is one paired family."""
    first, second = make_group(opd_code="DISTAN"), make_group(opd_code="DISTAN")
    household = make_member(first, joined_on=dt.date(2021, 3, 3)).household
    MembershipRow.objects.create(household=household, group=second, joined_on=dt.date(2021, 3, 20))
    for period, amount in [(dt.date(2021, 1, 1), 1_000_000), (dt.date(2021, 2, 1), 1_200_000),
                           (dt.date(2021, 4, 1), 1_500_000), (dt.date(2021, 5, 1), 1_700_000)]:
        make_reading(household, period, amount)
    as_of = dt.date(2021, 6, 1)
    fast = figures_of(Group.objects.all(), as_of)
    assert fast.total.paired == 1 and fast.total.mean_change == 500_000
    assert fast.by["opd_id"][first.team.opd_id].paired == 1
    assert fast.by["group_id"] == pure_figures([first, second], as_of, "group_id")
    assert fast.total == pure_figures([first, second], as_of, "all")[0]


@pytest.mark.django_db
def test_engine_on_a_selection_of_groups(random_data):
    selection = Group.objects.filter(team__opd__code="DISTAN")
    as_of = dt.date(2021, 9, 1)
    assert figures_of(selection, as_of).total == pure_figures(list(selection), as_of, "all")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("as_of, queries", [(dt.date(2022, 6, 1), 3), (dt.date(2021, 9, 1), 8)])
def test_engine_uses_a_fixed_number_of_queries(random_data, as_of, queries, django_assert_num_queries):
    # Whether the kept rows hold for the month, the poverty lines, then one statement for every scope; for an
    # earlier month, five more to drop any leftover, build, index, analyse and drop the temporary table.
    with django_assert_num_queries(queries):
        figures_of(Group.objects.all(), as_of)


@pytest.mark.django_db
def test_empty_selection_gives_empty_figures():
    figures = figures_of(Group.objects.none(), dt.date(2021, 9, 1))
    assert figures.total.active_members == 0 and figures.total.paired == 0
    assert figures.by["group_id"] == {}
    assert list(engine.member_rows(Group.objects.none(), dt.date(2021, 9, 1), engine.KEPT)) == []
    assert list(engine.streamed_group_rows(Group.objects.none(), dt.date(2021, 9, 1), engine.KEPT)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", AS_OF_MONTHS)
def test_streamed_group_rows_equal_the_pure_core(random_data, as_of):
    with engine.source(Group.objects.all(), as_of) as table:
        rows = list(engine.streamed_group_rows(Group.objects.all(), as_of, table))
    assert [r.code for r in rows] == sorted(g.code for g in random_data)
    expected = pure_figures(random_data, as_of, "group_id")
    assert {r.id: r.summary for r in rows if r.summary.active_members or r.summary.paired} == {
        k: v for k, v in expected.items() if v.active_members or v.paired
    }


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", AS_OF_MONTHS)
def test_keluarga_rows_equal_the_pure_core(random_data, as_of):
    """Every membership's before, after, change and change %, rounded as the workbook
    writes them, against the pure core's exact figures for its own join month."""
    readings = {}
    for r in IncomeReading.objects.all():
        readings.setdefault(r.household_id, []).append(compute.Reading(r.period, r.amount))
    with engine.source(Group.objects.all(), as_of) as table:
        rows = list(engine.member_rows(Group.objects.all(), as_of, table))
    memberships = MembershipRow.objects.filter(joined_on__lte=compute.end_of_month(as_of))
    assert len(rows) == memberships.count() > 0
    by_id = {m.pk: m for m in memberships}
    paired = 0
    for row in rows:
        m = by_id[row.membership_id]
        exact = compute.before_after(readings.get(m.household_id, ()), compute.month_of(m.joined_on), as_of)
        expected = (
            round_half_up(exact.baseline), round_half_up(exact.current),
            round_half_up(exact.change), round_percent(exact.change_pct),
        )
        f = row.figures
        assert (f.before, f.after, f.change, f.change_pct) == expected, (row, exact)
        paired += f.paired
    assert paired > 10, "the random data must pair families"


def plain_memberships(groups):
    return [
        compute.Membership(m.household_id, m.group_id, m.joined_on, m.left_on)
        for m in MembershipRow.objects.filter(group__in=groups)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("day", [dt.date(2020, 6, 30), dt.date(2021, 3, 31), dt.date(2022, 1, 15)])
def test_target_progress_equals_the_pure_core(random_data, day):
    households = {h.pk: h for h in Household.objects.select_related("kelurahan")}
    acceptors = {pk for pk, h in households.items() if h.kb_method != "TIDAK"}
    info = {g.pk: g for g in Group.objects.select_related("team")}
    progress = engine.progress(Group.objects.all(), day)
    memberships = plain_memberships(random_data)
    expected = compute.target_progress(memberships=memberships, acceptors=acceptors, day=day, scopes_of=lambda m: [0])
    assert progress.total == expected.get(0, 0)
    by_opd = compute.target_progress(
        memberships=memberships, acceptors=acceptors, day=day, scopes_of=lambda m: [info[m.group_id].team.opd_id]
    )
    assert progress.by["opd_id"] == by_opd
    by_kecamatan = compute.target_progress(
        memberships=memberships, acceptors=acceptors, day=day,
        scopes_of=lambda m: [households[m.household_id].kelurahan.kecamatan_id],
    )
    assert progress.by["kecamatan_id"] == by_kecamatan


@pytest.mark.django_db
@pytest.mark.parametrize("month", [dt.date(2020, 6, 1), dt.date(2021, 3, 1), dt.date(2021, 11, 1)])
def test_reporting_completeness_equals_the_pure_core(random_data, month):
    # Two cadres sharing a group: a family in both of one cadre's groups counts once for them.
    cadres = {make_user(role="kader").pk: random_data[:3], make_user(role="kader").pk: random_data[2:]}
    for user_pk, groups in cadres.items():
        for group in groups:
            group.cadres.add(user_pk)
    cadres_of = {g.pk: [u for u, gs in cadres.items() if g in gs] for g in random_data}
    reported = set(IncomeReading.objects.filter(period=month).values_list("household_id", flat=True))
    memberships = plain_memberships(random_data)

    def pure(scopes_of):
        found = compute.completeness(memberships=memberships, reported=reported, month=month, scopes_of=scopes_of)
        return {scope: (c.active_members, c.reported) for scope, c in found.items()}

    result = engine.reporting(Group.objects.all(), month)
    assert result.by_group == pure(lambda m: [m.group_id])
    assert result.by_cadre == pure(lambda m: cadres_of[m.group_id])
    assert (result.active_members, result.reported) == pure(lambda m: [0]).get(0, (0, 0))
    assert result.active_members > 0


@pytest.mark.django_db
def test_no_groups_as_of_a_past_month_gives_empty_figures(random_data):
    with engine.source(Group.objects.none(), dt.date(2021, 3, 1)) as table:
        assert engine.figures(Group.objects.none(), dt.date(2021, 3, 1), table=table).total == engine.EMPTY
        assert list(engine.member_rows(Group.objects.none(), dt.date(2021, 3, 1), table)) == []
