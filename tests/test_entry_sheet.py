"""The monthly entry sheet: one group, one month, saved whole or not at all."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import ClosedMonth, IncomeReading, KbStatus, Meeting, MemberFigures
from tests.factories import make_group, make_member, make_reading

MAY = dt.date(2024, 5, 1)
URL = "/kelompok/KWT-A/isian/2024-05/"


@pytest.fixture
def members(group_a):
    """Three members who joined in January 2024 and earned about Rp 1–2 million before."""
    result = []
    for name, base in [("Ani", 1_000_000), ("Budi", 1_500_000), ("Citra", 2_000_000)]:
        m = make_member(group_a, head_name=name, joined_on=dt.date(2024, 1, 10))
        for month in (10, 11, 12):
            make_reading(m.household, dt.date(2023, month, 1), base)
        make_reading(m.household, dt.date(2024, 4, 1), base + 100_000)
        result.append(m.household)
    return result


def sheet_data(households, values, *, was=None):
    data = {}
    for household, value in zip(households, values):
        data[f"amount_{household.pk}"] = value
        data[f"was_{household.pk}"] = "" if was is None else was.get(household.pk, "")
    return data


def amounts(period=MAY):
    return dict(IncomeReading.objects.filter(period=period).values_list("household__head_name", "amount"))


@pytest.mark.django_db
def test_sheet_lists_every_active_member_with_the_previous_reading(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("Ani", "Budi", "Citra"):
        assert name in html
    assert "Rp 1.100.000" in html  # Ani's April reading, shown beside her field
    assert "Mei 2024" in html


@pytest.mark.django_db
def test_default_sheet_is_last_month(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.get("/kelompok/KWT-A/isian/")
    assert response.status_code == 302
    assert response["Location"].endswith("/isian/" + _last_month() + "/")


def _last_month():
    from django.utils import timezone

    first = timezone.localdate().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


@pytest.mark.django_db
def test_saving_the_sheet_accepts_the_formats_people_type(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.post(URL, sheet_data(members, ["1.150.000", "Rp 1.600.000", "2,1 jt"]))
    assert response.status_code == 302
    assert amounts() == {"Ani": 1_150_000, "Budi": 1_600_000, "Citra": 2_100_000}
    reading = IncomeReading.objects.get(household=members[0], period=MAY)
    assert reading.recorded_by == cadre_a
    assert "Tersimpan" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_empty_rows_are_left_unrecorded(client, cadre_a, members):
    client.force_login(cadre_a)
    client.post(URL, sheet_data(members, ["1.150.000", "", ""]))
    assert amounts() == {"Ani": 1_150_000}


@pytest.mark.django_db
def test_one_bad_row_saves_nothing_and_marks_the_row(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.post(URL, sheet_data(members, ["1.150.000", "satu juta", "-20000"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert amounts() == {}
    assert "Jumlah hanya berisi angka" in html
    assert "tidak boleh negatif" in html
    assert "2 baris perlu diperiksa" in html  # a count at the top leads to the red rows
    # The first row with a problem takes the focus, even without the sheet's script.
    first_bad = html.index(f'name="amount_{members[1].pk}"')
    assert html.count("autofocus") == 1 and first_bad < html.index("autofocus") < html.index(f'name="was_{members[1].pk}"')
    assert 'value="satu juta"' in html  # what the cadre typed stays in the field


@pytest.mark.django_db
def test_correction_keeps_the_earlier_value_in_the_history(client, cadre_a, members):
    client.force_login(cadre_a)
    client.post(URL, sheet_data(members, ["1.150.000", "1.600.000", "2.100.000"]))
    was = {h.pk: str(v) for h, v in zip(members, [1_150_000, 1_600_000, 2_100_000])}
    client.post(URL, sheet_data(members, ["1.200.000", "1.600.000", "2.100.000"], was=was))
    reading = IncomeReading.objects.get(household=members[0], period=MAY)
    assert reading.amount == 1_200_000
    assert [h.amount for h in reading.history.order_by("history_date")] == [1_150_000, 1_200_000]
    assert reading.history.first().history_user == cadre_a


@pytest.mark.django_db
def test_amount_far_from_usual_asks_for_confirmation(client, cadre_a, members):
    client.force_login(cadre_a)
    data = sheet_data(members, ["11.000.000", "1.600.000", "2.100.000"])  # Ani usually earns ~1 million
    response = client.post(URL, data)
    assert amounts() == {}
    html = response.content.decode()
    assert "jauh dari pendapatan biasanya" in html
    assert f'name="confirm_{members[0].pk}"' in html
    response = client.post(URL, {**data, f"confirm_{members[0].pk}": "on"})
    assert response.status_code == 302
    assert amounts()["Ani"] == 11_000_000


@pytest.mark.django_db
def test_recorded_income_cannot_be_emptied(client, cadre_a, members):
    client.force_login(cadre_a)
    client.post(URL, sheet_data(members, ["1.150.000", "", ""]))
    response = client.post(URL, sheet_data(members, ["", "", ""], was={members[0].pk: "1150000"}))
    assert "tidak dapat dikosongkan" in response.content.decode()
    assert amounts() == {"Ani": 1_150_000}


@pytest.mark.django_db
def test_household_of_another_group_in_the_form_changes_nothing(client, cadre_a, members, member_b):
    client.force_login(cadre_a)
    data = sheet_data(members, ["1.150.000", "1.600.000", "2.100.000"])
    data.update({f"amount_{member_b.household.pk}": "5.000.000", f"was_{member_b.household.pk}": ""})
    response = client.post(URL, data)
    assert "bukan bagian dari lembar ini" in response.content.decode()
    assert not IncomeReading.objects.filter(period=MAY).exists()


@pytest.mark.django_db
def test_missing_rows_change_nothing(client, cadre_a, members):
    client.force_login(cadre_a)
    data = sheet_data(members[:2], ["1.150.000", "1.600.000"])
    response = client.post(URL, data)
    assert "tidak lengkap" in response.content.decode()
    assert amounts() == {}


@pytest.mark.django_db
def test_extra_unknown_fields_are_ignored_but_ids_are_not(client, cadre_a, members):
    client.force_login(cadre_a)
    data = sheet_data(members, ["1.150.000", "", ""])
    data["period"] = "2020-01"
    data["recorded_by"] = "999"
    assert client.post(URL, data).status_code == 302
    assert IncomeReading.objects.get(household=members[0], amount=1_150_000).period == MAY


@pytest.mark.django_db
def test_future_month_is_refused_with_a_message(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.post("/kelompok/KWT-A/isian/2999-01/", sheet_data(members, ["1", "1", "1"]), follow=True)
    assert "belum terjadi" in response.content.decode()
    assert not IncomeReading.objects.filter(period__year=2999).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2024-13", "mei", "2024-05-01"])
def test_malformed_month_in_the_url_is_not_found(client, cadre_a, members, month):
    client.force_login(cadre_a)
    assert client.get(f"/kelompok/KWT-A/isian/{month}/").status_code == 404


@pytest.mark.django_db
def test_member_who_joined_later_is_not_on_an_earlier_sheet(client, cadre_a, members, group_a):
    late = make_member(group_a, head_name="Dewi", joined_on=dt.date(2024, 6, 3))
    client.force_login(cadre_a)
    data = sheet_data(members, ["1", "", ""])
    data.update({f"amount_{late.household.pk}": "900.000", f"was_{late.household.pk}": ""})
    response = client.post(URL, data)
    assert "Dewi" not in client.get(URL).content.decode()
    assert response.status_code == 200 and amounts() == {}


@pytest.mark.django_db
def test_member_who_left_is_not_on_later_sheets(client, cadre_a, members):
    from households.models import Membership

    Membership.objects.filter(household=members[2]).update(left_on=dt.date(2024, 4, 20))
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    assert "Citra" not in html and "Ani" in html


@pytest.mark.django_db
def test_closed_month_is_read_only_for_cadres(client, cadre_a, dppkb_user, members):
    ClosedMonth.objects.create(period=MAY, closed_by=dppkb_user)
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    assert "ditutup" in html and "disabled" in html
    assert client.post(URL, sheet_data(members, ["1", "2", "3"])).status_code == 403
    assert amounts() == {}
    client.force_login(dppkb_user)
    assert client.post(URL, sheet_data(members, ["1.150.000", "", ""])).status_code == 302
    assert amounts() == {"Ani": 1_150_000}


@pytest.mark.django_db
def test_second_saver_is_told_instead_of_overwriting(client, cadre_a, members):
    client.force_login(cadre_a)
    stale = sheet_data(members, ["1.150.000", "", ""])  # both opened the empty sheet
    client.post(URL, stale)
    response = client.post(URL, sheet_data(members, ["1.300.000", "", ""]))
    assert response.status_code == 200
    assert "menyimpan bulan ini untuk Ani" in response.content.decode()
    assert amounts() == {"Ani": 1_150_000}


def field_value(html, name):
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match and match[1]


@pytest.mark.django_db
def test_second_saver_sees_both_amounts_and_chooses(client, cadre_a, members):
    """The message and the fields agree: the second saver's amounts stay in the fields, the
    saved one is shown beside them, and the next save keeps what the cadre chose."""
    ani, budi, citra = members
    client.force_login(cadre_a)
    client.post(URL, sheet_data(members, ["1.830.000", "1.600.000", ""]))  # the first saver
    mine = sheet_data(members, ["1.770.000", "1.650.000", "2.100.000"])  # opened the empty sheet before
    response = client.post(URL, mine)
    html = response.content.decode()
    assert amounts() == {"Ani": 1_830_000, "Budi": 1_600_000}
    assert field_value(html, f"amount_{ani.pk}") == "1.770.000"  # theirs, not the stored one
    assert "Pakai jumlah yang tersimpan: Rp 1.830.000" in html and "Pakai jumlah yang tersimpan: Rp 1.600.000" in html
    assert f'name="choose_{citra.pk}"' not in html  # Citra's row was not saved by anyone
    assert field_value(html, f"was_{ani.pk}") == "1830000"

    again = {**mine, f"was_{ani.pk}": "1830000", f"was_{budi.pk}": "1600000",
             f"conflict_{ani.pk}": "1", f"conflict_{budi.pk}": "1"}
    response = client.post(URL, again)  # no choice made: asked again, nothing saved
    assert "pilih jumlah yang dipakai" in response.content.decode()
    assert amounts() == {"Ani": 1_830_000, "Budi": 1_600_000}

    response = client.post(URL, {**again, f"choose_{ani.pk}": "mine", f"choose_{budi.pk}": "theirs"})
    assert response.status_code == 302
    assert amounts() == {"Ani": 1_770_000, "Budi": 1_600_000, "Citra": 2_100_000}


@pytest.mark.django_db
def test_a_save_sent_again_after_its_answer_was_lost_is_no_conflict(client, cadre_a, members):
    """Weak signal: the first save reached the server but its answer did not; the phone
    sends the same amounts again, still 'seeing' the empty sheet."""
    client.force_login(cadre_a)
    typed = sheet_data(members, ["1.150.000", "1.600.000", ""])
    assert client.post(URL, typed).status_code == 302
    assert client.post(URL, typed).status_code == 302
    assert amounts() == {"Ani": 1_150_000, "Budi": 1_600_000}
    response = client.post(URL, sheet_data(members, ["1.150.000", "1.700.000", ""]))  # Budi differs
    assert "menyimpan bulan ini untuk Budi" in response.content.decode()
    assert amounts() == {"Ani": 1_150_000, "Budi": 1_600_000}


@pytest.mark.django_db
def test_a_confirmed_unusual_amount_is_not_questioned_again_next_month(client, cadre_a, group_a):
    """Confirmed at Rp 900.000 in October, Rp 918.000 in November is the family's new level."""
    household = make_member(group_a, head_name="Dewi", joined_on=dt.date(2023, 1, 10)).household
    for month in range(1, 10):
        make_reading(household, dt.date(2024, month, 1), 3_285_000)
    client.force_login(cadre_a)
    october = "/kelompok/KWT-A/isian/2024-10/"
    data = {f"amount_{household.pk}": "900.000", f"was_{household.pk}": ""}
    assert "jauh dari pendapatan biasanya" in client.post(october, data).content.decode()
    assert client.post(october, {**data, f"confirm_{household.pk}": "on"}).status_code == 302
    november = "/kelompok/KWT-A/isian/2024-11/"
    response = client.post(november, {f"amount_{household.pk}": "918.000", f"was_{household.pk}": ""})
    assert response.status_code == 302
    assert IncomeReading.objects.get(household=household, period=dt.date(2024, 11, 1)).amount == 918_000
    # Far from both the usual income and last month's: still asked.
    response = client.post("/kelompok/KWT-A/isian/2024-12/", {f"amount_{household.pk}": "30.000.000", f"was_{household.pk}": ""})
    assert "jauh dari pendapatan biasanya" in response.content.decode()


@pytest.mark.django_db
def test_a_letter_o_for_a_zero_is_named(client, cadre_a, members):
    client.force_login(cadre_a)
    html = client.post(URL, sheet_data(members, ["12.5OO", "", ""])).content.decode()
    assert "huruf O di tempat angka nol" in html
    assert amounts() == {}


@pytest.mark.django_db
def test_the_sheet_tells_the_phone_when_its_draft_was_saved(client, cadre_a, members):
    """After a save, the next view of the sheet (once) carries the sign that lets the script
    drop the draft kept on the phone; the draft is named after the user, group and month."""
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    assert f'data-draft-key="{cadre_a.pk}:KWT-A/2024-05"' in html and "data-draft-saved" not in html
    assert "0/3 terisi" in html
    client.post(URL, sheet_data(members, ["1.150.000", "", ""]))
    html = client.get(URL).content.decode()
    assert "data-draft-saved" in html and "1/3 terisi" in html
    assert "data-draft-saved" not in client.get(URL).content.decode()
    other_month = client.get("/kelompok/KWT-A/isian/2024-04/").content.decode()
    assert "data-draft-saved" not in other_month


@pytest.mark.django_db
def test_the_hint_shows_only_what_a_number_pad_types(client, cadre_a, members):
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    hint = re.search(r'id="amount-hint">([^<]*)<', html)[1]
    assert "1.250.000" in hint and "Rupiah" in hint and "jt" not in hint
    assert html.index('id="amount-hint"') < html.index('name="amount_')
    assert 'inputmode="numeric"' in client.get("/kelompok/KWT-A/daftar/").content.decode()


@pytest.mark.django_db
def test_opd_user_sees_the_sheet_read_only(client, opd_user, members):
    client.force_login(opd_user)
    html = client.get(URL).content.decode()
    assert "Ani" in html and "Hanya baca" in html and "Simpan semua" not in html
    assert client.post(URL, sheet_data(members, ["1", "2", "3"])).status_code == 403
    assert amounts() == {}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_b", "other_opd_user"])
def test_outsiders_cannot_reach_the_sheet(client, request, members, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 404
    assert client.post(URL, sheet_data(members, ["1", "2", "3"])).status_code == 404
    assert amounts() == {}


@pytest.mark.django_db
def test_saving_a_sheet_uses_a_fixed_number_of_queries(client, cadre_a, group_a, django_assert_max_num_queries):
    """The same save (new incomes, corrections, both meetings ticked, a third of the families
    changing method) for a group of 9 and a group of 30 costs the same number of queries."""
    client.force_login(cadre_a)
    counts = []
    for size, month in ((9, MAY), (30, MAY.replace(month=6))):
        group = make_group(code=f"KWT-{size}", kelurahan=group_a.kelurahan)
        group.cadres.add(cadre_a)
        households = [make_member(group, joined_on=dt.date(2024, 1, 10)).household for _ in range(size)]
        for h in households[:3]:
            make_reading(h, month, 1_000_000)
        meetings = [Meeting.objects.create(group=group, held_on=month.replace(day=d), topic="Uji") for d in (6, 20)]
        data = sheet_data(households, ["1.200.000"] * size, was={h.pk: "1000000" for h in households[:3]})
        data["meetings_shown"] = ",".join(str(m.pk) for m in meetings)
        for h in households:
            data.update({f"present_{m.pk}_{h.pk}": "on" for m in meetings})
        for h in households[::3]:
            data.update({f"kb_{h.pk}": "TIDAK", f"reason_{h.pk}": "HAMIL"})
        url = f"/kelompok/{group.code}/isian/{month:%Y-%m}/"
        with CaptureQueriesContext(connection) as queries:
            assert client.post(url, data).status_code == 302
        counts.append(len(queries))
        assert IncomeReading.objects.filter(period=month, amount=1_200_000).count() == size
        assert all(m.attendees.count() == size for m in meetings)
        assert KbStatus.objects.filter(period=month, method="TIDAK", reason="HAMIL").count() == len(households[::3])
        assert MemberFigures.objects.filter(household__in=households[::3], acceptor=False).count() == len(households[::3])
        with django_assert_max_num_queries(15):
            client.get(url)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 80, counts  # a few per meeting of the month (one or two), none per family


@pytest.mark.django_db
def test_a_crash_in_the_middle_of_saving_leaves_nothing_half_saved(client, cadre_a, members, monkeypatch):
    """New readings are inserted first, corrections after: make the second step fail."""
    from django.db import DatabaseError

    import households.services as services

    client.force_login(cadre_a)
    client.post(URL, sheet_data(members, ["1.150.000", "", ""]))  # Ani has a reading now

    def power_cut(*args, **kwargs):
        raise DatabaseError("power cut")

    monkeypatch.setattr(services, "bulk_update_with_history", power_cut)
    was = {members[0].pk: "1150000"}
    with pytest.raises(DatabaseError):
        client.post(URL, sheet_data(members, ["1.200.000", "1.600.000", "2.100.000"], was=was))
    assert amounts() == {"Ani": 1_150_000}  # Budi's and Citra's new rows were rolled back too
