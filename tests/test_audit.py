"""DPPKB's audit: every change with who, when, old → new; who viewed or exported what."""

import datetime as dt

import pytest

from accounts.models import AccessLog
from households.models import IncomeReading
from tests.factories import make_reading
from tests.jobs_util import followed


@pytest.mark.django_db
def test_audit_lists_a_correction_with_who_old_and_new(client, dppkb_user, cadre_a, member_a):
    reading = make_reading(member_a.household, dt.date(2024, 5, 1), 1_000_000)
    reading._history_user = cadre_a
    reading.amount = 1_250_000
    reading.save()
    client.force_login(dppkb_user)
    html = client.get("/audit/").content.decode()
    assert "kader_a" in html and "Rp 1.000.000 → Rp 1.250.000" in html
    assert "diubah" in html and "Pendapatan Mei 2024, keluarga Sitti Hasnah (KWT-A)" in html
    assert member_a.household.head_nik not in html  # masked even here


@pytest.mark.django_db
def test_audit_pages_back_in_time(client, dppkb_user, member_a):
    for month in range(1, 13):
        for year in range(2019, 2024):
            make_reading(member_a.household, dt.date(year, month, 1), 1)
    client.force_login(dppkb_user)
    first = client.get("/audit/")
    older = first.content.decode().split('href="?view=changes&amp;before=')[1].split('"')[0]
    second = client.get(f"/audit/?view=changes&before={older}")
    assert second.status_code == 200
    assert second.context["entries"][0].when < first.context["entries"][-1].when


@pytest.mark.django_db
def test_viewing_a_household_and_exporting_are_logged(client, dppkb_user, opd_user, member_a):
    client.force_login(opd_user)
    client.get(f"/keluarga/{member_a.household.pk}/")
    b"".join(followed(client.get("/reports/export.xlsx")).streaming_content)
    log = list(AccessLog.objects.order_by("at").values_list("user__username", "action", "target"))
    assert log[0][:2] == ("opd_distan", "view_household") and member_a.household.kk_number in log[0][2]
    assert log[1][:2] == ("opd_distan", "export_report") and "Per bulan" in log[1][2]
    client.force_login(dppkb_user)
    html = client.get("/audit/?view=access").content.decode()
    assert "opd_distan" in html and "melihat data keluarga" in html and "mengekspor" in html


@pytest.mark.django_db
def test_audit_query_count_is_fixed(client, dppkb_user, member_a, django_assert_max_num_queries):
    for month in range(1, 13):
        reading = make_reading(member_a.household, dt.date(2023, month, 1), 1)
        reading.amount = 2
        reading.save()
    assert IncomeReading.history.count() == 24
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(20):
        assert client.get("/audit/").status_code == 200


@pytest.mark.django_db
def test_downloading_data_and_importing_are_logged(client, dppkb_user, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_import import build

    client.force_login(dppkb_user)
    b"".join(followed(client.get("/impor/data.xlsx")).streaming_content)
    upload = SimpleUploadedFile("impor.xlsx", build(tmp_path / "impor.xlsx").read_bytes())
    assert client.post("/impor/", {"file": upload}).status_code == 302
    log = list(AccessLog.objects.order_by("at", "id").values_list("user__username", "action", "target"))
    assert [entry[:2] for entry in log] == [("dppkb_staff", "download_data"), ("dppkb_staff", "import")]
    assert "pendapatan sejak" in log[0][2] and "keluarga baru" in log[1][2]


@pytest.fixture
def changes(cadre_a, dppkb_user, member_a, group_b):
    """A cadre's correction in group A, a DPPKB correction in group B, a new family."""
    from tests.factories import make_member

    first = make_reading(member_a.household, dt.date(2024, 5, 1), 1_000_000)
    first._history_user = cadre_a
    first.amount = 1_100_000
    first.save()
    other = make_member(group_b, head_name="Rahmat Nelayan").household
    second = make_reading(other, dt.date(2024, 6, 1), 2_000_000)
    second._history_user = dppkb_user
    second.amount = 2_500_000
    second.save()
    return member_a.household, other


@pytest.mark.django_db
@pytest.mark.parametrize("query, shown, hidden", [
    ("who=kader_a", "Sitti Hasnah", "Rahmat Nelayan"),
    ("group=NEL-B", "Rahmat Nelayan", "Sitti Hasnah"),
    ("what=income&kind=~", "Rp 1.000.000 → Rp 1.100.000", "Keanggotaan"),
    ("what=membership", "Keanggotaan NEL-B", "Rp 2.000.000 → Rp 2.500.000"),
    ("since=2999-01-01", "", "Sitti Hasnah"),
])
def test_audit_filters_by_who_what_group_kind_and_day(client, dppkb_user, changes, query, shown, hidden):
    client.force_login(dppkb_user)
    html = client.get(f"/audit/?view=changes&{query}").content.decode()
    table = html.split("<tbody>", 1)[1]
    assert shown in table and hidden not in table


@pytest.mark.django_db
def test_audit_filters_by_family(client, dppkb_user, changes):
    household, other = changes
    client.force_login(dppkb_user)
    table = client.get(f"/audit/?kk={other.kk_number}").content.decode().split("<tbody>", 1)[1]
    assert "Rahmat Nelayan" in table and "Sitti Hasnah" not in table


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["kk=123", "since=2024-05-02&until=2024-05-01", "what=passwords", "kind=x"])
def test_bad_audit_filters_get_a_message_and_show_nothing(client, dppkb_user, changes, query):
    client.force_login(dppkb_user)
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400 and response.context["entries"] == []
    assert "invalid-feedback" in response.content.decode()


@pytest.mark.django_db
def test_the_filtered_audit_downloads_as_a_workbook_and_the_download_is_logged(client, dppkb_user, changes):
    import io

    import openpyxl

    client.force_login(dppkb_user)
    response = client.get("/audit/?view=changes&group=KWT-A&format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("Waktu", "Oleh", "Jenis perubahan", "Apa", "Lama → baru")
    assert any("Sitti Hasnah" in row[3] and "Rp 1.000.000 → Rp 1.100.000" in row[4] for row in rows[1:])
    assert not any("Rahmat Nelayan" in row[3] for row in rows[1:])
    assert AccessLog.objects.filter(user=dppkb_user, action="export_audit", target="Kode kelompok: KWT-A").exists()


@pytest.mark.django_db
def test_the_older_link_keeps_the_filters(client, dppkb_user, member_a):
    for month in range(1, 13):
        for year in range(2019, 2024):
            make_reading(member_a.household, dt.date(year, month, 1), 1)
    client.force_login(dppkb_user)
    html = client.get("/audit/?what=income").content.decode()
    assert 'href="?view=changes&amp;what=income&amp;before=' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_a", "opd_user"])
def test_only_dppkb_downloads_the_audit(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/audit/?format=xlsx").status_code == 403



@pytest.mark.django_db
def test_older_loses_nothing_when_one_save_spans_the_page_end(client, dppkb_user, member_a):
    """Found by the journey check: one save stamps all its rows with one moment; the next page
    asked only for earlier moments and dropped the rest of that save."""
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    moment = timezone.now()
    readings = [IncomeReading(household=member_a.household, period=dt.date(2015 + i // 12, i % 12 + 1, 1), amount=i)
                for i in range(120)]
    bulk_create_with_history(readings, IncomeReading, default_date=moment)
    client.force_login(dppkb_user)
    shown, url = [], "/audit/?what=income"
    while url:
        response = client.get(url)
        shown += [e.subject for e in response.context["entries"]]
        html = response.content.decode()
        url = ("/audit/" + html.split('class="btn btn-outline-secondary btn-sm" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
               if 'btn-outline-secondary btn-sm" href="?' in html else None)
    assert len(shown) == 120 and len(set(shown)) == 120


@pytest.mark.django_db
def test_audit_names_kb_methods_and_finds_a_group_whatever_its_case(client, dppkb_user, member_a):
    household = member_a.household
    household.kb_method = "IUD"
    household.save()
    client.force_login(dppkb_user)
    table = client.get("/audit/?group=kwt-a&what=household").content.decode().split("<tbody>", 1)[1]
    assert household.head_name in table and ": IUD" not in table
    assert household.get_kb_method_display() in table


@pytest.mark.django_db
def test_the_audit_offers_date_boxes_and_counts_with_a_thousands_dot(client, dppkb_user):
    client.force_login(dppkb_user)
    html = client.get("/audit/").content.decode()
    assert 'type="date" name="since"' in html and 'type="text" name="who"' in html
    assert "paling banyak 10.000 perubahan" in html


@pytest.mark.django_db
def test_the_audit_shows_the_register_kb_methods_meetings_and_reports(client, cadre_a, dppkb_user, member_a):
    """A month saved from the entry sheet: a KB change, a meeting with a tick, the report."""
    url = "/kelompok/KWT-A/isian/2024-05/"
    hid = member_a.household.pk
    client.force_login(cadre_a)
    client.post(url + "pertemuan/", {"held_on": "2024-05-06", "mode": "TATAP_MUKA", "topic": "Penyuluhan KB"})
    from households.models import Meeting

    meeting = Meeting.objects.get()
    client.post(url, {f"amount_{hid}": "", f"was_{hid}": "", f"kb_{hid}": "TIDAK", f"reason_{hid}": "IAT",
                      "meetings_shown": str(meeting.pk), f"present_{meeting.pk}_{hid}": "on"})
    client.post(url + "lapor/")
    client.force_login(dppkb_user)
    table = client.get("/audit/?what=kb_status").content.decode().split("<tbody>", 1)[1]
    assert "Metode KB mulai Mei 2024, keluarga Sitti Hasnah (KWT-A)" in table and "kader_a" in table
    assert "Ingin anak ditunda (IAT)" in table
    table = client.get("/audit/?what=register&group=kwt-a").content.decode().split("<tbody>", 1)[1]
    assert "Pertemuan KWT-A pada 6 Mei 2024" in table and "Penyuluhan KB" in table
    assert "Laporan KWT-A untuk Mei 2024" in table
    assert "Mei 2024" not in client.get("/audit/?what=register&group=NEL-B").content.decode().split("<tbody>", 1)[1]


@pytest.mark.django_db
def test_the_audit_shows_who_ticked_and_unticked_present_at_a_meeting(client, cadre_a, dppkb_user, member_a, django_assert_max_num_queries):
    """Ticks are changes of their meeting: a ticks-only save shows present before → after."""
    url = "/kelompok/KWT-A/isian/2024-05/"
    hid = member_a.household.pk
    client.force_login(cadre_a)
    client.post(url + "pertemuan/", {"held_on": "2024-05-06", "mode": "TATAP_MUKA", "topic": "Penyuluhan KB"})
    from households.models import Meeting

    meeting = Meeting.objects.get()
    page = {f"amount_{hid}": "", f"was_{hid}": "", "meetings_shown": str(meeting.pk)}
    client.post(url, {**page, "ticks_was": "", f"present_{meeting.pk}_{hid}": "on"})
    client.post(url, {**page, "ticks_was": f"{meeting.pk}-{hid}"})  # untick
    assert not meeting.attendees.exists()
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(30):
        table = client.get("/audit/?what=register&group=KWT-A").content.decode().split("<tbody>", 1)[1]
    rows = [" ".join(row.split()) for row in table.split("</tbody>")[0].split("<tr")[1:]]
    name = member_a.household.head_name
    ticks = [row for row in rows if "Hadir" in row]
    assert len(ticks) == 2, rows  # ticked, then unticked, newest first
    assert f"Hadir:</span> {name} → </div>" in ticks[0]  # unticked: was present, then nobody
    assert f"Hadir:</span> {name}</div>" in ticks[1]  # ticked: nobody, then present
