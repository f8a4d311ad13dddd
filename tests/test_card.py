"""The month's headline figures as a picture to share (1080 × 1350 PNG): the figures of the
dashboard for the selection, scoped like the report; its text travels in the PNG too."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from groups.models import Target
from households.models import MonthlyReport
from households.sheet import reporting_month
from tests.factories import make_member, make_reading
from uppka.months import month_before


def picture(response) -> tuple[tuple[int, int], str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    return image.size, image.text["Description"]


@pytest.fixture
def city(group_a, group_b):
    """Two families in each OPD's group, joined two months before the reporting month, with
    incomes before (Rp 1.000.000) and after (Rp 1.300.000 / Rp 900.000); group A reported."""
    month = reporting_month()
    joined = month_before(month).replace(day=10)
    before = month_before(month_before(month))
    for group, after in [(group_a, 1_300_000), (group_b, 900_000)]:
        for n in range(2):
            household = make_member(group, joined_on=joined, kb_method="IUD" if n else "PIL").household
            make_reading(household, before, 1_000_000)
            make_reading(household, month, after)
    MonthlyReport.objects.create(group=group_a, period=month, submitted_at=dt.datetime.now(dt.UTC))
    Target.objects.create(year=timezone.localdate().year, households=10)


@pytest.mark.django_db
def test_dppkb_gets_the_citys_picture_with_the_dashboards_figures(client, dppkb_user, city, django_assert_max_num_queries):
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(20):
        response = client.get("/reports/kartu.png")
    size, text = picture(response)
    assert size == (1080, 1350)
    assert response["Content-Disposition"].startswith('attachment; filename="uppka-kota-palopo-')
    lines = text.splitlines()
    assert lines[0].startswith("Kota Palopo, ")
    assert "Keluarga akseptor anggota UPPKA: 4 / 10" in lines
    assert "40,0% dari target tahun ini" in lines
    assert "Pendapatan bulanan sebelum → sesudah bergabung: Rp 1.000.000 → Rp 1.100.000" in lines
    assert "50,0% dari 4 keluarga berpendapatan lebih tinggi" in lines
    assert any(line.endswith(": 1 dari 2 kelompok melapor") for line in lines)
    assert "50,0% akseptor memakai MKJP (metode jangka panjang)" in lines


@pytest.mark.django_db
def test_an_opd_users_picture_holds_only_their_groups(client, opd_user, city):
    client.force_login(opd_user)  # DISTAN: group A, Rp 1.300.000 after
    response = client.get("/reports/kartu.png")
    size, text = picture(response)
    assert response["Content-Disposition"].startswith('attachment; filename="uppka-distan-')
    assert text.startswith("OPD DISTAN – Dinas Pertanian, ")
    assert "Keluarga akseptor anggota UPPKA: 2" in text.splitlines()  # no city target for an OPD
    assert "Rp 1.000.000 → Rp 1.300.000" in text
    assert "1 dari 1 kelompok melapor" in text
    assert client.get("/reports/kartu.png?opd=DISKAN").status_code == 400  # another OPD's


@pytest.mark.django_db
def test_a_bad_month_gets_a_message_not_a_picture(client, dppkb_user):
    client.force_login(dppkb_user)
    response = client.get("/reports/kartu.png?as_of=2024-13")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


# The report for a meeting (PDF) ------------------------------------------------------

from pypdf import PdfReader  # noqa: E402


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.django_db
def test_dppkb_prints_the_citys_report_for_a_meeting(client, dppkb_user, city, django_assert_max_num_queries):
    from groups.models import Group, GroupProblem

    GroupProblem.objects.create(group=Group.objects.get(code="KWT-A"), kind="pasar", noted_on=dt.date(2024, 5, 1))
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(30):
        response = client.get("/reports/laporan.pdf")
    assert response["Content-Disposition"].startswith('attachment; filename="laporan-uppka-kota-palopo-')
    reader = PdfReader(io.BytesIO(response.content))
    assert 2 <= len(reader.pages) <= 4  # to hand out at a meeting
    text = pdf_text(response)
    assert "Laporan UPPKA: Kota Palopo" in text
    assert "4 / 10" in text and "40,0% dari target" in text
    assert "Rp 1.000.000 → Rp 1.100.000" in text
    assert "1 dari 2 kelompok melapor" in text and "Belum melapor: NEL-B" in text
    assert "OPD DISTAN – Dinas" in text and "OPD DISKAN – Dinas" in text  # the summary per scope
    assert "Pasar: 1 · Modal: 0" in text  # open problems, market access first
    assert "Akses pasar: KWT-A (KWT Melati)" in text


@pytest.mark.django_db
def test_an_opd_user_prints_only_their_groups(client, opd_user, city):
    client.force_login(opd_user)
    response = client.get("/reports/laporan.pdf")
    assert response["Content-Disposition"].startswith('attachment; filename="laporan-uppka-distan-')
    text = pdf_text(response)
    assert "Laporan UPPKA: OPD DISTAN – Dinas Pertanian" in text
    assert "NEL-B" not in text and "DISKAN" not in text and "/ 10" not in text
    assert "Rp 1.000.000 → Rp 1.300.000" in text
    assert client.get("/reports/laporan.pdf?opd=DISKAN").status_code == 400
