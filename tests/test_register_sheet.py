"""The monthly register on the cadre's entry sheet (SPEC section 8): meetings with a tick per
member, the KB method in force with a reason when none, and submitting the month."""

import datetime as dt

import pytest
from django.utils import timezone

from households.models import ClosedMonth, KbStatus, Meeting, MonthlyReport
from households.register import is_late
from reports.recap import recap
from tests.factories import make_member

MAY = dt.date(2024, 5, 1)
URL = "/kelompok/KWT-A/isian/2024-05/"


@pytest.fixture
def members(group_a):
    return [make_member(group_a, head_name=name, joined_on=dt.date(2024, 1, 10), kb_method=method).household
            for name, method in [("Ani", "PIL"), ("Budi", "TIDAK"), ("Citra", "IUD")]]


def base(members, **extra):
    data = {f"amount_{h.pk}": "" for h in members} | {f"was_{h.pk}": "" for h in members}
    return data | extra


@pytest.mark.django_db
def test_a_cadre_adds_a_meeting_of_the_month_and_ticks_who_came(client, cadre_a, members):
    client.force_login(cadre_a)
    response = client.post(URL + "pertemuan/", {"held_on": "2024-05-06", "mode": "TATAP_MUKA", "topic": "Penyuluhan KB"})
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.group.code, meeting.recorded_by) == ("KWT-A", cadre_a)
    html = client.get(URL).content.decode()
    assert "Penyuluhan KB" in html and "Hadir 6 Mei" in html
    ani, budi, citra = members
    data = base(members, meetings_shown=str(meeting.pk), **{f"present_{meeting.pk}_{ani.pk}": "on",
                                                             f"present_{meeting.pk}_{citra.pk}": "on"})
    assert client.post(URL, data).status_code == 302
    assert set(meeting.attendees.all()) == {ani, citra}
    # A meeting added after the sheet was opened keeps its ticks: it was not on the page.
    later = Meeting.objects.create(group=meeting.group, held_on=dt.date(2024, 5, 20), topic="Pemasaran")
    later.attendees.set([budi])
    assert client.post(URL, data).status_code == 302
    assert set(later.attendees.all()) == {budi}


@pytest.mark.django_db
@pytest.mark.parametrize("day, message", [("2024-06-02", "harus pada Mei 2024"), ("2024-05-06", "sudah memiliki pertemuan")])
def test_a_meeting_outside_the_month_or_twice_on_a_day_is_refused(client, cadre_a, members, day, message):
    client.force_login(cadre_a)
    client.post(URL + "pertemuan/", {"held_on": "2024-05-06", "mode": "VIRTUAL", "topic": "Pertama"})
    response = client.post(URL + "pertemuan/", {"held_on": day, "mode": "TATAP_MUKA", "topic": "Kedua"}, follow=True)
    assert message in response.content.decode()
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_no_one_outside_the_group_adds_meetings_or_submits(client, cadre_b, opd_user, dppkb_user, members):
    meeting = {"held_on": "2024-05-06", "mode": "TATAP_MUKA", "topic": "KB"}
    client.force_login(cadre_b)
    assert client.post(URL + "pertemuan/", meeting).status_code == 404
    assert client.post(URL + "lapor/").status_code == 404
    client.force_login(opd_user)  # sees the group, does not fill in its register
    assert client.post(URL + "pertemuan/", meeting).status_code == 403
    assert client.post(URL + "lapor/").status_code == 403
    assert not Meeting.objects.exists() and not MonthlyReport.objects.exists()
    client.force_login(dppkb_user)  # DPPKB may submit for a cadre
    assert client.post(URL + "lapor/").status_code == 302
    assert MonthlyReport.objects.get().submitted_by == dppkb_user


@pytest.mark.django_db
def test_a_closed_month_binds_the_register_as_it_binds_income(client, cadre_a, dppkb_user, members):
    ClosedMonth.objects.create(period=MAY, closed_by=dppkb_user)
    client.force_login(cadre_a)
    assert client.post(URL + "pertemuan/", {"held_on": "2024-05-06", "mode": "TATAP_MUKA", "topic": "KB"}).status_code == 403
    assert client.post(URL + "lapor/").status_code == 403


@pytest.mark.django_db
def test_the_kb_method_changes_for_the_month_and_no_method_needs_a_reason(client, cadre_a, members):
    ani, budi, citra = members
    client.force_login(cadre_a)
    response = client.post(URL, base(members, **{f"kb_{ani.pk}": "TIDAK", f"reason_{ani.pk}": ""}))
    assert "Pilih alasan keluarga tidak ber-KB" in response.content.decode()
    assert not KbStatus.objects.filter(period=MAY).exists()
    response = client.post(URL, base(members, **{f"kb_{ani.pk}": "TIDAK", f"reason_{ani.pk}": "HAMIL",
                                                 f"kb_{budi.pk}": "IMPLAN", f"reason_{budi.pk}": "LAINNYA"}))
    assert response.status_code == 302
    assert set(KbStatus.objects.filter(period=MAY).values_list("household__head_name", "method", "reason")) == {
        ("Ani", "TIDAK", "HAMIL"), ("Budi", "IMPLAN", "")}
    ani.refresh_from_db()
    assert ani.kb_method == "TIDAK"  # May is the latest status: the method in force now
    html = client.get(URL).content.decode()
    assert 'value="IMPLAN" selected' in html


@pytest.mark.django_db
def test_submitting_the_month_records_who_and_when_and_counts_in_the_recap(client, cadre_a, members):
    client.force_login(cadre_a)
    assert recap(MAY)[("city", None)].groups_reported == 0
    response = client.post(URL + "lapor/", follow=True)
    assert "Laporan Mei 2024 dikirim" in response.content.decode()
    report = MonthlyReport.objects.get()
    assert (report.submitted_by, report.period) == (cadre_a, MAY)
    assert is_late(report)  # June 3rd is long gone
    assert "terlambat" in client.get(URL).content.decode()
    client.post(URL + "lapor/")  # the first submission stands
    assert MonthlyReport.objects.get().submitted_at == report.submitted_at
    assert recap(MAY)[("city", None)].groups_reported == 1
    MonthlyReport.objects.update(submitted_by=None)  # seed_demo's reports, or a deleted user
    assert "Dikirim oleh –" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_the_current_month_cannot_be_submitted_yet(client, cadre_a, members):
    client.force_login(cadre_a)
    month = timezone.localdate().replace(day=1)
    response = client.post(f"/kelompok/KWT-A/isian/{month:%Y-%m}/lapor/", follow=True)
    assert "setelah bulannya selesai" in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_a_report_by_the_third_is_on_time():
    report = MonthlyReport(period=MAY, submitted_at=dt.datetime(2024, 6, 3, 15, 0, tzinfo=dt.UTC))  # 23:00 WITA
    assert not is_late(report)
    report.submitted_at = dt.datetime(2024, 6, 3, 16, 30, tzinfo=dt.UTC)  # 00:30 WITA on the 4th
    assert is_late(report)


@pytest.mark.django_db
def test_a_second_saver_does_not_undo_methods_and_ticks_they_left_alone(client, cadre_a, members):
    """Both opened May; the first changed Ani's method and ticked Budi; the second, on the
    older page, only typed an income. What the second did not touch stays as the first saved."""
    ani, budi, citra = members
    meeting = Meeting.objects.create(group=ani.memberships.get().group, held_on=dt.date(2024, 5, 6), topic="KB")
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    assert f'name="kb_was_{ani.pk}" value="PIL:"' in html
    shown = {"meetings_shown": str(meeting.pk), "ticks_was": ""} | {f"kb_was_{h.pk}": f"{h.kb_method}:" + (
        "LAINNYA" if h.kb_method == "TIDAK" else "") for h in members}
    unchanged = {f"kb_{h.pk}": h.kb_method for h in members} | {f"reason_{budi.pk}": "LAINNYA"}
    first = base(members) | shown | unchanged | {f"kb_{ani.pk}": "IMPLAN", f"present_{meeting.pk}_{budi.pk}": "on"}
    assert client.post(URL, first).status_code == 302
    second = base(members) | shown | unchanged | {f"amount_{citra.pk}": "2.000.000"}
    assert client.post(URL, second).status_code == 302
    ani.refresh_from_db()
    assert ani.kb_method == "IMPLAN" and set(meeting.attendees.all()) == {budi}
    untick = base(members) | shown | unchanged | {"ticks_was": f"{meeting.pk}-{budi.pk}",  # a deliberate untick
                                                   f"amount_{citra.pk}": "2.000.000", f"was_{citra.pk}": "2000000"}
    assert client.post(URL, untick).status_code == 302
    assert not meeting.attendees.exists()


@pytest.mark.django_db
def test_a_method_change_that_would_reach_a_closed_month_is_refused_to_a_cadre(client, cadre_a, dppkb_user, members):
    ani = members[0]
    ClosedMonth.objects.create(period=dt.date(2024, 6, 1), closed_by=dppkb_user)
    client.force_login(cadre_a)
    response = client.post(URL, base(members, **{f"kb_{ani.pk}": "TIDAK", f"reason_{ani.pk}": "HAMIL"}))
    assert "Juni 2024 sudah ditutup" in response.content.decode()
    assert not KbStatus.objects.filter(period=MAY).exists()
    client.force_login(dppkb_user)  # DPPKB may
    assert client.post(URL, base(members, **{f"kb_{ani.pk}": "TIDAK", f"reason_{ani.pk}": "HAMIL"})).status_code == 302
    assert KbStatus.objects.filter(period=MAY, household=ani).exists()


@pytest.mark.django_db
def test_no_tick_for_a_meeting_before_the_member_joined(client, cadre_a, group_a, members):
    late = make_member(group_a, head_name="Dewi", joined_on=dt.date(2024, 5, 20)).household
    meeting = Meeting.objects.create(group=group_a, held_on=dt.date(2024, 5, 6), topic="KB")
    client.force_login(cadre_a)
    html = client.get(URL).content.decode()
    assert f'name="present_{meeting.pk}_{late.pk}"' not in html and f'name="present_{meeting.pk}_{members[0].pk}"' in html
    everyone = base([*members, late], meetings_shown=str(meeting.pk), **{f"present_{meeting.pk}_{late.pk}": "on"})
    assert client.post(URL, everyone).status_code == 302
    assert not meeting.attendees.exists()


@pytest.mark.django_db
def test_the_recap_of_an_empty_month_box_is_last_months_and_an_opd_reads_its_line_once(client, opd_user, members):
    client.force_login(opd_user)
    html = client.get("/reports/rekap/?as_of=").content.decode()
    from households.sheet import reporting_month
    from django.utils.formats import date_format

    assert date_format(reporting_month(), "F Y") in html
    html = client.get("/reports/rekap/?as_of=2024-05").content.decode()
    assert html.count("OPD DISTAN – Dinas Pertanian") == 1
