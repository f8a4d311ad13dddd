"""WCAG 2.2 AA in Chromium (issue 19): axe-core checks every page a cadre (at 360 px), an OPD
user and DPPKB (at 1366 px) reach, the login and the error states, and fails on any
violation. The crawl comes from the URL × persona MATRIX of test_permissions.py: each HTML
page a persona may open (a 200 there) is opened here with real data behind it."""

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import GroupProblem, Target
from households.models import Meeting, MeetingMode
from jobs.models import Job
from tests.factories import make_member, make_reading
from tests.test_browser import DESKTOP, LAST_MONTH, PHONE, log_in, open_menu, wait_for_trends
from tests.test_permissions import ADMIN_SAMPLES, MATRIX, PERSONAS
from uppka.months import month_before

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]

# There is no "wcag22a" tag in axe-core: WCAG 2.2's new A criteria are under wcag2a/wcag21a.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
AXE = Axe()

# Downloads and redirects are not pages to read (POST-only views are left out by their method).
NOT_PAGES = {"favicon", "reports:export", "reports:recap_export", "households:import_template",
             "households:import_data", "households:import_errors", "households:entry_sheet_default", "home",
             "households:register_print", "reports:card", "reports:report_print", "reports:group_data_export",
             # fragments their pages fetch (checked there, once drawn)
             "reports:dashboard_trends", "reports:report_trends",
             # a job's state for its page's script, its file
             "jobs:status", "jobs:download"}


def pages_for(persona, world):
    """(name, path) of every page the MATRIX lets `persona` open, with this test's objects."""
    index = PERSONAS.index(persona)
    for name, (method, kwargs, expected) in sorted(MATRIX.items()):
        if method != "get" or name in NOT_PAGES or expected[index] != 200:
            continue
        yield name, reverse(name, kwargs={k: world.get(v, v) for k, v in (kwargs or {}).items()})


class Audit:
    """Runs axe on each page state and collects what it finds, so one run lists them all."""

    def __init__(self, page):
        self.page, self.found, self.states = page, {}, []

    def check(self, where):
        self.page.wait_for_load_state("load")
        # Colours at rest: the pointer away from the button it last pressed (a hovered
        # button is measured halfway through its colour change otherwise).
        self.page.mouse.move(0, 0)
        # Scrolled to the end: the entry sheet's sticky Save bar then rests in its own place;
        # anywhere else it covers a strip of whatever row scrolls under it, and axe would
        # measure that row's controls as too small to tap.
        self.page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        results = AXE.run(self.page, options=AXE_OPTIONS)
        self.states.append(where)
        if results.violations_count:
            self.found[where] = results.generate_report()

    def visit(self, where, path, statuses=(200,)):
        response = self.page.goto(self.origin + path)
        assert response.status in statuses, f"{where}: {response.status}"
        wait_for_trends(self.page)
        self.page.evaluate("() => document.querySelectorAll('main details').forEach(d => d.open = true)")
        self.check(where)

    def assert_clean(self):
        assert self.states
        report = "\n\n".join(f"== {where} ==\n{text}" for where, text in self.found.items())
        assert not self.found, f"axe found violations on {len(self.found)} of {len(self.states)} page states:\n{report}"


@pytest.fixture
def audit(page, live_server):
    page.emulate_media(reduced_motion="reduce")  # Bootstrap then changes colours without a transition
    checker = Audit(page)
    checker.origin = live_server.url
    return checker


@pytest.fixture
def world(group_a, group_with_history_a, cadre_a, opd_user, dppkb_user):
    """Group A with three families (incomes before and after joining, one who left), a meeting
    with ticks, a noted problem and the year's target: no page is empty."""
    households = group_with_history_a
    Target.objects.create(year=timezone.localdate().year, households=100)
    meeting = Meeting.objects.create(group=group_a, held_on=LAST_MONTH.replace(day=6), mode=MeetingMode.TATAP_MUKA,
                                     topic="Penyuluhan KB")
    problem = GroupProblem.objects.create(group=group_a, kind="pasar", noted_on=timezone.localdate(),
                                          description="Harga bahan baku naik.")
    # The OPD user's jobs: one running (its page shows the bar; its worker beats "tomorrow" so
    # that it stays running through the test), one failed.
    running = Job.objects.create(owner=opd_user, kind=Job.Kind.REPORT, label="laporan-uppka-distan-2026-10.xlsx",
                                 status=Job.Status.RUNNING, stage="rows", done=300, total=1200,
                                 started=timezone.now(), beat=timezone.now() + dt.timedelta(days=1))
    failed = Job.objects.create(owner=opd_user, kind=Job.Kind.RECAP, label="rekap-uppka-distan-2026-10.xlsx",
                                status=Job.Status.FAILED, message="Pekerja berhenti.", finished=timezone.now())
    return {"household": households[0].pk, "membership": households[0].memberships.get().pk,
            "problem": problem.pk, "meeting": meeting.pk, "job": running.pk, "failed_job": failed.pk,
            "2024-05": f"{LAST_MONTH:%Y-%m}"}  # the MATRIX's month: here last month, which has data


@pytest.fixture
def group_with_history_a(group_a):
    joined = month_before(month_before(LAST_MONTH)) - dt.timedelta(days=120)
    households = []
    for name, before, after in [("Ani Lestari", 1_000_000, 1_200_000), ("Budi Santoso", 1_500_000, 1_400_000),
                                ("Citra Dewi", 2_000_000, 2_600_000)]:
        household = make_member(group_a, head_name=name, joined_on=joined).household
        period = month_before(LAST_MONTH)
        for back in range(8):
            make_reading(household, period, after if back < 3 else before)
            period = month_before(period)
        households.append(household)
    left = households[2].memberships.get()
    left.left_on = month_before(LAST_MONTH).replace(day=15)
    left.save()
    return households


def test_every_page_of_each_role_passes_axe(page, live_server, world, audit, group_a):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    audit.check("login")
    page.get_by_label("Nama pengguna").fill("kader_a")
    page.get_by_label("Sandi").fill("wrong-password")
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator(".alert-danger").first).to_be_visible()
    audit.check("login refused")

    for persona, username, viewport in [("cadre_a", "kader_a", PHONE), ("opd_user", "opd_distan", DESKTOP),
                                        ("dppkb_user", "dppkb_staff", DESKTOP)]:
        log_in(page, live_server, username)
        page.set_viewport_size(viewport)
        if viewport == PHONE:
            open_menu(page)
            audit.check(f"{persona}: navigation menu opened")
        for name, path in pages_for(persona, world):
            audit.visit(f"{persona}: {name}", path)
        code = group_a.code
        audit.visit(f"{persona}: report with a bad filter", "/reports/?as_of=2999-01&opd=NOPE", statuses=(400,))
        audit.visit(f"{persona}: group report with a bad month", f"/reports/kelompok/{code}/?as_of=bulan", statuses=(200, 400))
        audit.visit(f"{persona}: not found", "/keluarga/999999/", statuses=(404,))
        # "Note a problem" sent empty: the page says which field is missing.
        page.goto(f"{live_server.url}/reports/kelompok/{code}/")
        page.locator("details", has_text="Catat kendala").locator("summary").click()
        page.locator("#id_kind").select_option("")
        page.get_by_role("button", name="Simpan").click()
        expect(page.get_by_role("alert").first).to_be_visible()
        audit.check(f"{persona}: problem refused")
        page.goto(f"{live_server.url}/accounts/password/")
        page.get_by_role("button", name="Simpan").click()
        audit.check(f"{persona}: password change refused")
        if persona == "cadre_a":
            sheet_errors(page, live_server, audit, code)
            audit.visit(f"{persona}: not allowed", "/bulan/", statuses=(403,))
        if persona == "opd_user":
            audit.visit(f"{persona}: a failed job", f"/pekerjaan/{world['failed_job']}/")
            audit.visit(f"{persona}: a workbook ready", "/reports/export.xlsx")
        if persona == "dppkb_user":
            audit.visit(f"{persona}: month register", f"/reports/bulan/{LAST_MONTH:%Y-%m}/")
            import_errors(page, live_server, audit)
            # The master data ("Data induk"): Django's admin, behind DPPKB's menu.
            samples = [*ADMIN_SAMPLES, ("admin:groups_group_change", {"object_id": group_a.pk}),
                       ("admin:groups_kecamatan_change", {"object_id": group_a.kelurahan.kecamatan_id})]
            for name, kwargs in samples:
                audit.visit(f"{persona}: {name}", reverse(name, kwargs={k: world.get(v, v) for k, v in (kwargs or {}).items()}))
        page.goto(f"{live_server.url}/kader/" if persona == "cadre_a" else f"{live_server.url}/reports/")
        if viewport == PHONE:
            open_menu(page)
        page.get_by_role("button", name="Keluar").click()
        expect(page).to_have_url(re.compile("/accounts/logout/|/accounts/login/"))
        audit.check(f"{persona}: logged out")
    audit.assert_clean()


def sheet_errors(page, live_server, audit, code):
    """The entry sheet refusing a save: a bad amount, an amount to confirm, a missing reason."""
    page.goto(f"{live_server.url}/kelompok/{code}/isian/{LAST_MONTH:%Y-%m}/")
    page.get_by_label("Ani Lestari", exact=True).fill("satu juta")
    page.get_by_label("Budi Santoso", exact=True).fill("90.000.000")
    page.locator("select[data-kb]").first.select_option("TIDAK")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.locator("#sheet-problems")).to_be_visible()
    audit.check("cadre_a: entry sheet refused")
    registration = f"{live_server.url}/kelompok/{code}/daftar/?kk_number=7373010000000999"
    page.goto(registration)
    page.get_by_role("button", name="Daftarkan", exact=True).click()
    audit.check("cadre_a: registration refused")
    page.goto(f"{live_server.url}/kelompok/{code}/daftar/?kk_number=123")
    audit.check("cadre_a: KK search refused")


def import_errors(page, live_server, audit):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Kelompok"
    book["Kelompok"].append(["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan"])
    families = book.create_sheet("Keluarga")
    families.append(["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Jumlah Jiwa",
                     "Metode KB", "Kode Kelompok", "Tanggal Bergabung"])
    families.append(["737301999900012", "7373015506800123", "Rina Impor", "73.73.01.1001", 3, "PIL", "KWT-A", "2024-03-01"])
    incomes = book.create_sheet("Pendapatan")
    incomes.append(["No KK", "Periode", "Pendapatan"])
    incomes.append(["737301999900012", "2024-02", "1.100.000"])
    path = f"/tmp/uppka-axe-{id(book)}.xlsx"
    book.save(path)
    page.goto(f"{live_server.url}/impor/")
    page.get_by_label("Buku kerja (.xlsx, .ods atau .xls)").set_input_files(path)
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_text(re.compile("Ditemukan \\d+ masalah"))).to_be_visible()
    audit.check("dppkb_user: import with errors")
    page.goto(f"{live_server.url}/impor/")
    page.get_by_role("button", name="Unggah").click()
    audit.check("dppkb_user: import without a file")


# What is smaller than 44 × 44 px among what a cadre taps (WCAG 2.5.5); a tick or a radio
# counts by its whole line (its label), which is what a finger hits.
SMALL_TARGETS = r"""() => [...document.querySelectorAll(
    "main input:not([type=hidden]), main select, main button, main a.btn, main summary, main .sheet-next, nav button, nav .nav-link, footer button, main .breadcrumb a")]
  .filter(el => el.offsetParent && getComputedStyle(el).visibility !== "hidden")
  .map(el => el.matches("[type=checkbox], [type=radio]") ? el.closest(".form-check") || el : el)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.width < 44 || box.height < 44)
  .map(([el, box]) => `<${el.tagName.toLowerCase()} ${el.className}> "${(el.innerText || el.name || "").trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`)"""


def test_what_a_cadre_taps_on_the_sheet_is_44_px(page, live_server, world, group_a):
    log_in(page, live_server, "kader_a")
    page.goto(f"{live_server.url}/kelompok/{group_a.code}/isian/{LAST_MONTH:%Y-%m}/")
    page.get_by_label("Budi Santoso", exact=True).fill("90.000.000")  # far from usual: a tick to confirm
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.locator("#sheet-problems")).to_be_visible(timeout=15_000)  # a busy machine answers slowly
    page.evaluate("() => document.querySelectorAll('main details').forEach(d => d.open = true)")
    page.get_by_role("button", name="Menu").click()
    assert page.evaluate(SMALL_TARGETS) == []
