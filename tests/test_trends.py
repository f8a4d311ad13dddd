"""Pictures over time (reports/trends.py): the database queries give the readable
reference's answers on random data (both databases), hand-worked cases, and the pages that
draw them: constant query counts, scoping, and the charts in Chromium."""

import datetime as dt
import random
import re
from fractions import Fraction

import pytest

from groups.models import Group, Kelurahan
from households.models import IncomeReading, KbStatus, Membership, MonthlyReport
from reports import trends
from reports import trends_reference as ref
from tests.factories import make_group, make_member
from tests.test_recap import active_then

MONTHS = [dt.date(2023, m, 1) for m in range(7, 13)] + [dt.date(2024, m, 1) for m in range(1, 7)]
METHODS = ["IUD", "PIL", "SUNTIK", "IMPLAN", "TIDAK", "TIDAK", "TIDAK"]


def random_data(seed: int, households: int = 70) -> list[Group]:
    """Groups of two OPD (some deactivated or back in the months drawn), households in one
    to three groups (leavers, late joiners), KB statuses over time, readings with gaps and
    zeros, monthly reports."""
    rng = random.Random(seed)
    kelurahan = list(Kelurahan.objects.order_by("code")[:3])
    groups = [make_group(opd_code=rng.choice(["DISTAN", "DISKAN"]), kelurahan=rng.choice(kelurahan)) for _ in range(6)]
    for group in groups:
        group.history.update(history_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
        if rng.random() < 0.4:
            group.is_active = False
            group._history_date = dt.datetime(2024, rng.randrange(1, 7), rng.randrange(1, 29), tzinfo=dt.UTC)
            group.save()
    household_ids = []
    for _ in range(households):
        joined = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(560))
        left = joined + dt.timedelta(days=rng.randrange(1, 200)) if rng.random() < 0.2 else None
        first, *others = rng.sample(groups, rng.choice([1, 1, 1, 2, 3]))
        household = make_member(first, joined_on=joined, left_on=left).household
        household_ids.append(household.pk)
        for other in others:
            Membership.objects.create(household=household, group=other,
                                      joined_on=joined + dt.timedelta(days=rng.randrange(-90, 120)))
    KbStatus.objects.all().delete()
    periods = [dt.date(2022, 12, 1), dt.date(2023, 3, 1), *MONTHS]
    statuses, readings = [], []
    for household_id in household_ids:
        for period in rng.sample(periods, rng.randrange(0, 4)):
            method = rng.choice(METHODS)
            statuses.append(KbStatus(household_id=household_id, period=period, method=method,
                                     reason="IAT" if method == "TIDAK" else ""))
        for i in range(24):
            period = dt.date(2022 + (i + 6) // 12, (i + 6) % 12 + 1, 1)  # 2022-07 … 2024-06
            if rng.random() < 0.75:
                readings.append(IncomeReading(household_id=household_id, period=period,
                                              amount=rng.choice([0, 1_000_000, rng.randrange(0, 5_000_000, 500)])))
    KbStatus.objects.bulk_create(statuses)
    IncomeReading.objects.bulk_create(readings)
    for group in groups:
        for month in MONTHS:
            if rng.random() < 0.6:
                MonthlyReport.objects.create(group=group, period=month, submitted_at=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
    return groups


def memberships_of(groups):
    return [ref.Membership(m.household_id, m.group_id, m.joined_on, m.left_on)
            for m in Membership.objects.filter(group__in=groups)]


def reference_target(groups, year, today):
    statuses = [ref.Status(s.household_id, s.period, s.method) for s in KbStatus.objects.all()]
    return ref.target_by_month(memberships_of(groups), statuses, year, today)


def reference_income(groups, as_of):
    readings = [ref.Reading(r.household_id, r.period, r.amount) for r in IncomeReading.objects.all()]
    return ref.income_by_offset(memberships_of(groups), readings, as_of)


def reference_reporting(groups, months):
    groups = list(groups)
    reported = set(MonthlyReport.objects.values_list("group_id", "period"))
    by_id = {g.pk: g for g in groups}
    return ref.reporting_by_month(months, list(by_id), memberships_of(groups), reported,
                                  lambda pk, month: active_then(by_id[pk], month))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_trends_match_the_reference_on_random_data(seed):
    groups = random_data(seed)
    selections = [Group.objects.all(), Group.objects.filter(team__opd__code="DISTAN"),
                  Group.objects.filter(pk__in=[g.pk for g in groups[:2]])]
    for selection in selections:
        for year, today in [(2023, dt.date(2024, 2, 10)), (2024, dt.date(2024, 6, 30)), (2024, dt.date(2024, 3, 1))]:
            result = trends.target_by_month(selection, year, today)
            assert result == reference_target(selection, year, today), (year, today)
        assert any(n for _, n in trends.target_by_month(selection, 2024, dt.date(2024, 6, 30)))
        for as_of in [dt.date(2023, 9, 1), dt.date(2024, 1, 1), dt.date(2024, 6, 1), dt.date(2025, 1, 1)]:
            assert trends.income_by_offset(selection, as_of) == reference_income(selection, as_of), as_of
        assert trends.reporting_by_month(selection, MONTHS) == reference_reporting(selection, MONTHS)
    assert any(point.n > 3 for point in trends.income_by_offset(Group.objects.all(), dt.date(2024, 6, 1)))
    assert any(0 < reported < counted for _, counted, reported in trends.reporting_by_month(Group.objects.all(), MONTHS))


@pytest.mark.django_db
def test_an_empty_selection_gives_empty_series():
    none = Group.objects.none()
    assert trends.target_by_month(none, 2024, dt.date(2024, 2, 5)) == [(dt.date(2024, 1, 1), 0), (dt.date(2024, 2, 1), 0)]
    assert trends.target_by_month(Group.objects.all(), 2025, dt.date(2024, 2, 5)) == []  # a year still to come
    assert [p.n for p in trends.income_by_offset(none, dt.date(2024, 2, 1))] == [0] * 19
    assert trends.reporting_by_month(none, MONTHS[:2]) == [(MONTHS[0], 0, 0), (MONTHS[1], 0, 0)]


def status(household, period, method):
    KbStatus.objects.create(household=household, period=period, method=method,
                            reason="IAT" if method == "TIDAK" else "")


@pytest.mark.django_db
def test_target_by_month_worked_by_hand(group_a, group_b):
    """2024, today 10 April, group A:

    Ani    joined 10 Jan (and a second group of A's OPD in Feb), PIL since Jan   Jan–Apr, once
    Budi   joined 10 Jan, TIDAK in Jan, IUD from Mar                              Mar, Apr
    Citra  joined 10 Jan, left 29 Feb, SUNTIK since Jan                           Jan only
    Dedi   joins 12 Apr (after today), PIL since Apr                              none
    Eka    joined 20 Feb, no status before May                                    none
    Fajar  in group B only, PIL                                                   none (not selected)
    """
    second = make_group(opd_code="DISTAN")
    ani = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    Membership.objects.create(household=ani, group=second, joined_on=dt.date(2024, 2, 1))
    budi = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    citra = make_member(group_a, joined_on=dt.date(2024, 1, 10), left_on=dt.date(2024, 2, 29)).household
    dedi = make_member(group_a, joined_on=dt.date(2024, 4, 12)).household
    eka = make_member(group_a, joined_on=dt.date(2024, 2, 20)).household
    fajar = make_member(group_b, joined_on=dt.date(2024, 1, 10)).household
    KbStatus.objects.all().delete()
    for household, period, method in [
        (ani, dt.date(2024, 1, 1), "PIL"), (budi, dt.date(2024, 1, 1), "TIDAK"), (budi, dt.date(2024, 3, 1), "IUD"),
        (citra, dt.date(2024, 1, 1), "SUNTIK"), (dedi, dt.date(2024, 4, 1), "PIL"), (eka, dt.date(2024, 5, 1), "PIL"),
        (fajar, dt.date(2024, 1, 1), "PIL"),
    ]:
        status(household, period, method)
    selection = Group.objects.filter(team__opd__code="DISTAN")
    assert trends.target_by_month(selection, 2024, dt.date(2024, 4, 10)) == [
        (dt.date(2024, 1, 1), 2), (dt.date(2024, 2, 1), 1), (dt.date(2024, 3, 1), 2), (dt.date(2024, 4, 1), 2)]
    assert trends.target_by_month(Group.objects.all(), 2024, dt.date(2024, 4, 12))[-1] == (dt.date(2024, 4, 1), 4)


@pytest.mark.django_db
def test_income_by_offset_worked_by_hand(group_a):
    """As of June 2024, offsets from each household's earliest join month:

    H1 joined 15 Mar: Jan 100 (−2), Feb 200 (−1), Mar 300 (0), Apr 400 (+1), Jul 999 (after June: out)
    H2 joined 1 Feb, and another group in Apr: Jan 1000 (−1), Feb 500 (0), Mar 700 (+1), Apr 900 (+2)
    H3 joined 31 Mar: Feb 600 (−1), Mar 0 (0)
    H4 joins 1 Jul: not yet counted

    −1: 200, 600, 1000 → p25 400 (h = 0.5), median 600, p75 800
     0: 0, 300, 500 → 150, 300, 400;  +1: 400, 700 → 475 (h = 0.25), 550, 625;  +2: 900
    """
    other = make_group(opd_code="DISTAN")
    rows = {
        dt.date(2024, 3, 15): {1: 100, 2: 200, 3: 300, 4: 400, 7: 999},
        dt.date(2024, 2, 1): {1: 1000, 2: 500, 3: 700, 4: 900},
        dt.date(2024, 3, 31): {2: 600, 3: 0},
        dt.date(2024, 7, 1): {1: 50, 2: 50},
    }
    for joined, readings in rows.items():
        household = make_member(group_a, joined_on=joined).household
        if joined == dt.date(2024, 2, 1):
            Membership.objects.create(household=household, group=other, joined_on=dt.date(2024, 4, 1))
        for month, amount in readings.items():
            IncomeReading.objects.create(household=household, period=dt.date(2024, month, 1), amount=amount)
    points = {p.offset: p for p in trends.income_by_offset(Group.objects.all(), dt.date(2024, 6, 1))}
    assert list(points) == list(range(-6, 13))
    F = Fraction
    assert points[-2] == ref.OffsetPoint(-2, 1, F(100), F(100), F(100))
    assert points[-1] == ref.OffsetPoint(-1, 3, F(400), F(600), F(800))
    assert points[0] == ref.OffsetPoint(0, 3, F(150), F(300), F(400))
    assert points[1] == ref.OffsetPoint(1, 2, F(475), F(550), F(625))
    assert points[2] == ref.OffsetPoint(2, 1, F(900), F(900), F(900))
    assert points[-6] == ref.OffsetPoint(-6, 0, None, None, None) and points[3].n == 0


@pytest.mark.django_db
def test_reporting_by_month_worked_by_hand(group_a, group_b):
    """January to March 2024:

    A  a member all along, reported Jan and Mar
    B  first member joins 15 Feb, reported Feb
    C  no members, reported Jan                      never counted
    D  a member, deactivated 10 Feb, reported Feb    counted in Jan only

    Jan: A, D counted, A reported; Feb: A, B counted, B reported; Mar: A, B counted, A reported.
    """
    c, d = make_group(opd_code="DISTAN"), make_group(opd_code="DISTAN")
    make_member(group_a, joined_on=dt.date(2023, 12, 1))
    make_member(group_b, joined_on=dt.date(2024, 2, 15))
    make_member(d, joined_on=dt.date(2023, 12, 1))
    for group in (group_a, group_b, c, d):
        group.history.update(history_date=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    d.is_active = False
    d._history_date = dt.datetime(2024, 2, 10, tzinfo=dt.UTC)
    d.save()
    for group, month in [(group_a, 1), (group_a, 3), (group_b, 2), (c, 1), (d, 2)]:
        MonthlyReport.objects.create(group=group, period=dt.date(2024, month, 1), submitted_at=dt.datetime(2024, 4, 1, tzinfo=dt.UTC))
    months = [dt.date(2024, m, 1) for m in (1, 2, 3)]
    assert trends.reporting_by_month(Group.objects.all(), months) == [
        (months[0], 2, 1), (months[1], 2, 1), (months[2], 2, 1)]
    assert trends.reporting_by_month(Group.objects.filter(pk=group_b.pk), months) == [
        (months[0], 0, 0), (months[1], 1, 1), (months[2], 1, 0)]


def test_the_references_docstring_examples_hold():
    import doctest

    assert doctest.testmod(ref).failed == 0


def test_the_percentile_is_percentile_cont():
    F = Fraction
    assert ref.percentile([7], F(1, 4)) == 7
    assert [ref.percentile([1, 2, 3, 4, 5], p) for p in ref.QUARTILES] == [2, 3, 4]
    assert [ref.percentile([0, 10], p) for p in ref.QUARTILES] == [F(5, 2), 5, F(15, 2)]


# The pages ------------------------------------------------------------------------------

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.conftest import THIS_MONTH, months_ago  # noqa: E402

THIS_YEAR = THIS_MONTH.year
from tests.factories import make_reading  # noqa: E402


def families(group, count, *, method="PIL"):
    """``count`` families joined four months ago with readings before and after, acceptors."""
    joined = months_ago(4) + dt.timedelta(days=3)
    for i in range(count):
        household = make_member(group, joined_on=joined, kb_method=method).household
        for n in (1, 2, 5, 6):
            make_reading(household, months_ago(n), 1_000_000 + 1_000 * i + 100 * n)


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/reports/dashboard/trends/", "/reports/trends/", "/reports/trends/?opd=DISTAN", "/reports/kelompok/KWT-A/"])
def test_the_pages_with_trends_take_as_many_queries_for_a_bigger_selection(
        client, dppkb_user, group_a, group_b, url, django_assert_max_num_queries):
    families(group_a, 2)
    families(group_b, 1)
    client.force_login(dppkb_user)
    small = queries_for(client, url)
    for _ in range(4):  # more groups, families and reports in both OPD
        group = make_group(opd_code="DISTAN")
        families(group, 5)
        families(make_group(opd_code="DISKAN"), 3)
        MonthlyReport.objects.create(group=group, period=months_ago(1), submitted_at=dt.datetime.now(dt.UTC))
    families(group_a, 10)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert 'id="trend-income-data"' in response.content.decode()


@pytest.mark.django_db
def test_the_dashboard_draws_the_three_series(client, dppkb_user, group_a):
    from groups.models import Target

    Target.objects.create(year=THIS_YEAR, households=50)
    families(group_a, 3)
    MonthlyReport.objects.create(group=group_a, period=months_ago(1), submitted_at=dt.datetime.now(dt.UTC))
    client.force_login(dppkb_user)
    response = client.get("/reports/dashboard/trends/")  # the fragment the dashboard fetches
    html = response.content.decode()
    for name in ("target", "income", "register"):
        assert f'id="trend-{name}-chart" role="img" aria-label="' in html
        assert f'id="trend-{name}-data"' in html
    trends_ = response.context["trends"]
    assert trends_["target"]["data"]["target"] == 50
    assert trends_["target"]["data"]["counts"][-1] == 3  # this month, the method in force
    income = trends_["income"]["data"]
    assert income["labels"][0] == "-6" and income["labels"][6] == "0" and income["labels"][-1] == "+12"
    assert income["n"][income["offsets"].index(-2)] == 3 and income["n"][income["offsets"].index(3)] == 3
    register = trends_["register"]["data"]
    assert len(register["labels"]) == 12 and register["pct"][-1] == 100.0 and register["counted"][-1] == 1
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{4}", register["labels"][-1])  # "Okt 2026"
    assert "Pendapatan bulanan menurut bulan sejak bergabung" in html  # Indonesian by default


@pytest.mark.django_db
def test_an_opd_users_report_shows_only_their_groups_series(client, opd_user, group_a, group_b):
    families(group_a, 2)
    families(group_b, 5)
    MonthlyReport.objects.create(group=group_b, period=months_ago(1), submitted_at=dt.datetime.now(dt.UTC))
    client.force_login(opd_user)  # DISTAN: group A only
    trends_ = client.get("/reports/trends/").context["trends"]  # the fragment the report page fetches
    assert max(trends_["income"]["data"]["n"]) == 2
    assert trends_["target"]["data"]["counts"][-1] == 2 and trends_["target"]["data"]["target"] is None
    assert trends_["register"]["data"]["counted"][-1] == 1 and trends_["register"]["data"]["reported"][-1] == 0
    assert client.get("/reports/trends/?opd=DISKAN").status_code == 400


@pytest.mark.django_db
def test_the_group_page_shows_income_and_register_but_not_the_target(client, cadre_a, group_a):
    families(group_a, 2)
    client.force_login(cadre_a)
    response = client.get("/reports/kelompok/KWT-A/")
    assert set(response.context["trends"]) == {"income", "register"}
    html = response.content.decode()
    assert 'id="trend-income-chart"' in html and 'id="trend-register-chart"' in html
    assert 'id="trend-target-chart"' not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("master_data")
def test_the_dashboard_draws_the_three_pictures_over_time(page, live_server, dppkb_user, console_errors):
    from groups.models import Target
    from playwright.sync_api import expect

    from tests.test_browser import DESKTOP, chart, log_in

    group = make_group(code="KWT-T", opd_code="DISTAN")
    Target.objects.create(year=THIS_YEAR, households=40)
    families(group, 4)
    MonthlyReport.objects.create(group=group, period=months_ago(1), submitted_at=dt.datetime.now(dt.UTC))
    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/reports/dashboard/")
    datasets = "c => Chart.getChart(c).data.datasets.map(d => [d.label, d.data.length])"
    target = chart(page, "trend-target-chart", datasets)
    assert target[0][0] == "Keluarga akseptor" and target[1] == [f"Target {THIS_YEAR}", target[0][1]]
    income = chart(page, "trend-income-chart", datasets)
    assert [length for _, length in income] == [19, 19, 19] and income[2][0] == "Median"
    assert chart(page, "trend-income-chart", "c => Chart.getChart(c).data.labels[6]") == "0"
    register = chart(page, "trend-register-chart", "c => Chart.getChart(c).data.datasets[0].data")
    assert len(register) == 12 and register[-1] == 100
    for name in ("target", "income", "register"):
        canvas = page.locator(f"#trend-{name}-chart")
        assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-label")
    page.locator("#trends summary").first.click()  # the text alternative: the figures in a table
    last_row = page.locator("#trends table").first.locator("tbody tr").last
    expect(last_row).to_be_visible()
    assert last_row.locator("td").all_inner_texts()[1:] == ["4", "40"]
    page.goto(f"{live_server.url}/reports/?opd=DISTAN")  # the report page, for its selection
    assert len(chart(page, "trend-target-chart", datasets)) == 1  # no city target line for one OPD
    assert chart(page, "trend-income-chart") and chart(page, "trend-register-chart")
    page.goto(f"{live_server.url}/reports/kelompok/KWT-T/")  # a group: no target progress
    assert chart(page, "trend-income-chart") and chart(page, "trend-register-chart")
    expect(page.locator("#trend-target-chart")).to_have_count(0)
    assert console_errors == []
