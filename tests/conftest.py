import os

import pytest

from tests.factories import make_group, make_member, make_user

# Playwright's sync API runs an event loop in the main thread; without this every ORM call
# in a browser test (and live_server's teardown) raises SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
def opd_user(db):
    from groups.models import Opd

    return make_user(role="opd", opd=Opd.objects.get(code="DISTAN"), username="opd_distan")


@pytest.fixture
def other_opd_user(db):
    from groups.models import Opd

    return make_user(role="opd", opd=Opd.objects.get(code="DISKAN"), username="opd_diskan")


@pytest.fixture
def dppkb_user(db):
    return make_user(role="dppkb", username="dppkb_staff", is_staff=True)


@pytest.fixture
def admin_user(db):
    return make_user(role="", username="root", is_staff=True, is_superuser=True)
