"""How long a new cadre needs to enter a 20-member month on the monthly entry sheet.

Not a unit test: a stopwatch. It builds a throwaway SQLite database (one cadre, one group of
20 members who joined six months ago with three monthly readings before the reporting
month), serves it with `runserver`, and drives Debian's Chromium as a 360×740 touch phone.

The pace model (issue: "1.5 s to read each field, 120 ms per character"): from the tap on
"Isi pendapatan" on the cadre home, for each member in the sheet's order the cadre reads
the row for 1.5 s, taps its amount field and types an amount such as "1.250.000" at 120 ms
a character; then taps "Simpan semua" and waits for "Tersimpan: …". The clock runs from
that first tap to the success message; the page loads and the save are inside it. Every
tap counts once, typing does not; logging in is neither timed nor counted.

Prints e.g. "20 members: 74.3 s, 22 taps (limit 80 s)" and exits 1 over the limit.
Run with `make pace`.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LIMIT_S = 80
READ_S = 1.5
KEY_MS = 120
NAMES = [
    "Andi Baso", "Besse Intan", "Citra Lestari", "Daeng Rahman", "Erna Wati", "Fatmawati",
    "Gusti Ayu", "Hasnah Sitti", "Irma Suryani", "Jumriah", "Kasmawati", "Lina Marlina",
    "Muh. Yusuf", "Nurhayati", "Opu Tenri", "Puang Ridwan", "Rahmawati", "Sukmawati",
    "Tenri Ajeng", "Wahyuni",
]
# Usual monthly income; the cadre types 50,000 more, nine characters each ("1.125.000").
USUAL = {name: 1_000_000 + 75_000 * i for i, name in enumerate(NAMES)}
PASSWORD = "test-pass-123"  # tests/factories.py make_user

# Run by `manage.py shell -c` against the throwaway database.
SEED = """
import datetime as dt
from households.sheet import reporting_month
from tests.factories import make_group, make_member, make_reading, make_user
from uppka.months import month_before
period = reporting_month()
group = make_group(code="PACE-20", name="KWT Pace")
make_user(role="kader", groups=[group], username="kader_pace")  # password: test-pass-123
for name, amount in {usual}.items():
    household = make_member(group, head_name=name, joined_on=period - dt.timedelta(days=180)).household
    month = period
    for _ in range(3):
        month = month_before(month)
        make_reading(household, month, amount)
"""

VERIFY = """
import json
from households.models import IncomeReading
from households.sheet import reporting_month
rows = IncomeReading.objects.filter(period=reporting_month(), household__memberships__group__code="PACE-20")
print(json.dumps(dict(rows.values_list("household__head_name", "amount"))))
"""


def manage(env, *args) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"runserver stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"runserver did not answer at {url} within {seconds} s")


def rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")  # 1250000 -> "1.250.000", as a cadre types it


def enter_month(base_url) -> tuple[float, int, float, dict]:
    """Log in, enter the month at human pace; (seconds, taps, server seconds, typed)."""
    server_ms, typed, taps = [], {}, 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                      has_touch=True, device_scale_factor=2, locale="id-ID")
        page = context.new_page()
        # The server's share: request sent to first byte back, for the sheet's own requests.
        page.on("requestfinished", lambda r: server_ms.append(r.timing["responseStart"] - r.timing["requestStart"])
                if "/isian/" in r.url else None)
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Nama pengguna").fill("kader_pace")
        page.get_by_label("Sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{base_url}/kader/")
        server_ms.clear()

        start = time.monotonic()
        page.get_by_role("link", name="Isi pendapatan").tap()
        taps += 1
        inputs = page.locator("[data-row] input[data-amount]")
        expect(inputs).to_have_count(len(NAMES))
        for i in range(len(NAMES)):
            field = inputs.nth(i)
            # The label's first text node is the name; the "kosong" badge sits beside it.
            name = page.locator(f"label[for='{field.get_attribute('id')}']").evaluate(
                "l => l.firstChild.textContent.trim()")
            time.sleep(READ_S)
            field.tap()
            taps += 1
            typed[name] = USUAL[name] + 50_000
            field.press_sequentially(rupiah(typed[name]), delay=KEY_MS)
        page.get_by_role("button", name="Simpan semua").tap()
        taps += 1
        expect(page.get_by_text(re.compile(r"^Tersimpan:"))).to_be_visible(timeout=30_000)
        seconds = time.monotonic() - start
        page.screenshot(path="/tmp/pace-end.png", full_page=False)
        browser.close()
    return seconds, taps, sum(server_ms) / 1000, typed


def main():
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="uppka-pace-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/pace.sqlite3", "DEBUG": "1",
               "IMPORT_DIR": f"{tmp}/imports"}
        manage(env, "migrate", "--noinput")
        manage(env, "shell", "-c", SEED.format(usual=USUAL))
        port = free_port()
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/accounts/login/", server)
            seconds, taps, server_s, typed = enter_month(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=10)
        saved = json.loads(manage(env, "shell", "-c", VERIFY).strip().splitlines()[-1])
    if saved != typed:
        sys.exit(f"the database holds {len(saved)} readings for the month, not the {len(typed)} typed")
    print(f"{len(saved)} members: {seconds:.1f} s, {taps} taps (limit {LIMIT_S} s); "
          f"server {server_s:.2f} s; screenshot /tmp/pace-end.png")
    sys.exit(1 if seconds > LIMIT_S else 0)


if __name__ == "__main__":
    main()
