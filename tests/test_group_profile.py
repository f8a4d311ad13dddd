"""A group's data by year (SPEC section 9): the form on the group page, its rules, history."""

import datetime as dt

import pytest
from django.urls import reverse

from households.models import GroupProfile, KbMethod, KbStatus
from tests.conftest import TODAY
from tests.factories import make_member

YEAR = TODAY.year
pytestmark = pytest.mark.django_db


def url(group, year=YEAR):
    return reverse("households:profile", kwargs={"code": group.code, "year": year})


def answers(**changes):
    data = {
        "sk_number": "SK 12/UPPKA/2024", "sk_date": f"{YEAR}-01-02", "business_field": "OLAHAN_PANGAN",
        "products": "Keripik pisang, abon ikan", "capital_own": "Rp 2.500.000", "capital_bank": "10 jt",
        "capital_government": "", "capital_baznas": "0", "capital_cooperative": "", "capital_other": "",
        "channels": ["PASAR_LOKAL", "ONLINE"], "turnover": "1.250.000",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_cadre_fills_in_the_group_data(client, cadre_a, member_a):
    client.force_login(cadre_a)
    response = client.post(url(member_a.group), answers(chair=member_a.household.pk))
    assert response.status_code == 302 and response["Location"].endswith("#data")
    profile = GroupProfile.objects.get(group=member_a.group, year=YEAR)
    assert profile.chair == member_a.household and profile.recorded_by == cadre_a
    assert (profile.capital_own, profile.capital_bank, profile.capital_government) == (2_500_000, 10_000_000, 0)
    assert profile.channels == ["PASAR_LOKAL", "ONLINE"] and profile.turnover == 1_250_000
    page = client.get(reverse("households:group_members", kwargs={"code": member_a.group.code})).content.decode()
    assert "Rp 12.500.000" in page and "Keripik pisang" in page and "Sitti Hasnah" in page


def test_a_correction_keeps_the_earlier_answers_in_the_history(client, opd_user, member_a):
    client.force_login(opd_user)  # the OPD fills in its groups' data too
    client.post(url(member_a.group), answers())
    client.post(url(member_a.group), answers(turnover="2 jt"))
    profile = GroupProfile.objects.get()
    assert profile.turnover == 2_000_000
    assert [h.turnover for h in profile.history.order_by("history_date")] == [1_250_000, 2_000_000]
    assert profile.history.first().history_user == opd_user


def test_empty_money_is_zero_and_an_empty_turnover_stays_empty(client, cadre_a, group_a):
    client.force_login(cadre_a)
    client.post(url(group_a), answers(capital_own="", capital_bank="", turnover=""))
    profile = GroupProfile.objects.get()
    assert profile.capital_total == 0 and profile.turnover is None


def test_officers_must_be_members_of_the_group(client, cadre_a, group_a, member_b):
    client.force_login(cadre_a)
    response = client.post(url(group_a), answers(chair=member_b.household.pk))
    assert response.status_code == 200 and not GroupProfile.objects.exists()


def test_a_member_who_left_before_the_year_cannot_be_an_officer(client, cadre_a, group_a):
    gone = make_member(group_a, joined_on=dt.date(2020, 1, 1), left_on=dt.date(YEAR - 1, 12, 31)).household
    client.force_login(cadre_a)
    client.post(url(group_a), answers(treasurer=gone.pk))
    assert not GroupProfile.objects.exists()


def test_one_family_holds_one_office(client, cadre_a, member_a):
    client.force_login(cadre_a)
    response = client.post(url(member_a.group), answers(chair=member_a.household.pk, treasurer=member_a.household.pk))
    assert "already holds another office" in response.content.decode() or "sudah memegang" in response.content.decode()
    assert not GroupProfile.objects.exists()


def test_bad_money_is_refused_with_a_message(client, cadre_a, group_a):
    client.force_login(cadre_a)
    response = client.post(url(group_a), answers(capital_own="-5"))
    assert response.status_code == 200 and not GroupProfile.objects.exists()
    assert "Pendapatan" not in response.content.decode().split("capital_own")[-1][:400]


def test_a_chair_who_is_not_an_acceptor_gets_a_warning(client, cadre_a, group_a):
    chair = make_member(group_a, kb_method=KbMethod.TIDAK).household
    client.force_login(cadre_a)
    response = client.post(url(group_a), answers(chair=chair.pk), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success", "warning"]
    assert GroupProfile.objects.get().chair == chair  # a warning, not a refusal


def test_the_chair_is_judged_by_the_method_in_force_that_year(client, cadre_a, group_a):
    chair = make_member(group_a, kb_method=KbMethod.TIDAK).household
    KbStatus.objects.create(household=chair, period=TODAY.replace(month=1, day=1), method=KbMethod.PIL)
    client.force_login(cadre_a)
    response = client.post(url(group_a), answers(chair=chair.pk), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_last_years_answers_are_the_starting_point(client, cadre_a, member_a):
    client.force_login(cadre_a)
    client.post(url(member_a.group, YEAR - 1), answers(chair=member_a.household.pk, products="Abon"))
    response = client.get(url(member_a.group))
    form = response.context["form"]
    assert form.initial["products"] == "Abon" and form.initial["chair"] == member_a.household.pk
    assert form.initial["capital_own"] == "2.500.000"
    assert response.context["earlier"].year == YEAR - 1
    assert not GroupProfile.objects.filter(year=YEAR).exists()  # nothing saved until the cadre saves


def test_no_data_for_a_future_year(client, cadre_a, group_a):
    client.force_login(cadre_a)
    assert client.get(url(group_a, YEAR + 1)).status_code == 404
    assert client.get(url(group_a, 1999)).status_code == 404


def test_cadre_of_another_group_cannot_fill_in_the_data(client, cadre_b, group_a):
    client.force_login(cadre_b)
    assert client.post(url(group_a), answers()).status_code == 404
    assert not GroupProfile.objects.exists()


def test_the_report_page_of_the_group_shows_the_data(client, dppkb_user, member_a):
    client.force_login(dppkb_user)
    client.post(url(member_a.group), answers(chair=member_a.household.pk))
    page = client.get(reverse("reports:group", kwargs={"code": member_a.group.code})).content.decode()
    assert "SK 12/<wbr>UPPKA/<wbr>2024" in page and "Rp 1.250.000" in page  # may wrap after its slashes


def test_the_audit_shows_corrections_of_the_group_data(client, cadre_a, dppkb_user, member_a):
    client.force_login(cadre_a)
    client.post(url(member_a.group), answers(chair=member_a.household.pk))
    client.post(url(member_a.group), answers(chair=member_a.household.pk, capital_own="3 jt"))
    client.force_login(dppkb_user)
    html = client.get("/audit/?what=group_data&group=kwt-a").content.decode()
    assert f"Data {YEAR} kelompok KWT-A" in html and "Rp 2.500.000" in html and "Rp 3.000.000" in html
    assert "kader_a" in html and "Sitti Hasnah" in html


def test_an_open_market_problem_with_one_channel_stands_out_on_the_group_page(client, cadre_a, group_a):
    from groups.models import GroupProblem

    client.force_login(cadre_a)
    client.post(url(group_a), answers(channels=["PENGEPUL"]))
    page = reverse("households:group_members", kwargs={"code": group_a.code})
    assert "market problem" not in client.get(page).content.decode()  # no problem noted
    GroupProblem.objects.create(group=group_a, kind="pasar", noted_on=TODAY)
    client.post("/i18n/setlang/", {"language": "en"})
    assert "open market problem, one channel or none" in client.get(page).content.decode()
