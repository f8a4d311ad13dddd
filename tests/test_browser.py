"""Each role's main journey in Chromium at phone size (Playwright, against live_server)."""

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import expect

from households.models import Household, IncomeReading
from households.parsing import month_before
from tests.factories import make_member, make_reading

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def master_data(transactional_db):
    """live_server needs real commits, so each test's tables are flushed afterwards,
    master data included: load it again, as the migration did."""
    load_master_data = importlib.import_module("groups.migrations.0002_master_data").load
    load_master_data(django_apps)

PHONE = {"width": 360, "height": 740}
LAST_MONTH = month_before(timezone.localdate().replace(day=1))


def log_in(page, live_server, username):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Sandi").fill("test-pass-123")
    page.get_by_role("button", name="Masuk").click()


@pytest.fixture
def group_with_history(group_a):
    joined = LAST_MONTH - dt.timedelta(days=150)
    households = []
    for name, base in [("Ani Lestari", 1_000_000), ("Budi Santoso", 1_500_000), ("Citra Dewi", 2_000_000)]:
        household = make_member(group_a, head_name=name, joined_on=joined).household
        for back in (1, 2, 3):
            period = LAST_MONTH
            for _ in range(back):
                period = month_before(period)
            make_reading(household, period, base)
        households.append(household)
    return households


def test_cadre_enters_a_month_corrects_it_and_registers_a_family(
    page, live_server, cadre_a, group_with_history, console_errors
):
    log_in(page, live_server, "kader_a")
    expect(page.get_by_text("0 dari 3 anggota sudah dilaporkan")).to_be_visible()
    page.get_by_role("link", name="Isi pendapatan").click()
    expect(page.get_by_role("heading", name=re.compile(r"\d{4}"))).to_be_visible()

    page.get_by_label("Ani Lestari").fill("1.100.000")
    page.get_by_label("Budi Santoso").fill("satu juta")
    page.get_by_label("Citra Dewi").fill("2,1 jt")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tulis jumlah dalam Rupiah")).to_be_visible()
    assert not IncomeReading.objects.filter(period=LAST_MONTH).exists()

    page.get_by_label("Budi Santoso").fill("Rp 1.600.000")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tersimpan: 3 baru")).to_be_visible()
    saved = dict(IncomeReading.objects.filter(period=LAST_MONTH).values_list("household__head_name", "amount"))
    assert saved == {"Ani Lestari": 1_100_000, "Budi Santoso": 1_600_000, "Citra Dewi": 2_100_000}

    page.get_by_label("Ani Lestari").fill("1.150.000")  # a correction
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("1 dikoreksi")).to_be_visible()

    page.get_by_role("button", name="Menu").click()  # the navigation is collapsed on a phone
    page.get_by_role("link", name="Kelompok saya").click()
    expect(page.get_by_text("3 dari 3 anggota sudah dilaporkan")).to_be_visible()

    page.get_by_role("link", name="Daftarkan keluarga").click()
    page.get_by_label("Nomor KK (16 angka)").fill("7373 0100 0000 0777")
    page.get_by_role("button", name="Lanjut").click()
    page.get_by_label("NIK kepala keluarga (16 angka)").fill("7373015506800777")
    page.get_by_label("Nama kepala keluarga").fill("Dewi Sartika")
    page.get_by_label("Metode KB").select_option("PIL")
    page.get_by_label("Pendapatan pada bulan sebelum bergabung (Rp)").fill("850rb")
    page.get_by_role("button", name="Daftarkan", exact=True).click()
    expect(page.get_by_text("Dewi Sartika bergabung")).to_be_visible()
    household = Household.objects.get(kk_number="7373010000000777")
    assert household.readings.get().amount == 850_000

    # The household page shows the history of Ani's correction, and the chart is drawn.
    page.goto(f"{live_server.url}/keluarga/{group_with_history[0].pk}/")
    correction = page.get_by_role("row").filter(has_text="Rp 1.100.000").filter(has_text="Rp 1.150.000")
    expect(correction).to_contain_text("kader_a")
    assert page.locator("#income-chart").evaluate("c => c.width > 0 && !!Chart.getChart(c)")
    assert console_errors == []


def test_cadre_of_another_group_is_refused(page, live_server, cadre_a, cadre_b, group_with_history, console_errors):
    log_in(page, live_server, "kader_b")
    expect(page.get_by_role("heading", name="Kelompok saya")).to_be_visible()
    expect(page.get_by_text("KWT Melati")).to_have_count(0)
    for path in [
        "/kelompok/KWT-A/isian/",
        "/kelompok/KWT-A/anggota/",
        "/kelompok/KWT-A/daftar/",
        f"/keluarga/{group_with_history[0].pk}/",
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404
        expect(page.get_by_role("heading", name="Halaman tidak ditemukan")).to_be_visible()
        expect(page.get_by_text("Ani Lestari")).to_have_count(0)
    assert [e for e in console_errors if "404" not in e] == []
