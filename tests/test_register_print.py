"""The group's monthly register as an A4 PDF to sign (SPEC section 8, printed): who may print
it, what it says, and that printing it is logged."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from accounts.models import AccessLog
from households.models import Meeting, MonthlyReport
from households.register import record_kb_status
from tests.factories import make_member, make_reading

URL = "/kelompok/KWT-A/isian/2024-05/register.pdf"


def text_of(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def may_2024(group_a, cadre_a):
    """Ani (PIL, Rp 1.250.000, present), Budi (no method, pregnant, no income yet)."""
    ani = make_member(group_a, head_name="Ani Lestari", joined_on=dt.date(2024, 1, 10), kb_method="PIL",
                      nik="7373011506800042").household
    budi = make_member(group_a, head_name="Budi Santoso", joined_on=dt.date(2024, 1, 10), kb_method="PIL").household
    record_kb_status(household_id=budi.pk, period=dt.date(2024, 5, 1), method="TIDAK", reason="HAMIL", by=None)
    make_reading(ani, dt.date(2024, 5, 1), 1_250_000)
    meeting = Meeting.objects.create(group=group_a, held_on=dt.date(2024, 5, 6), mode="TATAP_MUKA", topic="Penyuluhan KB")
    meeting.attendees.set([ani])
    MonthlyReport.objects.create(group=group_a, period=dt.date(2024, 5, 1), submitted_by=cadre_a,
                                 submitted_at=dt.datetime(2024, 6, 2, 1, tzinfo=dt.UTC))
    return ani, budi


@pytest.mark.django_db
def test_the_printed_register_holds_the_months_members_meetings_totals_and_signatures(
    client, cadre_a, may_2024, django_assert_max_num_queries
):
    ani, budi = may_2024
    client.force_login(cadre_a)
    with django_assert_max_num_queries(25):
        response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="register-kwt-a-2024-05.pdf"'
    text = text_of(response)
    assert "Register kelompok KWT-A, Mei 2024" in text
    assert "DISTAN – Dinas Pertanian" in text
    assert "Ani Lestari" in text and ani.kk_number in text
    assert "7373011506800042" not in text and "0042" in text  # the NIK masked
    assert "Rp 1.250.000" in text
    assert "Tidak ber-KB (bukan akseptor) (Hamil)" in text
    assert "Pil" in text
    assert "2 keluarga anggota Rp 1.250.000 1 1 akseptor" in text  # families, income, present, acceptors
    assert "Tanggal Cara Topik Keluarga hadir" in text and "6 Mei 2024 Tatap muka Penyuluhan KB 1" in text
    assert "Ketua kelompok" in text and "Kader" in text and "PKB/PLKB" in text
    assert "dikirim oleh kader_a pada 2 Juni 2024 09:00" in text
    assert AccessLog.objects.get().action == "print_register"


@pytest.mark.django_db
def test_only_who_may_see_the_group_prints_its_register(client, cadre_b, other_opd_user, opd_user, dppkb_user, may_2024):
    for user, status in [(cadre_b, 404), (other_opd_user, 404), (opd_user, 200), (dppkb_user, 200)]:
        client.force_login(user)
        assert client.get(URL).status_code == status, user
    assert AccessLog.objects.filter(action="print_register").count() == 2


@pytest.mark.django_db
def test_a_month_not_yet_happened_or_malformed_prints_nothing(client, cadre_a, group_a):
    client.force_login(cadre_a)
    assert client.get("/kelompok/KWT-A/isian/2999-01/register.pdf").status_code == 404
    assert client.get("/kelompok/KWT-A/isian/2024-13/register.pdf").status_code == 404
    assert not AccessLog.objects.exists()
