"""Every page a cadre reaches reads on a 360 px phone without sideways scrolling (issue
"Nothing a cadre types is ever lost", part 5): no page wider than the screen, no table
scrolling inside its box, no text cut off or sticking out of its badge."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import GroupProblem
from households.models import CHANNELS
from households.profiles import save_profile
from tests.factories import make_group, make_member, make_reading, make_user
from tests.test_browser import PHONE, log_in, wait_for_trends
from uppka.months import month_before

# live_server needs real commits: see the master_data fixture in conftest.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]

DESKTOP = {"width": 1366, "height": 800}
LAST_MONTH = month_before(timezone.localdate().replace(day=1))
LONG_NAMES = [
    "Andi Nurul Hikmah Rahmawati Syamsuddin",
    "Muhammad Syahrul Ramadhan Hasanuddin",
    "Sitti Nurhaedah Binti Abdul Rahman",
]

# What the browser reports as too wide on the page it shows: the page itself, any box that
# scrolls or clips sideways, text past the screen's edges, text that overflows its own box,
# a word broken over two lines, a badge over several, a select whose choice does not fit.
FIND_OVERFLOW = r"""() => {
  const width = window.innerWidth;
  const problems = [];
  const name = el => {
    const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 50);
    const classes = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}> "${text}"`;
  };
  const shown = el => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.display !== "none" && style.visibility !== "hidden" && (box.width > 1 || box.height > 1);
  };
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push(`the page is ${page} px wide on a ${width} px screen`);
  const reported = [];  // what lies inside a reported element is not reported again
  const report = (el, text) => { reported.push(el); problems.push(`${name(el)} ${text}`); };
  for (const el of document.body.querySelectorAll("*")) {
    if (!shown(el) || el.closest(".visually-hidden, .visually-hidden-focusable, canvas")) continue;
    if (reported.some(r => r.contains(el))) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    // (A text field scrolls what is typed in it, as every field does.)
    const field = el.matches("input, textarea");
    if (!field && ["auto", "scroll", "hidden", "clip"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      report(el, `scrolls or cuts sideways: ${el.scrollWidth} px inside ${el.clientWidth} px`);
      continue;
    }
    const ownText = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!ownText) continue;
    if (box.right > width + 1 || box.left < -1)
      report(el, `reaches past the screen: ${Math.round(box.left)}–${Math.round(box.right)} px`);
    else if (style.display !== "inline" && el.scrollWidth > el.clientWidth + 1)
      report(el, `is cut off: ${el.scrollWidth} px of text in ${el.clientWidth} px`);
  }
  // A word split over two lines (a narrow column breaking "September" into "Septem" and
  // "ber") is no longer read; words may still break at their hyphens.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!shown(el) || el.closest(".visually-hidden, .visually-hidden-focusable") || reported.some(r => r.contains(el))) continue;
    for (const word of node.textContent.matchAll(/[^\s\-\/–—]{2,}/g)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      if (new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1) {
        report(el, `breaks the word "${word[0]}" over two lines`);
        break;
      }
    }
  }
  // A badge ("keluar 15 Jul 2025") reads as one label only on one line.
  for (const el of document.querySelectorAll(".badge")) {
    if (!shown(el) || reported.some(r => r.contains(el))) continue;
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    if (lines > 1) report(el, `wraps over ${lines} lines`);
  }
  // A select shows its chosen option's text only as far as the box goes (no ellipsis).
  const measure = document.createElement("canvas").getContext("2d");
  for (const el of document.querySelectorAll("select")) {
    if (!shown(el) || el.selectedIndex < 0) continue;
    const style = getComputedStyle(el);
    measure.font = style.font;
    const text = measure.measureText(el.options[el.selectedIndex].text).width;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (text > room + 1) problems.push(`${name(el)} shows its choice cut off: ${Math.round(text)} px of text in ${Math.round(room)} px`);
  }
  return problems;
}"""

# The pages' own <details> (missing households, "Note a problem") are opened, so what they
# hide is checked too; a chart is measured once its script has drawn it.
PREPARE = """() => {
  document.querySelectorAll("main details").forEach(d => d.open = true);
}"""
CHARTS_DRAWN = """() => [...document.querySelectorAll("canvas")].every(c => window.Chart && Chart.getChart(c) && c.width > 0)"""


def months_before(month, n):
    for _ in range(n):
        month = month_before(month)
    return month


@pytest.fixture
def phone_group(db):
    """A cadre's group as a tester found it: long names, a family who left (badge "keluar …"),
    incomes before and after joining, a correction in the change history, a noted problem."""
    group = make_group(
        code="KWT-MAWAR-01", opd_code="DISTAN", name="Kelompok UPPKA Mawar Sejahtera Kelurahan Balandai",
        business="Pengolahan abon ikan, keripik pisang dan kue tradisional",
    )
    cadre = make_user(role="kader", groups=[group], username="kader_mawar",
                      first_name="Hj. Nurhayati", last_name="Binti Abdul Rahman Syamsuddin")
    joined = months_before(LAST_MONTH, 5) + dt.timedelta(days=9)
    households = []
    for name, before, after in zip(LONG_NAMES, (1_250_000, 3_400_000, 950_000), (1_875_000, 2_150_000, 1_100_000)):
        household = make_member(group, head_name=name, joined_on=joined, address="Jl. Dr. Ratulangi No. 123, Lorong 4").household
        for back in (6, 7, 8):
            make_reading(household, months_before(LAST_MONTH, back), before)
        for back in (1, 2, 3):
            make_reading(household, months_before(LAST_MONTH, back), after)
        households.append(household)
    reading = households[0].readings.get(period=months_before(LAST_MONTH, 1))
    reading.amount = 12_345_678  # a correction: old → new in the change history
    reading._history_user = cadre
    reading.save()
    left = households[2].memberships.get()
    left.left_on = months_before(LAST_MONTH, 2).replace(day=15)
    left.save()
    make_member(group, head_name="Baso", joined_on=LAST_MONTH)  # nothing to compare yet
    GroupProblem.objects.create(
        group=group, kind="pasar", noted_on=timezone.localdate(), noted_by=cadre,
        description="Pembeli abon ikan di Pasar Sentral berkurang sejak harga bahan baku naik.",
    )
    save_profile(  # the group's data of the year, long names and every channel on its card
        group=group, year=timezone.localdate().year, by=cadre, channels=[code for code, _n, _l in CHANNELS],
        values={"chair": households[0], "secretary": households[1], "treasurer": households[2],
                "sk_number": "800/123/SK-UPPKA/DPPKB/XII/2024", "business_field": "PERTANIAN_PETERNAKAN",
                "products": "Abon ikan, keripik pisang, kue tradisional", "capital_own": 12_500_000,
                "capital_government": 250_000_000, "turnover": 17_250_000},
    )
    return {"group": group, "cadre": cadre, "households": households}


def cadre_pages(phone_group):
    """Every page a cadre reaches, by the name a failure reports."""
    code = phone_group["group"].code
    first, _second, left = phone_group["households"]
    return {
        "cadre home": "/kader/",
        "group members": f"/kelompok/{code}/anggota/",
        "entry sheet": f"/kelompok/{code}/isian/{LAST_MONTH:%Y-%m}/",
        "registration: search": f"/kelompok/{code}/daftar/",
        "registration: new family": f"/kelompok/{code}/daftar/?kk_number=7373010000000999",
        "household with a correction": f"/keluarga/{first.pk}/",
        "household who left": f"/keluarga/{left.pk}/",
        "report list": "/reports/",
        "group report": f"/reports/kelompok/{code}/",
        "group data form": f"/kelompok/{code}/data/{timezone.localdate().year}/",
        "group data form, last year": f"/kelompok/{code}/data/{timezone.localdate().year - 1}/",
        "group data of the year": "/reports/data-kelompok/",
        "password change": "/accounts/password/",
        "password changed": "/accounts/password/done/",
        "not allowed (closing months)": "/bulan/",
        "not found": "/keluarga/999999/",
    }


def overflow_on(page):
    page.evaluate(PREPARE)
    page.wait_for_function(CHARTS_DRAWN)
    return page.evaluate(FIND_OVERFLOW)


def test_every_page_a_cadre_reaches_fits_a_phone(page, live_server, phone_group, console_errors):
    found = {}
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    found["log in"] = overflow_on(page)
    log_in(page, live_server, "kader_mawar")
    expect(page.get_by_role("heading", name="Kelompok saya")).to_be_visible()
    page.get_by_role("button", name="Menu").click()  # the navigation, opened, with the cadre's long name
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    found["navigation menu"] = overflow_on(page)
    for where, path in cadre_pages(phone_group).items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status in (200, 403, 404), f"{where}: {response.status}"
        wait_for_trends(page)
        found[where] = overflow_on(page)

    # The forms as they come back with their errors.
    page.goto(f"{live_server.url}/kelompok/{phone_group['group'].code}/isian/{LAST_MONTH:%Y-%m}/")
    page.get_by_label(LONG_NAMES[0], exact=True).fill("satu juta dua ratus ribu rupiah")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.get_by_role("alert").first).to_be_visible()  # nothing saved, the row marked
    found["entry sheet with an error"] = overflow_on(page)
    page.goto(f"{live_server.url}/kelompok/{phone_group['group'].code}/daftar/?kk_number=7373010000000999")
    page.get_by_role("button", name="Daftarkan", exact=True).click()
    found["registration with errors"] = overflow_on(page)
    page.goto(f"{live_server.url}/accounts/password/")
    page.get_by_role("button", name="Simpan").click()
    found["password change with errors"] = overflow_on(page)

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Keluar").click()
    found["logged out"] = overflow_on(page)

    failures = [f"{where}: {problem}" for where, problems in found.items() for problem in problems]
    assert not failures, "at 360 px:\n" + "\n".join(failures)
    assert [e for e in console_errors if "403" not in e and "404" not in e] == []


def test_group_report_shows_each_members_figures_on_a_phone(page, live_server, phone_group):
    """On a phone the members' table becomes one card per family; before, after and the
    change stay on screen with their labels."""
    log_in(page, live_server, "kader_mawar")
    page.goto(f"{live_server.url}/reports/kelompok/{phone_group['group'].code}/")
    card = page.get_by_role("row").filter(has_text=LONG_NAMES[0])
    # After: the mean of the latest three, the corrected 12.345.678 among them.
    for label, value in [("Sebelum", "Rp 1.250.000"), ("Sesudah", "Rp 5.365.226"), ("Perubahan", "Rp 4.115.226")]:
        cell = card.locator(f"td[data-label='{label}']")
        expect(cell).to_be_visible()
        expect(cell).to_contain_text(value)
        assert cell.evaluate("c => c.getBoundingClientRect().right") <= PHONE["width"]
    left = page.get_by_role("row").filter(has_text=LONG_NAMES[2])
    expect(left.locator(".badge")).to_have_text("keluar")


def test_tables_stay_tables_on_a_desktop(page, live_server, phone_group):
    """The cards are for phones only: a desktop keeps the tables and their headers."""
    log_in(page, live_server, "kader_mawar")
    page.set_viewport_size(DESKTOP)
    first = phone_group["households"][0]
    code = phone_group["group"].code
    for path in ["/reports/", f"/reports/kelompok/{code}/", f"/kelompok/{code}/anggota/", f"/keluarga/{first.pk}/"]:
        page.goto(f"{live_server.url}{path}")
        wait_for_trends(page)
        page.evaluate("() => document.querySelectorAll('main details').forEach(d => { d.open = true; })")  # figures too
        for table in page.locator("main table").all():
            expect(table.locator("thead")).to_be_visible()
            assert table.evaluate("t => getComputedStyle(t.querySelector('tbody tr')).display") == "table-row", path


# Text at 200 % (WCAG 1.4.4), as a phone's "large text" setting does: the root font size is
# doubled, so everything Bootstrap sizes in rem doubles with it.
LARGE_TEXT = "() => { document.documentElement.style.fontSize = '200%'; }"
# A number cut off inside its field (an amount, a KK number): more digits than the field
# shows. (Free text scrolls inside its field, as in every field.)
CLIPPED_VALUES = r"""() => [...document.querySelectorAll("input[data-amount], input[inputmode=decimal], input[inputmode=numeric], input[name=kk_number]")]
  .filter(i => i.offsetParent && i.value && i.scrollWidth > i.clientWidth + 1)
  .map(i => `${i.id} shows ${i.clientWidth} px of its ${i.scrollWidth} px value "${i.value}"`)"""




def test_pages_work_at_200_percent_text_on_a_phone(page, live_server, phone_group):
    """At twice the text size on a 360 px phone every page a cadre reaches (the entry sheet with
    amounts typed in every row, the household page, the group report…) neither scrolls
    sideways nor cuts values off."""
    log_in(page, live_server, "kader_mawar")
    found = {}
    for where, path in cadre_pages(phone_group).items():
        page.goto(f"{live_server.url}{path}")
        wait_for_trends(page)
        page.evaluate(LARGE_TEXT)
        for field in page.locator("input[data-amount]").all():
            field.fill("12.345.678")
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 32, where
        found[where] = overflow_on(page) + page.evaluate(CLIPPED_VALUES)
    page.goto(f"{live_server.url}/kelompok/{phone_group['group'].code}/isian/{LAST_MONTH:%Y-%m}/")
    page.get_by_label(LONG_NAMES[0], exact=True).fill("satu juta dua ratus ribu rupiah")
    page.get_by_role("button", name="Simpan semua").click()
    expect(page.locator("#sheet-problems")).to_be_visible()
    page.evaluate(LARGE_TEXT)
    found["entry sheet with an error"] = overflow_on(page)
    page.goto(f"{live_server.url}/kader/")
    page.evaluate(LARGE_TEXT)
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Keluar")).to_be_in_viewport()
    found["navigation menu"] = overflow_on(page)
    failures = [f"{where}: {problem}" for where, problems in found.items() for problem in problems]
    assert not failures, "at 200 % text on a 360 px phone:\n" + "\n".join(failures)


def test_log_out_stays_on_screen_on_a_desktop_at_200_percent_text(page, live_server, phone_group):
    log_in(page, live_server, "kader_mawar")
    page.set_viewport_size(DESKTOP)
    page.evaluate(LARGE_TEXT)
    logout = page.get_by_role("button", name="Keluar")
    if not logout.is_visible():
        page.get_by_role("button", name="Menu").click()
    expect(logout).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
