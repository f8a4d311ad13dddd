"""Printing a page from the browser gives a clean A4 page: the report, the group page and the
recap without the menu, the footer, buttons or filter forms, their tables whole."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.test_browser import DESKTOP, LAST_MONTH, group_with_history, log_in  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("master_data")]

A4_LANDSCAPE = {"width": 1032, "height": 702}
PAGES = ["/reports/", "/reports/kelompok/KWT-A/", f"/reports/rekap/?as_of={LAST_MONTH:%Y-%m}"]


@pytest.mark.parametrize("path", PAGES)
def test_a_printed_report_page_is_a_clean_a4_page(page, live_server, dppkb_user, group_with_history, console_errors, path):
    log_in(page, live_server, "dppkb_staff")
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + path)
    expect(page.get_by_role("button", name="Keluar")).to_be_attached()
    page.set_viewport_size(A4_LANDSCAPE)  # the printable width: 297 mm less 2 × 12 mm
    page.emulate_media(media="print")
    for hidden in ["nav.navbar", "footer", "main form", "main .btn"]:
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main table").first).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
    assert round(pdf.pages[0].mediabox.width) == 842  # A4 landscape, in points
    text = pdf.pages[0].extract_text()
    assert not re.search(r"\bKeluar\b", text) and "Bahasa Indonesia" not in text  # no menu, no footer
    assert "KWT" in text
    assert console_errors == []
