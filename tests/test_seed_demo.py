import datetime as dt
import statistics
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import Group, GroupProblem, Target
from households.demo import TOPICS, seed_demo
from households.identity import validate_kk, validate_nik
from households.models import (
    MKJP_METHODS,
    Household,
    IncomeReading,
    KbMethod,
    KbStatus,
    Meeting,
    Membership,
    MonthlyReport,
)
from tests.factories import make_user

LAST = dt.date(2026, 10, 1)


def digest():
    return (
        list(Household.objects.order_by("kk_number").values_list("kk_number", "head_nik", "head_name", "kb_method")),
        list(
            IncomeReading.objects.order_by("household__kk_number", "period").values_list(
                "household__kk_number", "period", "amount"
            )
        ),
        list(Membership.objects.order_by("household__kk_number", "group__code").values_list(
            "household__kk_number", "group__code", "joined_on", "left_on"
        )),
        list(KbStatus.objects.order_by("household__kk_number", "period").values_list(
            "household__kk_number", "period", "method", "reason", "recorded_at"
        )),
        list(Meeting.objects.order_by("group__code", "held_on").values_list("group__code", "held_on", "mode", "topic")),
        sorted(Meeting.attendees.through.objects.values_list(
            "meeting__group__code", "meeting__held_on", "household__kk_number"
        )),
        list(MonthlyReport.objects.order_by("group__code", "period").values_list(
            "group__code", "period", "submitted_by", "submitted_at"
        )),
    )


def seeded_digest(seed):
    with transaction.atomic():
        seed_demo(households=120, months=12, seed=seed, last_month=LAST)
        result = digest()
        transaction.set_rollback(True)
    return result


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    first = seeded_digest(7)
    assert first == seeded_digest(7)
    assert first != seeded_digest(8)


@pytest.mark.django_db
def test_demo_data_is_realistic():
    summary = seed_demo(households=600, months=24, seed=1, last_month=LAST)
    assert summary.households == Household.objects.count() == 600
    assert (summary.first_month, summary.last_month) == (dt.date(2024, 11, 1), LAST)

    sizes = [g.memberships.filter(joined_on__lte=g.memberships.order_by("joined_on").last().joined_on).count()
             for g in Group.objects.all()]
    primary = sorted(Group.objects.values_list("code", flat=True))
    assert len(primary) >= 600 // 30
    assert all(size <= 40 for size in sizes)  # 10–30 each, plus a few second memberships

    for household in Household.objects.all()[:200]:
        validate_kk(household.kk_number)
        validate_nik(household.head_nik)
    methods = set(Household.objects.values_list("kb_method", flat=True))
    assert KbMethod.TIDAK in methods and len(methods) >= 5  # some non-acceptors
    assert Membership.objects.exclude(left_on=None).exists()  # some leavers
    assert Household.objects.filter(memberships__isnull=False).distinct().count() == 600
    opds = set(Group.objects.values_list("team__opd__code", flat=True))
    types = set(Group.objects.values_list("group_type__code", flat=True))
    assert len(opds) >= 4 and types == {"KWT", "NELAYAN", "UEP"}

    amounts = list(IncomeReading.objects.values_list("amount", flat=True))
    assert 1_000_000 <= statistics.median(amounts) <= 3_000_000
    assert min(amounts) >= 300_000 and max(amounts) <= 9_000_000
    assert len(amounts) < 600 * 24  # some months are missing

    improved = paired = 0
    for m in Membership.objects.select_related("household")[:300]:
        j = m.joined_on.replace(day=1)
        before = [r.amount for r in m.household.readings.all() if r.period < j]
        after = [r.amount for r in m.household.readings.all() if r.period > j]
        if before and after:
            paired += 1
            improved += statistics.mean(after[-3:]) > statistics.mean(before[:3])
    assert paired > 200 and 0.55 < improved / paired < 0.95  # most improve, not all
    assert Target.objects.filter(year=LAST.year).exists()
    assert GroupProblem.objects.filter(kind="pasar").exists()


def month_end(period):
    return (period + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def active_on(membership, day):
    return membership.joined_on <= day and (membership.left_on is None or membership.left_on > day)


def months_of(summary):
    period, periods = summary.first_month, []
    while period <= summary.last_month:
        periods.append(period)
        period = (period + dt.timedelta(days=32)).replace(day=1)
    return periods


@pytest.fixture
def register_demo(db):
    """A city of 600 households over 24 months; its groups' members by group."""
    summary = seed_demo(households=600, months=24, seed=1, last_month=LAST)
    members = defaultdict(list)
    for membership in Membership.objects.all():
        members[membership.group_id].append(membership)
    return summary, members


def group_months_with_members(summary, members):
    """(group id, month) for each group with an active member on the month's last day."""
    return {
        (group_id, period)
        for group_id, memberships in members.items()
        for period in months_of(summary)
        if any(active_on(m, month_end(period)) for m in memberships)
    }


def test_groups_meet_once_or_twice_most_months_on_weekdays(register_demo):
    summary, members = register_demo
    base = group_months_with_members(summary, members)
    held = Counter((m.group_id, m.held_on.replace(day=1)) for m in Meeting.objects.all())
    assert set(held) <= base  # only groups with members meet, inside the demo period
    shares = Counter(held.get(key, 0) for key in base)
    assert len(base) > 500
    assert 0.05 <= shares[0] / len(base) <= 0.15
    assert 0.45 <= shares[1] / len(base) <= 0.65
    assert 0.25 <= shares[2] / len(base) <= 0.45
    meetings = list(Meeting.objects.values_list("held_on", "mode", "topic"))
    assert all(day.weekday() < 5 for day, _, _ in meetings)
    assert 0.08 <= sum(mode == "VIRTUAL" for _, mode, _ in meetings) / len(meetings) <= 0.22
    assert {topic for _, _, topic in meetings} == set(TOPICS)


def test_active_members_attend_most_meetings_some_families_more_than_others(register_demo):
    _, members = register_demo
    present = defaultdict(set)
    for meeting_id, household_id in Meeting.attendees.through.objects.values_list("meeting_id", "household_id"):
        present[meeting_id].add(household_id)
    expected = attended = 0
    by_family = defaultdict(lambda: [0, 0])
    for meeting in Meeting.objects.all():
        active = {m.household_id for m in members[meeting.group_id] if active_on(m, meeting.held_on)}
        assert present[meeting.id] <= active  # attendees were active members on the day
        expected += len(active)
        attended += len(present[meeting.id])
        for household_id in active:
            by_family[household_id][0] += household_id in present[meeting.id]
            by_family[household_id][1] += 1
    assert 0.70 <= attended / expected <= 0.85
    rates = [came / invited for came, invited in by_family.values() if invited >= 10]
    assert len(rates) > 300 and statistics.pstdev(rates) > 0.08  # families differ


def test_methods_change_rarely_in_palopos_mix_and_the_last_status_is_the_method(register_demo):
    summary, members = register_demo
    history = defaultdict(list)
    for household_id, period, method, reason in KbStatus.objects.order_by("period").values_list(
        "household_id", "period", "method", "reason"
    ):
        history[household_id].append((period, method, reason))
    households = dict(Household.objects.values_list("id", "kb_method"))
    assert history.keys() == households.keys()
    assert all(statuses[-1][1] == households[h] for h, statuses in history.items())
    first_join = {}
    for memberships in members.values():
        for m in memberships:
            first_join[m.household_id] = min(first_join.get(m.household_id, m.joined_on), m.joined_on)
    assert all(statuses[0][0] == first_join[h].replace(day=1) for h, statuses in history.items())
    later = [s for statuses in history.values() for s in statuses[1:]]
    assert all(summary.first_month <= period <= summary.last_month for period, _, _ in later)
    assert all(a[1] != b[1] for statuses in history.values() for a, b in zip(statuses, statuses[1:]))
    changes = Counter(len(statuses) - 1 for statuses in history.values())
    assert 0.05 <= changes[1] / 600 <= 0.11 and 0 < changes[2] <= 0.04 * 600 and max(changes) == 2

    all_statuses = [s for statuses in history.values() for s in statuses]
    assert all((reason != "") == (method == KbMethod.TIDAK) for _, method, reason in all_statuses)
    reasons = {reason for _, method, reason in all_statuses if method == KbMethod.TIDAK}
    assert reasons == {"HAMIL", "IAS", "IAT", "TIAL", "LAINNYA"}

    methods = Counter(households.values())
    acceptors = 600 - methods[KbMethod.TIDAK]
    assert 0.75 <= acceptors / 600 <= 0.85
    assert 0.20 <= sum(methods[m] for m in MKJP_METHODS) / acceptors <= 0.30
    assert {m for m, _ in methods.most_common(3)} == {"SUNTIK", "PIL", "TIDAK"}


def test_most_groups_report_by_the_third_some_late_some_never(register_demo):
    summary, members = register_demo
    base = group_months_with_members(summary, members)
    reports = {(r.group_id, r.period): r for r in MonthlyReport.objects.all()}
    assert set(reports) <= base
    assert all(r.submitted_by is None for r in reports.values())  # the demo's groups have no cadres yet

    def due(period):
        return month_end(period) + dt.timedelta(days=3)

    def submitted(report):
        return timezone.localtime(report.submitted_at).date()

    earlier = [key for key in base if key[1] < summary.last_month]
    on_time = [key for key in earlier if key in reports and submitted(reports[key]) <= due(key[1])]
    late = [key for key in earlier if key in reports and submitted(reports[key]) > due(key[1])]
    assert 0.70 <= len(on_time) / len(earlier) <= 0.88
    assert 0.04 <= len(late) / len(earlier) <= 0.16
    assert all(submitted(reports[key]) <= due(key[1]) + dt.timedelta(days=7) for key in late)
    assert 0.84 <= (len(on_time) + len(late)) / len(earlier) <= 0.96  # about one month in ten never reported
    assert all(month_end(key[1]) < submitted(r) for key, r in reports.items())

    last = [key for key in base if key[1] == summary.last_month]
    reported_last = [key for key in last if key in reports]
    assert all(submitted(reports[key]) <= due(key[1]) for key in reported_last)  # its late ones are yet to come
    assert len(reported_last) / len(last) < (len(on_time) + len(late)) / len(earlier)


@pytest.mark.django_db
def test_reports_are_submitted_by_one_of_the_groups_cadres(monkeypatch):
    """A group with cadres (none in a fresh demo: the demo accounts come afterwards)."""
    from households import demo

    cadre = make_user(username="kader_demo", role="kader")
    original = demo._cadre_of

    def with_a_cadre(rng, report_groups):
        group = Group.objects.order_by("id").first()
        group.cadres.add(cadre)
        return original(rng, report_groups)

    monkeypatch.setattr(demo, "_cadre_of", with_a_cadre)
    seed_demo(households=60, months=6, seed=2, last_month=LAST)
    first = Group.objects.order_by("id").first()
    assert set(MonthlyReport.objects.filter(group=first).values_list("submitted_by", flat=True)) == {cadre.pk}
    assert set(MonthlyReport.objects.exclude(group=first).values_list("submitted_by", flat=True)) == {None}


def queries_to_seed(households):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        seed_demo(households=households, months=6, seed=3, last_month=LAST)
        transaction.set_rollback(True)
    return len(queries)


@pytest.mark.django_db
def test_seed_demo_query_count_does_not_grow_with_the_households():
    small = queries_to_seed(100)
    assert small <= 80  # constant: what matters is that it does not grow
    assert queries_to_seed(1000) == small


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_households():
    seed_demo(households=20, months=3, seed=1, last_month=LAST)
    with pytest.raises(CommandError, match="already has households"):
        call_command("seed_demo", households=20, months=3, seed=2)
    assert Household.objects.count() == 20


@pytest.mark.django_db
def test_seed_demo_command_reports_what_it_made(capsys):
    call_command("seed_demo", "--households", "50", "--months", "6", "--seed", "4", "--last-month", "2026-10")
    out = capsys.readouterr().out
    assert "50 households" in out and "2026-05 to 2026-10" in out


def test_the_demos_niks_from_outside_palopo_name_real_regencies():
    """The demo labels its outside regencies in a comment; each code must be the one the
    app's Kemendagri list gives that name (7325 was labelled Luwu Timur, which is 73.24)."""
    from households.demo import OUTSIDE_REGENCIES
    from households.identity import regency_names

    names = regency_names()
    assert [names.get(code) for code in OUTSIDE_REGENCIES] == [
        "Kabupaten Luwu", "Kabupaten Luwu Utara", "Kabupaten Luwu Timur", "Kota Makassar", "Kabupaten Enrekang"]
