import datetime as dt
import os

import pytest
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from tests.factories import make_group, make_member, make_reading, make_user

# Playwright's sync API runs an event loop in the main thread; without this every ORM call
# in a browser test (and live_server's teardown) raises SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Hypothesis's default 200 ms deadline measures the machine, not the code: a loaded CI
# runner would fail a correct parser. Speed is `make bench`'s business. In CI the examples
# are derandomised so a run can be repeated exactly; locally they stay random to explore.
IN_CI = os.environ.get("CI", "").lower() == "true"
hypothesis_settings.register_profile("uppka", deadline=None, derandomize=IN_CI)
hypothesis_settings.load_profile("uppka")


@pytest.fixture
def master_data(transactional_db):
    """Tests with real commits (live_server, threads) flush every table afterwards, master
    data included: load it again, as the migration did."""
    import importlib

    from django.apps import apps

    importlib.import_module("groups.migrations.0002_master_data").load(apps)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counters kept in the cache (wrong NIK guesses) start afresh in every test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _jobs_run_at_once(settings):
    """Background jobs run inside the request that starts them (Django's immediate task
    backend): a test sees the job done when the redirect comes. tests/test_worker.py runs a
    real worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def group_a(db):
    return make_group(code="KWT-A", opd_code="DISTAN", type_code="KWT", name="KWT Melati")


@pytest.fixture
def group_b(db):
    return make_group(code="NEL-B", opd_code="DISKAN", type_code="NELAYAN", name="Nelayan Bahari")


@pytest.fixture
def member_a(group_a):
    return make_member(group_a, head_name="Sitti Hasnah")


@pytest.fixture
def member_b(group_b):
    return make_member(group_b, head_name="Baso Rahman")


@pytest.fixture
def cadre_a(group_a):
    return make_user(role="kader", groups=[group_a], username="kader_a")


@pytest.fixture
def cadre_b(group_b):
    return make_user(role="kader", groups=[group_b], username="kader_b")


@pytest.fixture
def known_family(cadre_a):
    """A family in a second group of cadre A's (so cadre A already sees it)."""
    second = make_group(code="KWT-A2", opd_code="DISTAN")
    second.cadres.add(cadre_a)
    return make_member(second, head_name="Baso Rahman").household


@pytest.fixture
def opd_user(db):
    from groups.models import Opd

    return make_user(role="opd", opd=Opd.objects.get(code="DISTAN"), username="opd_distan")


@pytest.fixture
def other_opd_user(db):
    from groups.models import Opd

    return make_user(role="opd", opd=Opd.objects.get(code="DISKAN"), username="opd_diskan")


@pytest.fixture
def dppkb_user(db):
    from accounts.permissions import grant_dppkb_permissions

    user = make_user(role="dppkb", username="dppkb_staff", is_staff=True)
    grant_dppkb_permissions(user)
    return user


@pytest.fixture
def admin_user(db):
    return make_user(role="", username="root", is_staff=True, is_superuser=True)


TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def months_ago(n):
    month = THIS_MONTH
    for _ in range(n):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def city(group_a, group_b):
    """Group A (DISTAN, KWT): two families who earn more after joining, one who earns less;
    group B (DISKAN, NELAYAN): one family, income fell. All joined four months ago."""
    joined = months_ago(4) + dt.timedelta(days=9)
    data = {
        group_a: [("Ani", 1_000_000, 1_300_000), ("Budi", 2_000_000, 2_100_000), ("Citra", 1_500_000, 1_200_000)],
        group_b: [("Dedi", 3_000_000, 2_500_000)],
    }
    for group, families in data.items():
        for name, before, after in families:
            household = make_member(group, head_name=name, joined_on=joined).household
            for n in (5, 6, 7):
                make_reading(household, months_ago(n), before)
            for n in (1, 2, 3):
                make_reading(household, months_ago(n), after)
    return data


def missing_tool(reason):
    """A test that needs a program this machine lacks is skipped with the reason, except
    in CI, where nothing may be skipped."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# Browser tests -------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # overrides pytest-playwright's
    """Debian's Chromium (Playwright's own download does not work on these machines).

    Without it the browser tests are skipped with a clear reason, except in CI, where a
    missing browser fails the run."""
    if not os.path.exists(CHROMIUM):
        missing_tool(f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` (see README).")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"],
    }


@pytest.fixture
def console_errors(page):
    """Errors the page printed to the browser console; a journey asserts there are none."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
