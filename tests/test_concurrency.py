"""Two people saving the same month at the same moment: one wins, the other is told."""

import datetime as dt
import threading

import pytest
from django.db import connection

from households import services
from households.models import IncomeReading
from tests.factories import make_member

MAY = dt.date(2024, 5, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("master_data")
def test_simultaneous_saves_of_the_same_month_never_lose_a_write_silently(group_a, cadre_a, dppkb_user):
    household = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    start = threading.Barrier(2)
    outcomes = {}

    def save(name, user, amount):
        try:
            start.wait(timeout=10)
            services.record_incomes(period=MAY, amounts={household.pk: amount}, expected={household.pk: None}, by=user)
            outcomes[name] = "saved"
        except services.ConflictError:
            outcomes[name] = "told"
        except Exception as e:  # e.g. SQLite's "database is locked": must not be silent either
            outcomes[name] = f"error: {e}"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("cadre", cadre_a, 1_100_000)),
        threading.Thread(target=save, args=("dppkb", dppkb_user, 1_200_000)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["saved", "told"], outcomes
    winner = "cadre" if outcomes["cadre"] == "saved" else "dppkb"
    reading = IncomeReading.objects.get(household=household, period=MAY)
    assert reading.amount == {"cadre": 1_100_000, "dppkb": 1_200_000}[winner]
    assert reading.history.count() == 1  # the loser wrote nothing


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("master_data")
def test_two_groups_saving_one_family_at_once_both_land_in_the_kept_figures(group_a, group_b, dppkb_user, monkeypatch):
    """A family in two groups: both groups' months saved at the same moment. The kept rows
    are rewritten one save after the other (a lock on the household), so both saves land
    and the figures count both readings. Without the lock the second save's rows collide
    with the first's and it fails (PostgreSQL)."""
    from households import figures
    from households.models import Membership

    household = make_member(group_a, joined_on=dt.date(2024, 1, 10)).household
    Membership.objects.create(household=household, group=group_b, joined_on=dt.date(2024, 2, 12))
    inside = threading.Barrier(2)
    locked = figures._lock

    def lock_then_meet(ids):
        locked(ids)
        try:  # with the lock the other save cannot get here until this one commits
            inside.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(figures, "_lock", lock_then_meet)
    outcomes = {}

    def save(month, amount):
        try:
            services.record_incomes(period=month, amounts={household.pk: amount}, expected={household.pk: None}, by=dppkb_user)
            outcomes[month] = "saved"
        except Exception as e:
            outcomes[month] = f"error: {e}"
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(MAY, 1_100_000)), threading.Thread(target=save, args=(dt.date(2024, 6, 1), 1_300_000))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["saved", "saved"], outcomes
    kept = list(figures.MemberFigures.objects.filter(household=household).values_list("after_count", "after_sum"))
    assert kept == [(2, 2_400_000), (2, 2_400_000)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("master_data")
def test_two_people_saving_a_groups_first_profile_at_once_both_land(group_a, cadre_a, opd_user, monkeypatch):
    """The group's yearly data: the second save corrects the first instead of failing on the
    one-profile-per-group-and-year constraint. Each save dawdles between looking for the
    year's profile and writing it, so that both look before either writes (PostgreSQL; on
    SQLite a writing transaction holds the whole database anyway)."""
    import time

    from households.models import GroupProfile
    from households.profiles import save_profile

    original = GroupProfile.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.5)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GroupProfile, "save", slow_save)

    start = threading.Barrier(2)
    outcomes = {}

    def save(name, user, products):
        try:
            start.wait(timeout=10)
            save_profile(group=group_a, year=2026, values={"business_field": "OLAHAN_PANGAN", "products": products},
                         channels=["PASAR_LOKAL"], by=user)
            outcomes[name] = "saved"
        except Exception as e:
            outcomes[name] = f"error: {e}"
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=("cadre", cadre_a, "Keripik")),
               threading.Thread(target=save, args=("opd", opd_user, "Abon"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"cadre": "saved", "opd": "saved"}, outcomes
    profile = GroupProfile.objects.get(group=group_a, year=2026)
    assert profile.products in {"Keripik", "Abon"} and profile.history.count() == 2
