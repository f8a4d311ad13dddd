"""A cadre cannot take over a family of another group (issue 10, part 1).

The attack: cadre A looks up the KK number of a family in another OPD's group, adds it to
A's group with a back-dated join, then overwrites its income and deactivates it (which
also ended its membership in the other group).
"""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from households import services
from households.identity import mask_nik
from households.models import Household, IncomeReading, Membership
from uppka.months import month_before
from tests.factories import make_group, make_member, make_reading

TODAY = timezone.localdate()
LAST_MONTH = month_before(TODAY.replace(day=1))
SEPTEMBER = dt.date(2024, 9, 1)


def register_url(kk, code="KWT-A"):
    return f"/kelompok/{code}/daftar/?kk_number={kk}"


def takeover(household, **overrides):
    """The registration form as the attacker fills it in."""
    return {
        "head_nik": household.head_nik,
        "head_name": "Nama Lain",
        "kelurahan": household.kelurahan_id,
        "address": "Alamat lain",
        "family_size": "9",
        "kb_method": "TIDAK",
        "kb_reason": "LAINNYA",  # a family without a method needs a reason
        "joined_on": "2020-01-15",
        "baseline_amount": "1",
        **overrides,
    }


@pytest.fixture
def victim(member_b):
    """A family of group B (DISKAN) with an income history, in cadre B's care."""
    household = member_b.household
    make_reading(household, SEPTEMBER, 2_242_000)
    make_reading(household, LAST_MONTH, 2_000_000)
    return household


def _without_tokens(html, kk):
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return html.replace(kk, "KK")


@pytest.mark.django_db
def test_looking_up_another_groups_kk_reveals_nothing(client, cadre_a, victim):
    client.force_login(cadre_a)
    seen = client.get(register_url(victim.kk_number)).content.decode()
    unknown_kk = "7373019999999999"
    blank = client.get(register_url(unknown_kk)).content.decode()
    assert victim.head_name not in seen and mask_nik(victim.head_nik) not in seen
    assert "sudah terdaftar" not in seen
    # The page for a family registered elsewhere is the page for an unknown KK number.
    assert _without_tokens(seen, victim.kk_number) == _without_tokens(blank, unknown_kk)


@pytest.mark.django_db
def test_adding_another_groups_family_needs_its_heads_nik(client, cadre_a, victim, member_b):
    client.force_login(cadre_a)
    response = client.post(register_url(victim.kk_number), takeover(victim, head_nik="7373011506800999"))
    assert response.status_code == 200
    assert "NIK kepala keluarga lain" in response.content.decode()
    assert list(victim.memberships.values_list("group__code", flat=True)) == ["NEL-B"]
    assert victim.readings.get(period=SEPTEMBER).amount == 2_242_000
    victim.refresh_from_db()
    assert victim.head_name == "Baso Rahman"


@pytest.mark.django_db
def test_family_card_holder_adds_the_family_and_its_details_stay(client, cadre_a, cadre_b, victim):
    client.force_login(cadre_a)
    response = client.post(register_url(victim.kk_number), takeover(victim, joined_on=TODAY.isoformat()), follow=True)
    assert response.redirect_chain[-1][0] == f"/keluarga/{victim.pk}/"
    assert "detail yang tercatat tetap dipakai" in response.content.decode()
    assert set(victim.memberships.values_list("group__code", flat=True)) == {"KWT-A", "NEL-B"}
    victim.refresh_from_db()
    assert (victim.head_name, victim.family_size, victim.kb_method) == ("Baso Rahman", 4, "SUNTIK")
    # The baseline month already had a reading: the typed Rp 1 did not replace it.
    assert victim.readings.get(period=LAST_MONTH).amount == 2_000_000

    # Cadre A's page shows A's group only, in the memberships and in the history.
    html = response.content.decode()
    assert "NEL-B" not in html and "Nelayan Bahari" not in html

    # Cadre B sees who added the family to another group, and when, but not which group.
    client.force_login(cadre_b)
    html = client.get(f"/keluarga/{victim.pk}/").content.decode()
    assert "kelompok lain" in html and "kader_a" in html
    assert "KWT-A" not in html and "KWT Melati" not in html


@pytest.mark.django_db
def test_cadre_records_income_only_while_the_family_is_in_their_group(cadre_a, dppkb_user, victim, member_a):
    ours = member_a.household  # joined group A on 2024-01-10
    # Not a member of the cadre's groups at all:
    with pytest.raises(PermissionDenied):
        services.record_incomes(period=SEPTEMBER, amounts={victim.pk: 1}, expected={victim.pk: 2_242_000}, by=cadre_a)
    # A member, but not yet in that month:
    with pytest.raises(PermissionDenied):
        services.record_incomes(period=dt.date(2023, 12, 1), amounts={ours.pk: 5}, expected={ours.pk: None}, by=cadre_a)
    assert victim.readings.get(period=SEPTEMBER).amount == 2_242_000
    assert not ours.readings.exists()
    # While a member: allowed. DPPKB may correct any month.
    services.record_incomes(period=SEPTEMBER, amounts={ours.pk: 1_000_000}, expected={ours.pk: None}, by=cadre_a)
    services.record_incomes(period=SEPTEMBER, amounts={victim.pk: 2_300_000}, expected={victim.pk: 2_242_000}, by=dppkb_user)
    assert ours.readings.get(period=SEPTEMBER).amount == 1_000_000
    assert victim.readings.get(period=SEPTEMBER).amount == 2_300_000


@pytest.mark.django_db
def test_entry_sheet_cannot_reach_a_month_before_the_family_joined(client, cadre_a, member_a):
    client.force_login(cadre_a)
    household = member_a.household
    html = client.get("/kelompok/KWT-A/isian/2023-12/").content.decode()
    assert household.head_name not in html
    data = {f"amount_{household.pk}": "1", f"was_{household.pk}": ""}
    response = client.post("/kelompok/KWT-A/isian/2023-12/", data)
    assert response.status_code == 200 and "bukan bagian dari lembar ini" in response.content.decode()
    assert not IncomeReading.objects.filter(household=household).exists()


@pytest.mark.django_db
def test_cadre_cannot_deactivate_a_family_shared_with_another_group(client, cadre_a, dppkb_user, member_a, group_b):
    household = member_a.household
    other = Membership.objects.create(household=household, group=group_b, joined_on=dt.date(2024, 2, 1))
    client.force_login(cadre_a)
    page = client.get(f"/keluarga/{household.pk}/").content.decode()
    assert "Nonaktifkan keluarga" not in page and "hanya DPPKB" in page
    response = client.post(f"/keluarga/{household.pk}/status/", {"active": "0"}, follow=True)
    assert "hanya DPPKB" in response.content.decode()
    household.refresh_from_db()
    other.refresh_from_db()
    member_a.refresh_from_db()
    assert household.is_active and other.left_on is None and member_a.left_on is None
    # DPPKB can; it ends both memberships.
    client.force_login(dppkb_user)
    client.post(f"/keluarga/{household.pk}/status/", {"active": "0"})
    household.refresh_from_db()
    other.refresh_from_db()
    assert not household.is_active and other.left_on == TODAY


@pytest.mark.django_db
def test_family_that_left_another_group_is_the_cadres_to_deactivate(client, cadre_a, member_a, group_b):
    household = member_a.household
    Membership.objects.create(household=household, group=group_b, joined_on=dt.date(2023, 1, 1),
                              left_on=dt.date(2023, 6, 30))
    client.force_login(cadre_a)
    client.post(f"/keluarga/{household.pk}/status/", {"active": "0"})
    household.refresh_from_db()
    assert not household.is_active


@pytest.mark.django_db
def test_registering_a_new_family_still_works_for_a_cadre(client, cadre_a, group_a):
    client.force_login(cadre_a)
    kk = "7373010000000777"
    data = takeover(Household(head_nik="7373015506800777", kelurahan_id=group_a.kelurahan_id),
                    head_name="Sitti Baru", joined_on=TODAY.isoformat(), baseline_amount="1.000.000")
    assert client.post(register_url(kk), data).status_code == 302
    household = Household.objects.get(kk_number=kk)
    assert household.head_name == "Sitti Baru"
    assert household.readings.get().amount == 1_000_000


@pytest.mark.django_db
def test_another_cadres_group_member_is_hidden_even_within_the_same_opd(client, cadre_a, group_a):
    same_opd = make_group(code="KWT-C", opd_code="DISTAN")
    hidden = make_member(same_opd, head_name="Rahmawati").household
    client.force_login(cadre_a)
    html = client.get(register_url(hidden.kk_number)).content.decode()
    assert "Rahmawati" not in html and "sudah terdaftar" not in html


@pytest.mark.django_db
def test_cadre_cannot_backdate_joining_a_family_registered_before(client, cadre_a, victim):
    """Joining opens the months from then on to the cadre's entry sheet: a back-dated join
    would hand the cadre the income another group recorded."""
    client.force_login(cadre_a)
    response = client.post(register_url(victim.kk_number), takeover(victim, joined_on="2020-03-15"))
    assert response.status_code == 200
    assert "paling awal" in response.content.decode()
    assert list(victim.memberships.values_list("group__code", flat=True)) == ["NEL-B"]
    assert not victim.readings.filter(period=dt.date(2020, 2, 1)).exists()
    # From the first day of the reporting month it is fine.
    joined = LAST_MONTH.isoformat()
    assert client.post(register_url(victim.kk_number), takeover(victim, joined_on=joined)).status_code == 302
    # Still no way into September 2024 through the entry sheet.
    data = {f"amount_{victim.pk}": "1", f"was_{victim.pk}": "2242000"}
    client.post(f"/kelompok/KWT-A/isian/{SEPTEMBER:%Y-%m}/", data)
    assert victim.readings.get(period=SEPTEMBER).amount == 2_242_000


@pytest.mark.django_db
def test_known_family_form_says_the_earliest_join_date(client, cadre_a, group_a, group_b, known_family):
    client.force_login(cadre_a)
    # Only in the cadre's own groups: any date.
    assert "Paling awal" not in client.get(register_url(known_family.kk_number)).content.decode()
    # Also in another group: from the reporting month on.
    Membership.objects.create(household=known_family, group=group_b, joined_on=dt.date(2024, 1, 1))
    html = client.get(register_url(known_family.kk_number)).content.decode()
    assert f'min="{LAST_MONTH.isoformat()}"' in html and "Paling awal" in html


@pytest.mark.django_db
def test_dppkb_may_backdate_joining_a_known_family(client, dppkb_user, group_a, victim):
    client.force_login(dppkb_user)
    data = {"joined_on": "2020-03-15", "baseline_amount": "1.000.000"}
    assert client.post(register_url(victim.kk_number), data).status_code == 302
    assert victim.memberships.get(group=group_a).joined_on == dt.date(2020, 3, 15)


@pytest.mark.django_db
def test_guessing_the_heads_nik_is_stopped_after_five_tries(client, cadre_a, victim):
    client.force_login(cadre_a)
    for serial in range(1, 6):
        wrong = takeover(victim, head_nik=f"737301150680{serial:04d}", joined_on=TODAY.isoformat())
        assert "NIK kepala keluarga lain" in client.post(register_url(victim.kk_number), wrong).content.decode()
    # The sixth try is refused even with the right NIK.
    right = takeover(victim, joined_on=TODAY.isoformat())
    assert "Terlalu banyak NIK salah" in client.post(register_url(victim.kk_number), right).content.decode()
    assert list(victim.memberships.values_list("group__code", flat=True)) == ["NEL-B"]
    # A new family (no card on record to guess) still registers.
    other = Household(head_nik="7373015506800778", kelurahan_id=victim.kelurahan_id)
    data = takeover(other, head_name="Keluarga Baru", joined_on=TODAY.isoformat(), baseline_amount="1.000.000")
    assert client.post(register_url("7373010000000778"), data).status_code == 302
