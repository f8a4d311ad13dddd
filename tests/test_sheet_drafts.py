"""Nothing a cadre types on the entry sheet is lost, on a 360 px phone in Chromium: a dropped
connection, an expired session, a tap on a link, a second saver. The sheet leads to what is
missing and to the rows that need checking."""

import re

import pytest
from playwright.sync_api import expect

from households.models import IncomeReading
from tests.factories import make_reading, make_user
from tests.test_browser import LAST_MONTH, PHONE, group_with_history, log_in, open_menu  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]

SHEET = f"/kelompok/KWT-A/isian/{LAST_MONTH:%Y-%m}/"


def saved():
    return dict(IncomeReading.objects.filter(period=LAST_MONTH).values_list("household__head_name", "amount"))


def drafts(page):
    return page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('uppka-draft:'))")


def accept_leaving(page):
    """Accept the 'leave this page?' question and remember that it was asked."""
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    return asked


def open_sheet(page, live_server, username="kader_a"):
    log_in(page, live_server, username)
    page.goto(live_server.url + SHEET)
    expect(page.locator("#sheet-count")).to_have_text("0/3 terisi")


def open_sheet_with_a_meeting(page, live_server):
    """The sheet, with a meeting on the 6th added from it (ticks are "Hadir 6")."""
    open_sheet(page, live_server)
    page.get_by_label("Tanggal").fill(LAST_MONTH.replace(day=6).isoformat())
    page.get_by_label("Topik").fill("Penyuluhan KB")
    page.get_by_role("button", name="Tambahkan pertemuan").click()
    expect(page.get_by_text("Penyuluhan KB")).to_be_visible()


def test_a_dropped_connection_keeps_the_sheet_and_a_reload_restores_it(
    page, live_server, cadre_a, group_with_history, console_errors
):
    open_sheet(page, live_server)
    asked = accept_leaving(page)
    page.get_by_label("Ani Lestari", exact=True).fill("1.100.000")
    page.get_by_label("Budi Santoso", exact=True).fill("1.600.000")
    expect(page.locator("#draft-status")).to_have_text("Belum disimpan: isian Anda baru ada di ponsel ini.")
    page.context.set_offline(True)
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_role("alert").filter(has_text="Tidak ada sambungan")).to_be_visible()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_value("1.100.000")  # the sheet is still there
    assert saved() == {}

    page.context.set_offline(False)
    page.reload()  # or the phone's browser closed: the draft is on the phone
    assert asked == ["beforeunload"]
    expect(page.get_by_role("status").filter(has_text="dipulihkan dari ponsel ini (2 baris)")).to_be_visible()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_value("1.100.000")
    expect(page.get_by_label("Budi Santoso", exact=True)).to_have_value("1.600.000")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tersimpan: 2 baru")).to_be_visible()
    assert saved() == {"Ani Lestari": 1_100_000, "Budi Santoso": 1_600_000}
    assert drafts(page) == []  # saved: the draft is gone from the phone
    page.reload()
    expect(page.get_by_role("status").filter(has_text="dipulihkan")).to_be_hidden()
    assert [e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []  # the failed save


def test_a_save_after_the_session_expired_comes_back_to_the_sheet_with_what_was_typed(
    page, live_server, cadre_a, group_with_history, console_errors
):
    open_sheet(page, live_server)
    page.get_by_label("Citra Dewi", exact=True).fill("2,1 jt")
    page.context.clear_cookies(name="sessionid")  # the working day ended
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_label("Nama pengguna")).to_be_visible()
    page.get_by_label("Nama pengguna").fill("kader_a")
    page.get_by_label("Sandi").fill("test-pass-123")
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(re.compile(re.escape(SHEET) + "$"))
    expect(page.get_by_label("Citra Dewi", exact=True)).to_have_value("2,1 jt")
    expect(page.get_by_role("status").filter(has_text="dipulihkan")).to_be_visible()
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tersimpan: 1 baru")).to_be_visible()
    assert saved() == {"Citra Dewi": 2_100_000}
    assert console_errors == []


def test_leaving_asks_first_and_coming_back_restores(page, live_server, cadre_a, group_with_history, console_errors):
    open_sheet(page, live_server)
    asked = accept_leaving(page)
    page.get_by_label("Ani Lestari", exact=True).fill("1.250.000")
    page.get_by_role("link", name="Rincian keluarga Budi Santoso").click()
    expect(page.get_by_role("heading", name="Budi Santoso")).to_be_visible()
    assert asked == ["beforeunload"]
    page.go_back()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_value("1.250.000")
    # The name is the field's label, not a link: tapping it goes to the field.
    page.locator("label").filter(has_text=re.compile("^Budi Santoso$")).click()
    expect(page.get_by_label("Budi Santoso", exact=True)).to_be_focused()
    assert console_errors == []


def test_logging_out_leaves_no_draft_and_the_next_user_finds_none(
    page, live_server, cadre_a, group_with_history, console_errors
):
    make_user(role="kader", groups=[group_with_history[0].memberships.get().group], username="kader_c")
    open_sheet(page, live_server)
    accept_leaving(page)
    page.get_by_label("Ani Lestari", exact=True).fill("1.250.000")
    assert len(drafts(page)) == 1
    open_menu(page)
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_label("Nama pengguna")).to_be_visible(timeout=15_000)
    assert drafts(page) == []

    # A session that simply expired keeps the draft for its owner, never for the next user.
    open_sheet(page, live_server)
    page.get_by_label("Ani Lestari", exact=True).fill("1.250.000")
    page.context.clear_cookies(name="sessionid")
    assert len(drafts(page)) == 1
    open_sheet(page, live_server, "kader_c")
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_value("")
    assert drafts(page) == []
    assert console_errors == []


def test_a_second_saver_sees_both_amounts_and_chooses(page, live_server, cadre_a, group_with_history, console_errors):
    ani = group_with_history[0]
    open_sheet(page, live_server)
    page.get_by_label("Ani Lestari", exact=True).fill("1.770.000")
    make_reading(ani, LAST_MONTH, 1_830_000)  # another cadre saved Ani meanwhile
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_role("alert").filter(has_text="Orang lain sudah menyimpan bulan ini untuk Ani Lestari")).to_be_visible()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_value("1.770.000")
    expect(page.get_by_label("Ani Lestari", exact=True)).to_be_focused()
    page.get_by_label("Pakai jumlah saya (di atas)").check()
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("1 dikoreksi")).to_be_visible()
    assert saved() == {"Ani Lestari": 1_770_000}
    assert console_errors == []


def test_the_sheet_leads_to_what_is_missing_and_to_the_rows_to_check(
    page, live_server, cadre_a, group_with_history, console_errors
):
    open_sheet(page, live_server)
    rows = page.locator("[data-row]")
    expect(rows.locator(".sheet-missing-badge:visible")).to_have_count(3)
    page.get_by_label("Budi Santoso", exact=True).fill("1.600.000")
    expect(page.locator("#sheet-count")).to_have_text("1/3 terisi")
    expect(rows.locator(".sheet-missing-badge:visible")).to_have_count(2)
    page.get_by_role("link", name="Ke baris kosong berikutnya").click()
    expect(page.get_by_label("Citra Dewi", exact=True)).to_be_focused()  # after Budi, the next empty one

    page.get_by_label("Ani Lestari", exact=True).fill("12.5OO")
    page.get_by_label("Citra Dewi", exact=True).fill("9.000.000")  # far from her usual Rp 2.000.000
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_role("alert").filter(has_text="2 baris perlu diperiksa")).to_be_visible()
    expect(page.locator(".invalid-feedback").get_by_text("Ada huruf O di tempat angka nol")).to_be_visible()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_be_focused()
    expect(page.get_by_label("Ani Lestari", exact=True)).to_have_attribute("aria-invalid", "true")
    # The summary names each row to check; its link takes the cursor there.
    summary = page.locator("#sheet-problems")
    expect(summary).to_contain_text("Ani Lestari: Ada huruf O di tempat angka nol")
    summary.get_by_role("link", name="Citra Dewi").click()
    expect(page.get_by_label("Citra Dewi", exact=True)).to_be_focused()
    described = page.get_by_label("Citra Dewi", exact=True).get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("jauh dari pendapatan biasanya")
    # Only fields with a problem are described by one, and every description exists.
    assert page.evaluate("""() => [...document.querySelectorAll('[aria-describedby]')]
        .flatMap(e => e.getAttribute('aria-describedby').split(' ')).filter(id => !document.getElementById(id))""") == []
    confirm = page.get_by_label(re.compile("^Ya, jumlah ini benar.*Citra Dewi$"))  # the tick names the member
    box = page.locator(".sheet-check").filter(has=confirm).bounding_box()
    assert box["height"] >= 44, box  # a touch target, not a 16 px box
    assert page.get_by_role("link", name="Rincian keluarga Ani Lestari").bounding_box()["height"] >= 44
    page.get_by_label("Ani Lestari", exact=True).fill("1.250.000")
    confirm.check()
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tersimpan: 3 baru")).to_be_visible()
    assert saved() == {"Ani Lestari": 1_250_000, "Budi Santoso": 1_600_000, "Citra Dewi": 9_000_000}
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert console_errors == []


def test_a_cadre_records_and_submits_a_month_and_dppkb_sees_it_in_the_recap(
    page, live_server, cadre_a, dppkb_user, group_with_history, console_errors
):
    """SPEC section 8 on a 360 px phone: a meeting, ticks, a KB change with its reason, the
    incomes, then the month's report; the recap counts them."""
    from households.models import KbStatus, MonthlyReport

    open_sheet_with_a_meeting(page, live_server)
    ani = page.locator("[data-row]").filter(has_text="Ani Lestari")
    budi = page.locator("[data-row]").filter(has_text="Budi Santoso")
    ani.get_by_label("Hadir 6").check()
    budi.get_by_label("Hadir 6").check()
    expect(budi.get_by_label("Alasan (tidak ber-KB)")).to_be_hidden()  # only for "no method"
    budi.get_by_label("Metode KB").select_option("TIDAK")
    budi.get_by_label("Alasan (tidak ber-KB)").select_option("HAMIL")
    page.reload()  # the draft keeps ticks and methods too
    expect(page.get_by_role("status").filter(has_text="dipulihkan")).to_be_visible()
    expect(budi.get_by_label("Alasan (tidak ber-KB)")).to_have_value("HAMIL")
    expect(ani.get_by_label("Hadir 6")).to_be_checked()
    page.get_by_label("Ani Lestari", exact=True).fill("1.100.000")
    page.get_by_label("Budi Santoso", exact=True).fill("1.600.000")
    page.get_by_label("Citra Dewi", exact=True).fill("2.100.000")
    page.get_by_role("button", name="Kirim laporan bulan ini").click()  # not before saving
    expect(page.get_by_role("alert").filter(has_text="Simpan lembar ini dulu")).to_be_visible()
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Metode KB berubah untuk 1 keluarga")).to_be_visible()
    page.get_by_role("button", name="Kirim laporan bulan ini").click()
    expect(page.get_by_text("Dikirim oleh kader_a")).to_be_visible()
    assert MonthlyReport.objects.filter(period=LAST_MONTH).count() == 1
    assert KbStatus.objects.get(period=LAST_MONTH).reason == "HAMIL"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width

    log_in(page, live_server, "dppkb_staff")
    page.goto(f"{live_server.url}/reports/rekap/?as_of={LAST_MONTH:%Y-%m}")
    city = page.get_by_role("row").filter(has_text="Kota Palopo")
    expect(city.locator('[data-label="Kelompok melapor"]')).to_have_text("1")
    expect(city.locator('[data-label="Keluarga hadir"]')).to_have_text("2")
    expect(city.locator('[data-label="Tidak KB: hamil"]')).to_have_text("1")
    assert [e for e in console_errors if "beforeunload" not in e] == []


def test_a_refused_save_keeps_the_changed_method_and_ticks_on_the_phone(
    page, live_server, cadre_a, group_with_history, console_errors
):
    """A save refused for a bad amount shows the sheet as sent; leaving it then and coming
    back restores the method change and the tick too, not only the amounts."""
    from households.models import KbStatus, Meeting

    open_sheet_with_a_meeting(page, live_server)
    budi = page.locator("[data-row]").filter(has_text="Budi Santoso")
    budi.get_by_label("Hadir 6").check()
    budi.get_by_label("Metode KB").select_option("TIDAK")
    budi.get_by_label("Alasan (tidak ber-KB)").select_option("IAT")
    page.get_by_label("Ani Lestari", exact=True).fill("satu juta")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Jumlah hanya berisi angka").first).to_be_visible()  # refused: nothing saved
    assert not KbStatus.objects.filter(period=LAST_MONTH).exists()
    assert not Meeting.objects.get().attendees.exists()

    accept_leaving(page)
    page.goto(live_server.url + SHEET)  # e.g. the phone's browser reopened later
    expect(page.get_by_role("status").filter(has_text="dipulihkan")).to_be_visible()
    expect(budi.get_by_label("Metode KB")).to_have_value("TIDAK")
    expect(budi.get_by_label("Alasan (tidak ber-KB)")).to_have_value("IAT")
    expect(budi.get_by_label("Hadir 6")).to_be_checked()
    page.get_by_label("Ani Lestari", exact=True).fill("1.000.000")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Metode KB berubah untuk 1 keluarga")).to_be_visible()
    assert KbStatus.objects.get(period=LAST_MONTH).reason == "IAT"
    assert Meeting.objects.get().attendees.get().head_name == "Budi Santoso"
    assert [e for e in console_errors if "beforeunload" not in e] == []
