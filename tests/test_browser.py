"""Each role's main journey in Chromium at phone size (Playwright, against live_server)."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from households.models import Household, IncomeReading
from uppka.months import month_before
from tests.factories import make_member, make_reading

# live_server needs real commits: see the master_data fixture in conftest.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 800}
LAST_MONTH = month_before(timezone.localdate().replace(day=1))


def chart(page, canvas_id, expression="c => Chart.getChart(c)"):
    """Evaluate `expression` on the chart drawn in `canvas_id`, once the page's script has drawn it.

    The chart scripts sit at the end of the body, so a heading can be visible before they run."""
    page.wait_for_function(
        "id => { const c = document.getElementById(id); return !!(c && window.Chart && Chart.getChart(c) && c.width > 0); }",
        arg=canvas_id,
    )
    return page.locator("#" + canvas_id).evaluate(expression)


def wait_for_trends(page):
    """Wait until a page that fetches its pictures over time (dashboard, report page) has them."""
    page.wait_for_function(
        "() => { const h = document.querySelector('[data-trends-src]'); return !h || !!h.querySelector('#trends'); }")


def open_menu(page):
    """Open the phone's collapsed navigation and wait until it has finished sliding open: a tap
    during the slide can land where a button was a moment ago."""
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#nav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    expect(page.locator("#nav")).not_to_have_class(re.compile("collapsing"))


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

    page.get_by_label("Ani Lestari", exact=True).fill("1.100.000")
    page.get_by_label("Budi Santoso", exact=True).fill("satu juta")
    page.get_by_label("Citra Dewi", exact=True).fill("2,1 jt")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.locator(".invalid-feedback").get_by_text("Jumlah hanya berisi angka")).to_be_visible()
    assert not IncomeReading.objects.filter(period=LAST_MONTH).exists()

    page.get_by_label("Budi Santoso", exact=True).fill("Rp 1.600.000")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("Tersimpan: 3 baru")).to_be_visible()
    saved = dict(IncomeReading.objects.filter(period=LAST_MONTH).values_list("household__head_name", "amount"))
    assert saved == {"Ani Lestari": 1_100_000, "Budi Santoso": 1_600_000, "Citra Dewi": 2_100_000}

    page.get_by_label("Ani Lestari", exact=True).fill("1.150.000")  # a correction
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_text("1 dikoreksi")).to_be_visible()

    open_menu(page)  # the navigation is collapsed on a phone
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
    assert chart(page, "income-chart")
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


def add_income_before_joining(households):
    """Readings 8–9 months before last month: before the join, so the families are paired."""
    for household in households:
        for back, amount in ((8, 900_000), (9, 950_000)):
            period = LAST_MONTH
            for _ in range(back):
                period = month_before(period)
            make_reading(household, period, amount + household.pk)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_dppkb_sees_the_dashboard_and_drills_down_to_a_household(
    page, live_server, dppkb_user, group_with_history, console_errors, viewport
):
    from groups.models import Target

    Target.objects.create(year=timezone.localdate().year, households=100)
    add_income_before_joining(group_with_history)
    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(viewport)
    expect(page.get_by_role("heading", name="Dasbor")).to_be_visible()
    expect(page.get_by_text("3 / 100")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Capaian target")).to_be_visible()
    assert chart(page, "opd-chart", "c => Chart.getChart(c).data.datasets[1].data.length > 0")

    page.get_by_role("link", name="Laporan lengkap").click()
    page.get_by_role("link", name="OPD DISTAN – Dinas Pertanian").click()
    expect(page).to_have_url(re.compile(r"opd=DISTAN"))
    page.get_by_role("link", name="KWT-A").click()
    expect(page.get_by_role("heading", name="KWT Melati")).to_be_visible()
    assert chart(page, "members-chart")
    assert chart(page, "changes-chart")
    axes = chart(
        page, "changes-chart", "c => { const s = Chart.getChart(c).options.scales; return [s.x.title.text, s.y.title.text]; }"
    )
    assert axes == ["Perubahan pendapatan bulanan (Rp)", "Keluarga"], axes
    page.get_by_role("link", name="Ani Lestari").click()
    expect(page.get_by_role("heading", name="Ani Lestari")).to_be_visible()
    months = chart(page, "income-chart", "c => Chart.getChart(c).data.labels")
    assert months and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", m) for m in months), months  # "Okt 2026", not 2026-10
    expect(page.get_by_text(re.compile("bulan bergabung dengan kelompok"))).to_be_visible()
    first = page.locator("#income-chart").bounding_box()["height"]
    page.wait_for_timeout(1000)
    assert page.locator("#income-chart").bounding_box()["height"] == first <= 300  # the chart does not keep growing
    expect(page.get_by_role("definition").filter(has_text=group_with_history[0].head_nik)).to_be_visible()  # whole NIK
    assert console_errors == []


def test_opd_user_downloads_the_excel_report_matching_the_page(
    page, live_server, opd_user, group_with_history, console_errors, tmp_path
):
    import openpyxl

    add_income_before_joining(group_with_history)
    log_in(page, live_server, "opd_distan")
    expect(page.get_by_role("heading", name="Pendapatan sebelum dan sesudah bergabung")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="KWT-A")
    cells = row.locator("td").all_inner_texts()
    page.get_by_role("link", name="Unduh Excel").click()  # a job writes it: its page offers the file
    expect(page.get_by_text("Buku kerja sudah siap")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Unduh laporan-uppka-distan-")).click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    assert path.name.startswith("laporan-uppka-distan-")  # the OPD's code, not the user name
    book = openpyxl.load_workbook(path)
    group = next(r for r in book["Kelompok"].iter_rows(min_row=2, values_only=True) if r[0] == "KWT-A")
    rupiah = lambda n: "Rp " + f"{n:,}".replace(",", ".")  # noqa: E731
    assert [str(group[5]), str(group[6]), rupiah(group[7]), rupiah(group[8]), rupiah(group[9])] == cells[5:10]
    assert f"{group[11]:.1f}".replace(".", ",") + "%" == cells[11]
    assert {r[3] for r in book["Kelompok"].iter_rows(min_row=2, values_only=True)} == {"DISTAN"}
    assert console_errors == []


def test_dppkb_uploads_a_workbook_with_errors_fixes_it_and_imports(
    page, live_server, dppkb_user, group_a, console_errors, tmp_path
):
    import openpyxl

    def workbook(kk):
        book = openpyxl.Workbook()
        book.active.title = "Kelompok"
        book["Kelompok"].append(["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan"])
        families = book.create_sheet("Keluarga")
        families.append(["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Jumlah Jiwa",
                         "Metode KB", "Kode Kelompok", "Tanggal Bergabung"])
        families.append([kk, "7373015506800123", "Rina Impor", "73.73.01.1001", 3, "PIL", "KWT-A", "2024-03-01"])
        incomes = book.create_sheet("Pendapatan")
        incomes.append(["No KK", "Periode", "Pendapatan"])
        incomes.append([kk, "2024-02", "1.100.000"])
        path = tmp_path / f"impor-{len(str(kk))}.xlsx"
        book.save(path)
        return path

    log_in(page, live_server, "dppkb_staff")
    page.goto(f"{live_server.url}/impor/")
    page.get_by_label("Buku kerja (.xlsx, .ods atau .xls)").set_input_files(workbook("737301999900012"))  # 15 digits
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_text("Ditemukan 2 masalah")).to_be_visible()  # on both sheets
    for sheet in ("Keluarga", "Pendapatan"):
        expect(page.get_by_role("row").filter(has_text=sheet).filter(has_text="No KK")).to_contain_text("16 angka")
    expect(page.get_by_role("link", name="Unduh buku kerja dengan kolom kesalahan")).to_be_visible()
    assert not Household.objects.exists()

    page.get_by_role("link", name="Unggah berkas lain").click()
    page.get_by_label("Buku kerja (.xlsx, .ods atau .xls)").set_input_files(workbook("7373019999000123"))
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_text("1 keluarga baru")).to_be_visible()
    page.get_by_role("button", name="Impor sekarang").click()
    expect(page.get_by_text("Berhasil diimpor")).to_be_visible()
    household = Household.objects.get(kk_number="7373019999000123")
    assert household.readings.get().amount == 1_100_000
    assert console_errors == []


def test_household_and_member_pages_fit_a_phone(page, live_server, cadre_a, group_with_history, console_errors):
    """Nothing a cadre reads sits off the right edge of a 360 px screen: the change history's
    old and new values, the members' status badges."""
    ani = group_with_history[0]
    reading = ani.readings.order_by("period").first()
    reading.amount = 1_234_567  # a correction in the history: old → new
    reading._history_user = cadre_a
    reading.save()
    membership = group_with_history[1].memberships.get()
    membership.left_on = LAST_MONTH
    membership.save()
    log_in(page, live_server, "kader_a")
    right_edges = "els => els.map(e => e.getBoundingClientRect().right)"
    page.goto(f"{live_server.url}/keluarga/{ani.pk}/")
    history = page.locator("table").last
    expect(history).to_contain_text("Rp 1.234.567")
    assert max(history.locator("td").evaluate_all(right_edges)) <= PHONE["width"]
    page.goto(f"{live_server.url}/kelompok/KWT-A/anggota/")
    assert max(page.locator(".badge").evaluate_all(right_edges)) <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert console_errors == []


def test_kelurahan_choices_follow_the_chosen_kecamatan(page, live_server, dppkb_user, console_errors):
    from groups.models import Kecamatan, Kelurahan

    first, second = Kecamatan.objects.order_by("code")[:2]
    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/reports/")
    kelurahan = page.locator("select[name=kelurahan]")
    offered = "s => Array.from(s.options).filter(o => o.value && !o.disabled).map(o => o.value)"
    assert len(kelurahan.evaluate(offered)) == Kelurahan.objects.count()
    own = Kelurahan.objects.filter(kecamatan=second).order_by("name").first()
    kelurahan.select_option(own.code)
    page.locator("select[name=kecamatan]").select_option(first.code)
    assert sorted(kelurahan.evaluate(offered)) == sorted(Kelurahan.objects.filter(kecamatan=first).values_list("code", flat=True))
    assert kelurahan.input_value() == ""  # the kelurahan of the other kecamatan was let go
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("cell", name=f"Kelompok di Kecamatan {first.name}")).to_be_visible()
    assert console_errors == []


def test_dppkb_checks_the_register_then_closes_the_month(page, live_server, dppkb_user, group_with_history, console_errors):
    from households.models import ClosedMonth
    from households.sheet import reporting_month

    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Kelompok yang pendapatannya belum lengkap").click()
    expect(page.get_by_role("heading", name=re.compile("Register bulanan"))).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("KWT-A"))).to_be_visible()
    page.get_by_role("button", name="Tutup bulan").click()  # not confirmed: the browser asks for the tick
    assert not ClosedMonth.objects.exists()
    page.get_by_label(re.compile("kader tidak dapat lagi mengubahnya")).check()
    page.get_by_role("button", name="Tutup bulan").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^Bulan [A-Z][a-z]+ \d{4} ditutup\.$"))  # not 2026-10
    assert ClosedMonth.objects.filter(period=reporting_month()).exists()
    assert console_errors == []


def test_dppkb_reads_and_filters_the_change_history(page, live_server, dppkb_user, cadre_a, group_with_history, console_errors):
    reading = group_with_history[0].readings.order_by("-period").first()
    reading._history_user = cadre_a
    reading.amount = 1_234_000
    reading.save()
    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Oleh (nama pengguna)").fill("kader_a")
    page.get_by_label("Kode kelompok").fill("KWT-A")
    page.get_by_role("button", name="Tampilkan").click()
    rows = page.locator("table.table-audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(re.compile(r"Pendapatan [A-Z][a-z]+ \d{4}, keluarga Ani Lestari \(KWT-A\)"))
    expect(rows.first).to_contain_text("Rp 1.000.000 → Rp 1.234.000")
    assert console_errors == []


def test_a_job_page_follows_the_progress_then_offers_the_file(
    page, live_server, opd_user, group_with_history, console_errors, settings
):
    """The job waits for a worker; the bar moves as the worker tells its progress, without
    reloading; when the job ends the page shows the file. The worker is played by the test."""
    from jobs.models import Job
    from jobs.tasks import run_job

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}}
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "opd_distan")
    page.goto(f"{live_server.url}/reports/export.xlsx")
    expect(page.get_by_text("Menunggu giliran")).to_be_visible()
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, stage="rows", done=600, total=1200,
                                         beat=timezone.now())
    expect(page.get_by_text("Menulis buku kerja: 600 baris")).to_be_visible()
    assert page.locator("#job-bar").evaluate("bar => bar.value") == 50
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    run_job.call(job.pk)
    expect(page.get_by_text("Buku kerja sudah siap")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Unduh laporan-uppka-distan-"))).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Pekerjaan saya").click()
    expect(page.get_by_role("cell", name="Selesai")).to_be_visible()
    assert console_errors == []
