"""Hand-worked cases for the metrics of SPEC section 4 (pure core, no database)."""

import datetime as dt
from fractions import Fraction as F

import pytest

from reports.compute import (
    BeforeAfter,
    Membership,
    PovertyLine,
    Reading,
    Unit,
    before_after,
    completeness,
    line_in_force,
    median,
    scope_summaries,
    summarize,
    target_progress,
)
from uppka.formats import round_half_up, round_percent


def m(year, month):
    return dt.date(year, month, 1)


def readings(*pairs):
    """readings((2021, 1, 100), …) → [Reading]."""
    return [Reading(m(y, mo), a) for y, mo, a in pairs]


JAN21 = m(2021, 1)
DEC21 = m(2021, 12)


@pytest.mark.parametrize(
    "case, rows, join, as_of, baseline, current, baseline_month, current_month",
    [
        ("one reading each side", [(2020, 12, 100), (2021, 2, 300)], JAN21, DEC21, 100, 300, m(2020, 12), m(2021, 2)),
        (
            "more than three on each side: latest three count",
            [(2020, 8, 1), (2020, 9, 100), (2020, 10, 200), (2020, 11, 300),
             (2021, 2, 1), (2021, 3, 400), (2021, 4, 500), (2021, 5, 600)],
            m(2020, 12), DEC21, 200, 500, m(2020, 11), m(2021, 5),
        ),
        ("reading in the join month is in neither", [(2020, 12, 100), (2021, 1, 9999), (2021, 2, 300)], JAN21, DEC21, 100, 300, m(2020, 12), m(2021, 2)),
        ("only before: not paired", [(2020, 11, 100), (2020, 12, 200)], JAN21, DEC21, 150, None, m(2020, 12), None),
        ("only after: not paired", [(2021, 2, 100), (2021, 3, 200)], JAN21, DEC21, None, 150, None, m(2021, 3)),
        ("reading after the as-of month is left out", [(2020, 12, 100), (2021, 2, 300), (2021, 6, 9000)], JAN21, m(2021, 5), 100, 300, m(2020, 12), m(2021, 2)),
        ("reading in the as-of month counts", [(2020, 12, 100), (2021, 5, 700)], JAN21, m(2021, 5), 100, 700, m(2020, 12), m(2021, 5)),
        ("non-integer mean stays exact", [(2020, 10, 100), (2020, 11, 200), (2020, 12, 200), (2021, 2, 1)], JAN21, DEC21, F(500, 3), 1, m(2020, 12), m(2021, 2)),
        ("gaps: latest three readings, not three months", [(2020, 1, 10), (2020, 6, 20), (2020, 12, 30), (2021, 7, 50)], JAN21, DEC21, 20, 50, m(2020, 12), m(2021, 7)),
        ("no readings at all", [], JAN21, DEC21, None, None, None, None),
        ("unsorted input", [(2021, 3, 400), (2020, 12, 100), (2021, 2, 200)], JAN21, DEC21, 100, 300, m(2020, 12), m(2021, 3)),
    ],
)
def test_before_after(case, rows, join, as_of, baseline, current, baseline_month, current_month):
    figures = before_after(readings(*rows), join, as_of)
    assert (figures.baseline, figures.current) == (baseline, current), case
    assert (figures.baseline_month, figures.current_month) == (baseline_month, current_month), case
    assert figures.paired == (baseline is not None and current is not None)


def test_change_and_change_percent():
    figures = before_after(readings((2020, 12, 1_000_000), (2021, 2, 1_250_000)), JAN21, DEC21)
    assert figures.change == 250_000
    assert figures.change_pct == 25


def test_change_percent_is_undefined_when_baseline_is_zero():
    figures = before_after(readings((2020, 12, 0), (2021, 2, 500_000)), JAN21, DEC21)
    assert figures.change == 500_000
    assert figures.change_pct is None


def test_unpaired_has_no_change():
    figures = before_after(readings((2020, 12, 1)), JAN21, DEC21)
    assert figures.change is None and figures.change_pct is None


@pytest.mark.parametrize(
    "value, rounded",
    [(F(5, 2), 3), (F(-5, 2), -3), (F(-1, 2), -1), (F(1, 2), 1), (F(4, 3), 1), (F(-4, 3), -1), (F(5, 3), 2), (0, 0), (None, None)],
)
def test_round_half_away_from_zero(value, rounded):
    assert round_half_up(value) == rounded


@pytest.mark.parametrize("value, rounded", [(F(946, 10) + F(4, 100), 94.6), (F(5, 100), 0.1), (F(200, 3), 66.7), (F(-5, 100), -0.1)])
def test_percent_with_one_decimal(value, rounded):
    assert round_percent(value) == rounded


@pytest.mark.parametrize("values, middle", [([3, 1, 2], 2), ([4, 1, 3, 2], F(5, 2)), ([F(1, 3)], F(1, 3)), ([], None)])
def test_median_takes_the_mean_of_the_two_middle_values(values, middle):
    assert median(values) == middle


def unit(baseline, current, size=4, baseline_month=m(2020, 12), current_month=m(2021, 3)):
    return Unit(BeforeAfter(baseline and F(baseline), current and F(current), baseline_month, current_month), size)


def test_summary_over_paired_units_only():
    units = [unit(100, 200), unit(200, 100), unit(300, 600), unit(100, 100), unit(None, 500), unit(400, None)]
    s = summarize(units, active_members=7)
    assert (s.active_members, s.paired) == (7, 4)
    assert s.mean_baseline == F(700, 4)
    assert s.mean_current == F(1000, 4)
    assert s.mean_change == F(300, 4)  # (100 − 100 + 300 + 0) / 4
    assert s.median_change == 50  # middle of −100, 0, 100, 300
    assert s.pct_increased == 50  # 2 of 4 rose; unchanged is not an increase


def test_summary_with_nobody_paired_is_empty():
    s = summarize([unit(None, 100)], active_members=1)
    assert (s.paired, s.mean_change, s.pct_increased, s.pct_poor_before) == (0, None, None, None)


def test_poverty_shares_use_income_per_person_and_the_line_in_force():
    lines = [PovertyLine(m(2020, 3), 400_000), PovertyLine(m(2021, 3), 500_000)]
    units = [
        # 1.8 M / 4 = 450k: above 400k (line of 2020-12) before; 2.2 M / 4 = 550k above 500k after
        unit(1_800_000, 2_200_000, size=4, baseline_month=m(2020, 12), current_month=m(2021, 3)),
        # 1.5 M / 5 = 300k below before; 2.4 M / 5 = 480k below 500k after
        unit(1_500_000, 2_400_000, size=5, baseline_month=m(2020, 12), current_month=m(2021, 3)),
        # exactly on the line is not below: 2.0 M / 5 = 400k
        unit(2_000_000, 2_500_000, size=5, baseline_month=m(2020, 12), current_month=m(2021, 2)),
        # no line in force in 2019: left out of the before share
        unit(100_000, 3_000_000, size=1, baseline_month=m(2019, 12), current_month=m(2021, 2)),
    ]
    s = summarize(units, active_members=4, lines=lines)
    assert s.pct_poor_before == F(100, 3)  # 1 of the 3 that had a line
    assert s.pct_poor_after == 25  # 1 of 4 (2021-02 uses the 2020 line: 2.5 M / 5 = 500k ≥ 400k)


def test_line_in_force_is_the_latest_dated_on_or_before_the_month():
    lines = [PovertyLine(m(2024, 3), 1), PovertyLine(dt.date(2024, 9, 15), 2)]
    assert line_in_force(lines, m(2024, 2)) is None
    assert line_in_force(lines, m(2024, 8)) == 1
    assert line_in_force(lines, m(2024, 9)) == 2  # dated within September
    assert line_in_force(lines, m(2025, 1)) == 2


# Scopes ------------------------------------------------------------------------------
# Households 1–4; groups 10 and 11 are fostered by OPD "A", group 20 by OPD "B".
OPD = {10: "A", 11: "A", 20: "B"}
READINGS = {
    1: readings((2020, 10, 100), (2020, 11, 100), (2020, 12, 100), (2021, 2, 200), (2021, 3, 200), (2021, 4, 200), (2021, 6, 400), (2021, 7, 400)),
    2: readings((2020, 12, 300), (2021, 2, 150), (2021, 3, 150)),
    3: readings((2020, 12, 500), (2021, 2, 600)),
    4: readings((2021, 2, 100)),
}
SIZES = {1: 4, 2: 3, 3: 5, 4: 2}
MEMBERSHIPS = [
    Membership(1, 10, dt.date(2021, 1, 15)),
    Membership(1, 11, dt.date(2021, 5, 3)),  # second group of the same OPD, joined later
    Membership(1, 20, dt.date(2021, 5, 20)),  # and a group of another OPD
    Membership(2, 10, dt.date(2021, 1, 5), left_on=dt.date(2021, 3, 31)),  # left: still paired, no longer active
    Membership(3, 10, dt.date(2021, 1, 31)),
    Membership(4, 10, dt.date(2021, 6, 1)),  # joins after the as-of month of the first cases
]


def summaries(as_of, scopes_of):
    return scope_summaries(
        memberships=MEMBERSHIPS, readings=READINGS, family_sizes=SIZES, as_of=as_of, scopes_of=scopes_of
    )


def by_group(m_):
    return [("group", m_.group_id)]


def test_group_figures_include_leavers_in_the_paired_set():
    s = summaries(m(2021, 4), by_group)[("group", 10)]
    # active at the end of April: households 1 and 3 (2 left on 31 March; 4 joins in June)
    assert s.active_members == 2
    # paired: 1 (100 → 200), 2 (300 → 150), 3 (500 → 600)
    assert s.paired == 3
    assert s.mean_baseline == 300
    assert s.mean_current == F(950, 3)
    assert s.mean_change == F(50, 3)
    assert s.median_change == 100
    assert s.pct_increased == F(200, 3)


def test_membership_that_starts_after_the_as_of_month_is_left_out():
    groups = summaries(m(2021, 4), by_group)
    assert ("group", 11) not in groups and ("group", 20) not in groups
    assert groups[("group", 10)].paired == 3  # household 4 (joined June) is not there


def test_member_counts_once_per_group_with_its_own_join_month():
    groups = summaries(m(2021, 7), by_group)
    # group 11: household 1 joined May; before = Feb–Apr (200), after = Jun–Jul (400)
    assert (groups[("group", 11)].mean_baseline, groups[("group", 11)].mean_current) == (200, 400)
    # group 10 as of July: household 1 current = May? no reading; Apr, Jun, Jul → (200+400+400)/3
    g10 = groups[("group", 10)]
    assert g10.active_members == 3  # 1, 3 and 4 (joined June)
    assert g10.paired == 3  # 4 has no before reading


def test_household_in_two_groups_of_one_opd_counts_once_with_its_earliest_join():
    opds = summaries(m(2021, 7), lambda m_: [("opd", OPD[m_.group_id])])
    a = opds[("opd", "A")]
    assert a.active_members == 3  # households 1, 3, 4 (2 left)
    assert a.paired == 3  # households 1, 2 and 3, each once
    # household 1 with J = January (group 10), not May (group 11): 100 → (200+400+400)/3
    assert a.mean_baseline == F(100 + 300 + 500, 3)
    assert a.mean_current == F(F(1000, 3) + 150 + 600, 3)


def test_household_in_groups_of_two_opds_counts_in_both_with_each_opds_join():
    opds = summaries(m(2021, 7), lambda m_: [("opd", OPD[m_.group_id])])
    b = opds[("opd", "B")]
    assert (b.active_members, b.paired) == (1, 1)
    # in OPD B household 1 joined in May: before = Feb–Apr (200), after = Jun–Jul (400)
    assert (b.mean_baseline, b.mean_current, b.mean_change) == (200, 400, 200)


def test_city_counts_each_household_once_with_its_earliest_join():
    city = summaries(m(2021, 7), lambda m_: ["city"])["city"]
    assert city.active_members == 3
    assert city.paired == 3
    assert city.mean_baseline == 300  # (100 + 300 + 500) / 3, household 1 with J = January


def test_area_scope_uses_the_households_own_kelurahan():
    kelurahan = {1: "K1", 2: "K1", 3: "K2", 4: "K2"}
    areas = summaries(m(2021, 7), lambda m_: [("kel", kelurahan[m_.household_id])])
    assert (areas[("kel", "K1")].paired, areas[("kel", "K1")].active_members) == (2, 1)
    assert (areas[("kel", "K2")].paired, areas[("kel", "K2")].active_members) == (1, 2)


# Target progress and completeness ------------------------------------------------------


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2021, 1, 4), 0),  # nobody has joined yet
        (dt.date(2021, 1, 5), 1),  # household 2 joins that day
        (dt.date(2021, 3, 30), 3),  # 1, 2, 3
        (dt.date(2021, 3, 31), 2),  # 2 left that day
        (dt.date(2021, 6, 1), 2),  # 4 joined but is not an acceptor
    ],
)
def test_target_progress_counts_distinct_acceptors_active_on_the_day(day, expected):
    counts = target_progress(memberships=MEMBERSHIPS, acceptors={1, 2, 3}, day=day, scopes_of=lambda m_: ["city"])
    assert counts.get("city", 0) == expected


def test_target_progress_per_opd_counts_a_household_in_each_of_its_opds():
    counts = target_progress(
        memberships=MEMBERSHIPS, acceptors={1, 2, 3}, day=dt.date(2021, 6, 1),
        scopes_of=lambda m_: [OPD[m_.group_id]],
    )
    assert counts == {"A": 2, "B": 1}


def test_completeness_is_active_members_with_a_reading_over_active_members():
    result = completeness(memberships=MEMBERSHIPS, reported={1}, month=m(2021, 3), scopes_of=by_group)
    # end of March: 1 and 3 active in group 10 (2 left on 31 March)
    assert result[("group", 10)].active_members == 2
    assert result[("group", 10)].reported == 1
    assert result[("group", 10)].pct == 50


def test_docstring_examples_hold():
    import doctest

    import reports.compute
    import uppka.formats

    for module in (reports.compute, uppka.formats):
        assert doctest.testmod(module).failed == 0
