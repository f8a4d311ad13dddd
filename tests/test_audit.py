"""DPPKB's audit: every change with who, when, old → new; who viewed or exported what."""

import datetime as dt

import pytest

from accounts.models import AccessLog
from households.models import IncomeReading
from tests.factories import make_reading


@pytest.mark.django_db
def test_audit_lists_a_correction_with_who_old_and_new(client, dppkb_user, cadre_a, member_a):
    reading = make_reading(member_a.household, dt.date(2024, 5, 1), 1_000_000)
    reading._history_user = cadre_a
    reading.amount = 1_250_000
    reading.save()
    client.force_login(dppkb_user)
    html = client.get("/audit/").content.decode()
    assert "kader_a" in html and "Rp 1.000.000 → Rp 1.250.000" in html
    assert "diubah" in html and "catatan pendapatan" in html
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
    b"".join(client.get("/reports/export.xlsx").streaming_content)
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
    b"".join(client.get("/impor/data.xlsx").streaming_content)
    upload = SimpleUploadedFile("impor.xlsx", build(tmp_path / "impor.xlsx").read_bytes())
    assert client.post("/impor/", {"file": upload}).status_code == 302
    log = list(AccessLog.objects.order_by("at", "id").values_list("user__username", "action", "target"))
    assert [entry[:2] for entry in log] == [("dppkb_staff", "download_data"), ("dppkb_staff", "import")]
    assert "pendapatan sejak" in log[0][2] and "keluarga baru" in log[1][2]
