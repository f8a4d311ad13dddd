"""A cadre fills in the group's yearly data on a phone (Playwright, Debian's Chromium)."""


import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.models import GroupProfile, KbMethod
from tests.factories import make_member
from tests.test_browser import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]
YEAR = timezone.localdate().year


def choose(page, office, name):
    """Tick a member's radio button in an office's column of the officers' table."""
    page.get_by_label(f"{office}: {name}").check()


def test_cadre_fills_in_the_group_data_on_a_phone(page, live_server, cadre_a, group_a, console_errors):
    make_member(group_a, head_name="Ani Lestari", kb_method=KbMethod.TIDAK)
    make_member(group_a, head_name="Budi Santoso")
    make_member(group_a, head_name="Citra Dewi")
    log_in(page, live_server, "kader_a")
    page.get_by_role("link", name="KWT Melati").click()
    expect(page.get_by_text(f"Belum ada data kelompok {YEAR}")).to_be_visible()
    page.locator("#data").get_by_role("link", name="Isi").click()
    expect(page.get_by_role("heading", name=f"Data kelompok {YEAR}")).to_be_visible()

    page.get_by_label("Nomor SK").fill("12/SK/UPPKA/2024")
    page.get_by_label("Tanggal SK").fill(f"{YEAR}-01-02")
    choose(page, "Ketua", "Ani Lestari")
    choose(page, "Sekretaris", "Budi Santoso")
    choose(page, "Bendahara", "Budi Santoso")
    page.get_by_label("Olahan pangan", exact=True).check()
    page.get_by_label("Produk").fill("Keripik pisang")
    page.get_by_label("Modal: Sendiri (anggota)").fill("Rp 2.500.000")
    page.get_by_label("Modal: Bantuan pemerintah").fill("5 jt")
    page.get_by_label("Pasar lokal").check()
    page.get_by_label("Daring (online)").check()
    page.get_by_label("Rata-rata omzet per bulan (boleh kosong)").fill("1,25 jt")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Keluarga ini sudah memegang jabatan lain")).to_be_visible()
    assert not GroupProfile.objects.exists()

    choose(page, "Bendahara", "Citra Dewi")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text(f"Data kelompok tahun {YEAR} tersimpan")).to_be_visible()
    expect(page.get_by_text("Keluarga ketua bukan akseptor")).to_be_visible()  # a warning, saved all the same
    card = page.locator("#data")
    expect(card).to_contain_text("Ani Lestari")
    expect(card).to_contain_text("Rp 7.500.000")
    expect(card).to_contain_text("Pasar lokal, Daring (online)")
    expect(card).to_contain_text("Rp 1.250.000")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    profile = GroupProfile.objects.get()
    assert (profile.chair.head_name, profile.treasurer.head_name, profile.capital_government, profile.turnover) == (
        "Ani Lestari", "Citra Dewi", 5_000_000, 1_250_000)
    assert console_errors == []
