"""Rules that must never break are enforced by the database itself, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.db import DataError, IntegrityError, transaction

from households.models import Household, IncomeReading, Membership
from tests.factories import make_group, make_household, make_reading

JAN = dt.date(2024, 1, 1)


def refused(create):
    # PostgreSQL refuses an over-long value for the column type itself (DataError).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        create()


@pytest.mark.django_db
def test_second_reading_for_same_household_and_month_is_refused():
    household = make_household()
    make_reading(household, JAN, 1_000_000)
    refused(lambda: IncomeReading.objects.create(household=household, period=JAN, amount=2_000_000))
    assert IncomeReading.objects.get(household=household, period=JAN).amount == 1_000_000


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [-1, -1_000_000, 1_000_000_001])
def test_amount_outside_zero_to_one_billion_is_refused(amount):
    household = make_household()
    refused(lambda: IncomeReading.objects.create(household=household, period=JAN, amount=amount))
    assert not IncomeReading.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, 1_000_000_000])
def test_amounts_at_the_limits_are_accepted(amount):
    reading = make_reading(make_household(), JAN, amount)
    assert IncomeReading.objects.get(pk=reading.pk).amount == amount


@pytest.mark.django_db
def test_period_that_is_not_the_first_of_a_month_is_refused():
    household = make_household()
    refused(lambda: IncomeReading.objects.create(household=household, period=dt.date(2024, 1, 15), amount=1))


@pytest.mark.django_db
def test_existing_reading_cannot_be_moved_to_mid_month():
    reading = make_reading(make_household(), JAN, 5)
    refused(lambda: IncomeReading.objects.filter(pk=reading.pk).update(period=dt.date(2024, 1, 2)))


@pytest.mark.django_db
@pytest.mark.parametrize("kk", ["737301000000001", "73730100000000011", "73730100000000A1", ""])
def test_kk_number_that_is_not_sixteen_digits_is_refused(kk):
    refused(lambda: make_household(kk=kk))
    assert not Household.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("nik", ["737301150680001", "73730115068000011", "7373011506800x01"])
def test_nik_that_is_not_sixteen_digits_is_refused(nik):
    refused(lambda: make_household(nik=nik))


@pytest.mark.django_db
def test_duplicate_kk_number_is_refused():
    make_household(kk="7373010000000001")
    refused(lambda: make_household(kk="7373010000000001"))


@pytest.mark.django_db
def test_family_size_zero_and_unknown_kb_method_are_refused():
    refused(lambda: make_household(family_size=0))
    refused(lambda: make_household(kb_method="JAMU"))


@pytest.mark.django_db
def test_household_cannot_join_the_same_group_twice():
    group = make_group()
    household = make_household()
    Membership.objects.create(household=household, group=group, joined_on=JAN)
    refused(lambda: Membership.objects.create(household=household, group=group, joined_on=dt.date(2024, 5, 1)))


@pytest.mark.django_db
def test_household_may_belong_to_several_groups():
    household = make_household()
    for group in (make_group(), make_group(opd_code="DINSOS", type_code="UEP")):
        Membership.objects.create(household=household, group=group, joined_on=JAN)
    assert household.memberships.count() == 2


@pytest.mark.django_db
def test_membership_cannot_end_before_it_began():
    household, group = make_household(), make_group()
    refused(
        lambda: Membership.objects.create(
            household=household, group=group, joined_on=JAN, left_on=dt.date(2023, 12, 31)
        )
    )
