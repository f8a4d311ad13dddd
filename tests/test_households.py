"""Cadre home, registering a family, the household page, leaving, deactivating, closing months."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from households.models import ClosedMonth, Household, IncomeReading, Membership
from uppka.months import month_before
from tests.factories import make_group, make_member, make_reading

TODAY = timezone.localdate()
LAST_MONTH = month_before(TODAY.replace(day=1))


def new_family(**overrides):
    data = {
        "kk_number": "7373 0100 0000 0042",
        "head_nik": "7373015506800042",  # a woman born 15-06-1980 in Palopo
        "head_name": "Sitti Aminah",
        "kelurahan": "",
        "address": "Jl. Andi Djemma 5",
        "family_size": "4",
        "kb_method": "SUNTIK",
        "joined_on": TODAY.isoformat(),
        "baseline_amount": "1,2 jt",
    }
    return {**data, **overrides}


def register_url(kk="7373010000000042", code="KWT-A"):
    return f"/kelompok/{code}/daftar/?kk_number={kk}"


# Cadre home -------------------------------------------------------------------------


@pytest.mark.django_db
def test_cadre_home_shows_who_has_not_reported_last_month(client, cadre_a, group_a):
    joined = LAST_MONTH - dt.timedelta(days=40)
    done = make_member(group_a, head_name="Ani Reported", joined_on=joined)
    make_member(group_a, head_name="Budi Missing", joined_on=joined)
    make_reading(done.household, LAST_MONTH, 1_000_000)
    client.force_login(cadre_a)
    html = client.get("/kader/").content.decode()
    assert "1 dari 2 anggota sudah dilaporkan" in html
    assert "Budi Missing" in html and "Ani Reported" not in html
    assert f"/kelompok/KWT-A/isian/{LAST_MONTH:%Y-%m}/" in html


@pytest.mark.django_db
def test_cadre_home_query_count_does_not_grow_with_groups(client, cadre_a, django_assert_max_num_queries):
    for _ in range(5):
        group = make_group()
        group.cadres.add(cadre_a)
        for _ in range(5):
            make_member(group, joined_on=dt.date(2024, 1, 1))
    client.force_login(cadre_a)
    with django_assert_max_num_queries(8):
        assert client.get("/kader/").status_code == 200


# Registering -------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_starts_with_the_kk_number(client, cadre_a):
    client.force_login(cadre_a)
    html = client.get("/kelompok/KWT-A/daftar/").content.decode()
    assert "Kartu Keluarga" in html and 'name="kk_number"' in html


@pytest.mark.django_db
def test_register_a_new_family_with_its_baseline(client, cadre_a, group_a):
    client.force_login(cadre_a)
    response = client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id), follow=True)
    household = Household.objects.get(kk_number="7373010000000042")
    assert household.head_name == "Sitti Aminah" and household.family_size == 4
    membership = Membership.objects.get(household=household, group=group_a)
    assert membership.joined_on == TODAY
    baseline = IncomeReading.objects.get(household=household)
    assert (baseline.period, baseline.amount, baseline.recorded_by) == (LAST_MONTH, 1_200_000, cadre_a)
    assert "bergabung dengan KWT Melati" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/keluarga/{household.pk}/"


@pytest.mark.django_db
def test_known_family_is_only_added_to_the_group(client, cadre_a, group_a, known_family):
    # A family in another group of the same cadre: its details show, it is only added.
    known = known_family
    client.force_login(cadre_a)
    html = client.get(register_url(known.kk_number)).content.decode()
    assert "sudah terdaftar" in html and known.head_name in html
    assert known.head_nik not in html  # masked for a cadre
    response = client.post(register_url(known.kk_number), {"joined_on": TODAY.isoformat(), "baseline_amount": "900.000"})
    assert response.status_code == 302
    assert Household.objects.filter(kk_number=known.kk_number).count() == 1
    assert set(known.memberships.values_list("group__code", flat=True)) == {"KWT-A", "KWT-A2"}


@pytest.mark.django_db
def test_family_already_in_the_group_is_not_registered_twice(client, cadre_a, member_a):
    client.force_login(cadre_a)
    html = client.get(register_url(member_a.household.kk_number)).content.decode()
    assert "sudah menjadi anggota kelompok ini" in html
    response = client.post(register_url(member_a.household.kk_number), {"joined_on": TODAY.isoformat(), "baseline_amount": "1"})
    assert response.status_code == 200
    assert Membership.objects.filter(household=member_a.household).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kk, message",
    [("737301000000042", "16 angka"), ("73730100000000421", "16 angka"), ("7373abc000000042", "16 angka")],
)
def test_kk_with_wrong_length_is_refused_at_the_search(client, cadre_a, kk, message):
    client.force_login(cadre_a)
    html = client.get(register_url(kk)).content.decode()
    assert message in html
    assert not Household.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("head_nik", "7373013206800042", "tanggal lahir"),  # day 32
        ("head_nik", "7373011513800042", "bulan lahir"),  # month 13
        ("head_nik", "7373011506800000", "nomor urut"),
        ("head_nik", "737301150680004", "16 angka"),
        ("family_size", "0", ""),
        ("joined_on", "2999-01-01", "masa depan"),
        ("baseline_amount", "", "tidak boleh kosong"),
        ("baseline_amount", "sejuta", "Jumlah hanya berisi angka"),
        ("baseline_amount", "-5", "negatif"),
        ("head_name", "", "tidak boleh kosong"),
    ],
)
def test_bad_registration_input_saves_nothing(client, cadre_a, group_a, field, value, message):
    client.force_login(cadre_a)
    response = client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Household.objects.exists() and not IncomeReading.objects.exists()


@pytest.mark.django_db
def test_nik_from_outside_palopo_warns_but_registers(client, cadre_a, group_a):
    client.force_login(cadre_a)
    response = client.post(
        register_url(), new_family(kelurahan=group_a.kelurahan_id, head_nik="7317015506800042"), follow=True
    )
    html = response.content.decode()
    assert Household.objects.filter(head_nik="7317015506800042").exists()
    assert "Peringatan" in html and "luar Palopo" in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_b", "opd_user", "other_opd_user"])
def test_only_the_groups_cadres_and_dppkb_can_register(client, request, group_a, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(register_url()).status_code == 404
    assert client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id)).status_code == 404
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_dppkb_can_register_into_any_group(client, dppkb_user, group_a):
    client.force_login(dppkb_user)
    assert client.post(register_url(), new_family(kelurahan=group_a.kelurahan_id)).status_code == 302
    assert Household.objects.count() == 1


# Household page ----------------------------------------------------------------------


@pytest.fixture
def followed(member_a, cadre_a):
    household = member_a.household
    for month, amount in [(10, 900_000), (11, 950_000), (12, 1_000_000)]:
        make_reading(household, dt.date(2023, month, 1), amount)
    reading = make_reading(household, dt.date(2024, 2, 1), 1_100_000)
    reading._history_user = cadre_a
    reading.amount = 1_150_000
    reading.save()
    return household


@pytest.mark.django_db
def test_household_page_shows_details_income_chart_and_history(client, cadre_a, followed):
    client.force_login(cadre_a)
    html = client.get(f"/keluarga/{followed.pk}/").content.decode()
    assert "Sitti Hasnah" in html and followed.kk_number in html
    assert "Rp 1.150.000" in html and "Feb 2024" in html
    assert 'id="income-data"' in html and '"Jan 2024"' in html  # join month marked in the chart data, in words
    assert "Rp 1.100.000" in html and "kader_a" in html  # the correction, old → new, by whom
    assert "chart.umd.min.js" in html


@pytest.mark.django_db
def test_nik_is_masked_for_cadres_and_opd_and_whole_for_dppkb(client, cadre_a, opd_user, dppkb_user, followed):
    for user, whole in [(cadre_a, False), (opd_user, False), (dppkb_user, True)]:
        client.force_login(user)
        html = client.get(f"/keluarga/{followed.pk}/").content.decode()
        assert (followed.head_nik in html) is whole
        assert followed.head_nik[-4:] in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_b", "other_opd_user"])
def test_outsiders_get_404_for_the_household(client, request, followed, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"/keluarga/{followed.pk}/").status_code == 404


@pytest.mark.django_db
def test_household_page_query_count_does_not_grow_with_history(client, cadre_a, followed, django_assert_max_num_queries):
    for month in range(1, 13):
        make_reading(followed, dt.date(2022, month, 1), 800_000)
    client.force_login(cadre_a)
    with django_assert_max_num_queries(14):
        assert client.get(f"/keluarga/{followed.pk}/").status_code == 200


# Leaving and deactivating ------------------------------------------------------------


@pytest.mark.django_db
def test_cadre_records_a_household_leaving(client, cadre_a, member_a):
    client.force_login(cadre_a)
    url = f"/keluarga/{member_a.household.pk}/keluar/{member_a.pk}/"
    response = client.post(url, {f"m{member_a.pk}-left_on": "2024-03-31"}, follow=True)
    member_a.refresh_from_db()
    assert member_a.left_on == dt.date(2024, 3, 31)
    assert "keluar dari KWT Melati" in response.content.decode()
    assert member_a.history.first().history_user == cadre_a


@pytest.mark.django_db
@pytest.mark.parametrize("day, message", [("2023-12-31", "sebelum tanggal bergabung"), ("2999-01-01", "masa depan"), ("kemarin", "")])
def test_bad_leaving_date_changes_nothing(client, cadre_a, member_a, day, message):
    client.force_login(cadre_a)
    url = f"/keluarga/{member_a.household.pk}/keluar/{member_a.pk}/"
    response = client.post(url, {f"m{member_a.pk}-left_on": day}, follow=True)
    member_a.refresh_from_db()
    assert member_a.left_on is None
    assert message in response.content.decode()


@pytest.mark.django_db
def test_cadre_cannot_end_a_membership_in_another_group(client, cadre_a, member_a, group_b):
    other = Membership.objects.create(household=member_a.household, group=group_b, joined_on=dt.date(2024, 1, 1))
    client.force_login(cadre_a)
    url = f"/keluarga/{member_a.household.pk}/keluar/{other.pk}/"
    assert client.post(url, {f"m{other.pk}-left_on": "2024-03-31"}).status_code == 404
    other.refresh_from_db()
    assert other.left_on is None


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_b", "opd_user"])
def test_outsiders_and_opd_cannot_record_leaving_or_deactivate(client, request, member_a, persona):
    client.force_login(request.getfixturevalue(persona))
    household = member_a.household
    assert client.post(f"/keluarga/{household.pk}/keluar/{member_a.pk}/", {f"m{member_a.pk}-left_on": "2024-03-31"}).status_code == 404
    assert client.post(f"/keluarga/{household.pk}/status/", {"active": "0"}).status_code == 404
    household.refresh_from_db()
    member_a.refresh_from_db()
    assert household.is_active and member_a.left_on is None


@pytest.mark.django_db
def test_deactivated_household_leaves_the_entry_sheet_and_keeps_its_data(client, cadre_a, member_a):
    client.force_login(cadre_a)
    household = member_a.household
    assert client.post(f"/keluarga/{household.pk}/status/", {"active": "0"}).status_code == 302
    household.refresh_from_db()
    member_a.refresh_from_db()
    assert household.is_active is False
    assert member_a.left_on == TODAY  # it left its groups today; its history stays
    assert household.head_name not in client.get(f"/kelompok/KWT-A/isian/{TODAY:%Y-%m}/").content.decode()
    assert household.head_name in client.get("/kelompok/KWT-A/isian/2024-05/").content.decode()
    assert client.get(f"/keluarga/{household.pk}/").status_code == 200
    client.post(f"/keluarga/{household.pk}/status/", {"active": "1"})
    household.refresh_from_db()
    assert household.is_active


@pytest.mark.django_db
def test_leave_and_status_need_post(client, cadre_a, member_a):
    client.force_login(cadre_a)
    assert client.get(f"/keluarga/{member_a.household.pk}/status/").status_code == 405


# Closing months ----------------------------------------------------------------------


@pytest.mark.django_db
def test_dppkb_closes_and_reopens_a_month_and_both_are_logged(client, dppkb_user):
    client.force_login(dppkb_user)
    month = f"{LAST_MONTH:%Y-%m}"
    client.post("/bulan/", {"month": month, "action": "close", "confirm": "1"})
    assert ClosedMonth.objects.filter(period=LAST_MONTH, closed_by=dppkb_user).exists()
    client.post("/bulan/", {"month": month, "action": "reopen"})  # not confirmed: stays closed
    assert ClosedMonth.objects.exists()
    client.post("/bulan/", {"month": month, "action": "reopen", "confirm": "1"})
    assert not ClosedMonth.objects.exists()
    log = list(ClosedMonth.history.order_by("history_date").values_list("history_type", "history_user__username"))
    assert log == [("+", "dppkb_staff"), ("-", "dppkb_staff")]
    html = client.get("/bulan/").content.decode()
    assert "dibuka kembali" in html and "ditutup" in html


@pytest.mark.django_db
def test_current_month_cannot_be_closed(client, dppkb_user):
    client.force_login(dppkb_user)
    response = client.post("/bulan/", {"month": f"{TODAY:%Y-%m}", "action": "close", "confirm": "1"}, follow=True)
    assert "sudah berakhir" in response.content.decode()
    assert not ClosedMonth.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_a", "opd_user"])
def test_only_dppkb_closes_months(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/bulan/").status_code == 403
    assert client.post("/bulan/", {"month": f"{LAST_MONTH:%Y-%m}", "action": "close", "confirm": "1"}).status_code == 403
    assert client.get(f"/reports/bulan/{LAST_MONTH:%Y-%m}/").status_code == 403
    assert not ClosedMonth.objects.exists()


@pytest.mark.django_db
def test_closing_a_month_asks_to_check_its_register_first(client, dppkb_user):
    client.force_login(dppkb_user)
    response = client.post("/bulan/", {"month": f"{LAST_MONTH:%Y-%m}", "action": "close"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/reports/bulan/{LAST_MONTH:%Y-%m}/"
    assert "lalu konfirmasi" in response.content.decode()
    assert not ClosedMonth.objects.exists()


@pytest.mark.django_db
def test_a_months_register_shows_its_completeness_and_the_groups_still_missing(client, dppkb_user, cadre_a, group_a, group_b):
    """Group A: two members, one income in; group B: one member, its income in."""
    joined = LAST_MONTH.replace(year=LAST_MONTH.year - 1)
    late = make_member(group_a, joined_on=joined, head_name="Belum Lapor").household
    done = make_member(group_a, joined_on=joined, head_name="Sudah Lapor").household
    other = make_member(group_b, joined_on=joined).household
    make_reading(done, LAST_MONTH, 1_000_000)
    make_reading(other, LAST_MONTH, 1_000_000)
    make_reading(late, month_before(LAST_MONTH), 1_000_000)  # an earlier month does not count
    client.force_login(dppkb_user)
    html = client.get(f"/reports/bulan/{LAST_MONTH:%Y-%m}/").content.decode()
    assert "2 / 3" in html  # members with income
    assert "1 / 2" in html  # groups complete, and group A's incomes
    missing = html.split("<tbody>", 1)[1]
    assert group_a.code in missing and group_b.code not in missing
    assert (cadre_a.get_full_name() or cadre_a.username) in missing
    assert 'name="confirm"' in html
    assert f"/reports/bulan/{LAST_MONTH:%Y-%m}/" in client.get("/reports/dashboard/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2026-13", "bukan", "2999-01"])
def test_a_register_of_a_bad_or_future_month_is_not_found(client, dppkb_user, month):
    client.force_login(dppkb_user)
    assert client.get(f"/reports/bulan/{month}/").status_code == 404


@pytest.mark.django_db
def test_group_members_page_lists_members_with_status(client, cadre_a, group_a):
    make_member(group_a, head_name="Masih Aktif")
    make_member(group_a, head_name="Sudah Keluar", left_on=dt.date(2024, 3, 1))
    client.force_login(cadre_a)
    html = client.get("/kelompok/KWT-A/anggota/").content.decode()
    assert "Masih Aktif" in html and "Sudah Keluar" in html and "keluar 1 Mar 2024" in html


@pytest.mark.django_db
def test_group_members_page_is_scoped(client, cadre_b, opd_user, group_a):
    client.force_login(cadre_b)
    assert client.get("/kelompok/KWT-A/anggota/").status_code == 404
    client.force_login(opd_user)
    html = client.get("/kelompok/KWT-A/anggota/").content.decode()
    assert "Daftarkan keluarga" not in html


@pytest.mark.django_db
def test_known_family_needs_no_new_baseline_when_that_month_is_recorded(client, cadre_a, member_b):
    known = member_b.household
    make_reading(known, LAST_MONTH, 800_000)
    client.force_login(cadre_a)
    # Outside the cadre's groups: the family card's NIK is the proof; the recorded
    # baseline stays whatever the cadre types.
    data = new_family(kk_number=known.kk_number, head_nik=known.head_nik, kelurahan=known.kelurahan_id,
                      baseline_amount="1")
    response = client.post(register_url(known.kk_number), data)
    assert response.status_code == 302
    assert known.readings.get(period=LAST_MONTH).amount == 800_000


@pytest.mark.django_db
def test_known_family_without_a_baseline_is_asked_for_one(client, cadre_a, group_a, known_family):
    known = known_family
    client.force_login(cadre_a)
    response = client.post(register_url(known.kk_number), {"joined_on": TODAY.isoformat(), "baseline_amount": ""})
    assert "Isikan pendapatan pada bulan sebelum bergabung" in response.content.decode()
    assert known.memberships.count() == 1


@pytest.mark.django_db
def test_every_registration_mistake_shows_at_once(client, cadre_a, group_a):
    client.force_login(cadre_a)
    data = new_family(kelurahan=group_a.kelurahan_id, head_nik="7373013206800042", joined_on="2999-01-01")
    html = client.post(register_url(), data).content.decode()
    assert "tanggal lahir" in html and "masa depan" in html


@pytest.mark.django_db
def test_a_cadre_cannot_date_a_join_or_a_leaving_into_a_closed_month(client, cadre_a, dppkb_user, group_a):
    """Found by the journey check: a back-dated registration or leaving changed a closed
    month's register (its active members)."""
    from households import services

    member = make_member(group_a, joined_on=LAST_MONTH.replace(year=LAST_MONTH.year - 1))
    ClosedMonth.objects.create(period=LAST_MONTH, closed_by=dppkb_user)
    with pytest.raises(ValidationError, match="ditutup"):
        services.record_leaving(membership=member, left_on=LAST_MONTH.replace(day=5), by=cadre_a)
    member.refresh_from_db()
    assert member.left_on is None
    services.record_leaving(membership=member, left_on=TODAY.replace(day=1), by=cadre_a)  # after the closed month
    details = {"kk_number": "7373010101990007", "head_nik": member.household.head_nik[:-4] + "9999",
               "head_name": "Keluarga Baru", "kelurahan": member.household.kelurahan, "family_size": 3, "kb_method": "PIL"}
    with pytest.raises(ValidationError, match="ditutup"):
        services.register_household(group=group_a, joined_on=LAST_MONTH.replace(day=15), baseline_amount=1_000_000,
                                    by=cadre_a, details=details)
    assert not Household.objects.filter(kk_number="7373010101990007").exists()
    member.left_on = None
    services.record_leaving(membership=member, left_on=LAST_MONTH.replace(day=5), by=dppkb_user)  # DPPKB may


@pytest.mark.django_db
def test_the_cadre_home_says_when_the_reporting_month_is_closed(client, cadre_a, dppkb_user, group_a):
    client.force_login(cadre_a)
    assert "sudah ditutup" not in client.get("/kader/").content.decode()
    ClosedMonth.objects.create(period=LAST_MONTH, closed_by=dppkb_user)
    html = client.get("/kader/").content.decode()
    assert "sudah ditutup" in html and "Lihat pendapatan" in html and "Isi pendapatan" not in html

