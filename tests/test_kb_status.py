"""Each household's family-planning method over time (SPEC section 8): the first status
comes from the registration (the join month), a change is a status of its month, and
``Household.kb_method`` stays the method in force now, whatever wrote it."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from households import register
from households.models import Household, KbMethod, KbReason, KbStatus, Membership
from tests.factories import make_member
from tests.test_households import new_family, register_url
from uppka.months import this_month


def statuses(household):
    return list(household.kb_statuses.order_by("period").values_list("period", "method", "reason"))


@pytest.mark.parametrize(
    "period, expected",
    [(dt.date(2023, 12, 1), None), (dt.date(2024, 1, 1), "PIL"), (dt.date(2024, 5, 1), "PIL"),
     (dt.date(2024, 6, 1), "TIDAK"), (dt.date(2026, 1, 1), "IUD")],
)
def test_the_method_in_force_is_the_latest_from_that_month_or_before(period, expected):
    history = [(dt.date(2024, 6, 1), "TIDAK"), (dt.date(2024, 1, 1), "PIL"), (dt.date(2025, 2, 1), "IUD")]
    assert register.method_in_force(history, period) == expected


@pytest.mark.django_db
def test_a_new_member_gets_a_first_status_from_its_join_month(group_a):
    household = make_member(group_a, joined_on=dt.date(2024, 3, 15), kb_method="SUNTIK").household
    assert statuses(household) == [(dt.date(2024, 3, 1), "SUNTIK", "")]


@pytest.mark.django_db
def test_registration_records_the_first_status_with_its_reason_and_who(client, cadre_a, group_a):
    client.force_login(cadre_a)
    response = client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id, kb_method="TIDAK", kb_reason="IAS"))
    assert response.status_code == 302
    status = Household.objects.get(kk_number="7373010000000042").kb_statuses.get()
    assert (status.period, status.method, status.reason, status.recorded_by) == (this_month(), "TIDAK", KbReason.IAS, cadre_a)
    assert status.history.get().reason == KbReason.IAS  # the audit shows the reason given


@pytest.mark.django_db
def test_registration_without_a_method_asks_why_and_registers_nothing(client, cadre_a, group_a):
    client.force_login(cadre_a)
    response = client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id, kb_method="TIDAK"))
    assert response.status_code == 200
    assert "Pilih alasan keluarga tidak ber-KB." in response.content.decode()
    assert not Household.objects.filter(kk_number="7373010000000042").exists()


@pytest.mark.django_db
def test_a_reason_given_with_a_method_is_ignored(client, cadre_a, group_a):
    client.force_login(cadre_a)
    client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id, kb_method="PIL", kb_reason="HAMIL"))
    status = Household.objects.get(kk_number="7373010000000042").kb_statuses.get()
    assert (status.method, status.reason) == ("PIL", "")


@pytest.mark.django_db
def test_a_changed_method_becomes_this_months_status_and_the_history_stays(group_a):
    household = make_member(group_a, joined_on=dt.date(2024, 3, 15), kb_method="PIL").household
    household.kb_method = KbMethod.IMPLAN  # as the admin or an import would
    household.save()
    assert statuses(household) == [(dt.date(2024, 3, 1), "PIL", ""), (this_month(), "IMPLAN", "")]
    register.record_kb_status(
        household_id=household.pk, period=this_month(), method="TIDAK", reason=KbReason.HAMIL, by=None
    )
    household.refresh_from_db()
    assert household.kb_method == "TIDAK"  # the method in force now follows the latest status
    assert statuses(household)[-1] == (this_month(), "TIDAK", "HAMIL")


@pytest.mark.django_db
def test_an_earlier_status_does_not_change_the_method_in_force_now(group_a):
    household = make_member(group_a, joined_on=dt.date(2024, 3, 15), kb_method="PIL").household
    register.record_kb_status(household_id=household.pk, period=dt.date(2024, 5, 1), method="KONDOM", reason=None, by=None)
    register.record_kb_status(household_id=household.pk, period=dt.date(2024, 4, 1), method="TIDAK", reason=None, by=None)
    household.refresh_from_db()
    assert household.kb_method == "KONDOM"
    assert statuses(household) == [
        (dt.date(2024, 3, 1), "PIL", ""), (dt.date(2024, 4, 1), "TIDAK", "LAINNYA"), (dt.date(2024, 5, 1), "KONDOM", "")]


@pytest.mark.django_db
def test_the_database_refuses_a_reason_beside_a_method_and_no_reason_for_tidak(group_a):
    household = make_member(group_a, joined_on=dt.date(2024, 3, 15)).household
    for method, reason in [("PIL", "HAMIL"), ("TIDAK", ""), ("TIDAK", "BOSAN")]:
        with pytest.raises(IntegrityError), transaction.atomic():
            KbStatus.objects.create(household=household, period=dt.date(2024, 6, 1), method=method, reason=reason)


@pytest.mark.django_db
def test_households_without_a_status_get_one_from_their_earliest_join(group_a, group_b):
    """What the data migration did to the households that existed before the statuses."""
    first = make_member(group_a, joined_on=dt.date(2023, 7, 20), kb_method="TIDAK").household
    Membership.objects.create(household=first, group=group_b, joined_on=dt.date(2022, 11, 2))
    second = make_member(group_b, joined_on=dt.date(2024, 1, 31), kb_method="MOW").household
    KbStatus.objects.all().delete()
    register.follow_methods()
    assert statuses(first) == [(dt.date(2022, 11, 1), "TIDAK", "LAINNYA")]
    assert statuses(second) == [(dt.date(2024, 1, 1), "MOW", "")]


@pytest.mark.django_db
def test_the_household_page_shows_the_method_history(client, cadre_a, group_a):
    household = make_member(group_a, joined_on=dt.date(2024, 3, 15), kb_method="PIL").household
    register.record_kb_status(household_id=household.pk, period=dt.date(2024, 9, 1), method="TIDAK",
                              reason=KbReason.IAS, by=None)
    client.force_login(cadre_a)
    client.cookies["django_language"] = "en"
    html = client.get(f"/keluarga/{household.pk}/").content.decode()
    assert "from Sep 2024: None (not an acceptor) (Wants a child soon (IAS))" in html
    assert "from Mar 2024: Pill" in html


@pytest.mark.django_db
def test_a_first_status_has_its_history_with_who(client, cadre_a, group_a):
    client.force_login(cadre_a)
    client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id, kb_method="PIL"))
    status = Household.objects.get(kk_number="7373010000000042").kb_statuses.get()
    record = status.history.get()
    assert (record.history_type, record.history_user, record.method) == ("+", cadre_a, "PIL")
