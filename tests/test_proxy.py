"""The client's address behind a proxy: lockouts and the access log use the client's, and a
header a client writes itself changes nothing."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from accounts.models import AccessLog
from uppka.proxy import client_ip

PROXY = "10.0.0.1"
CLIENT_A = "203.0.113.7"
CLIENT_B = "198.51.100.9"
RIGHT, WRONG = "test-pass-123", "salah"


def request_from(remote, forwarded=None):
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "127.0.0.1", None, "127.0.0.1"),
        (0, "127.0.0.1", "1.1.1.1", "127.0.0.1"),  # direct: the header is the client's own words
        (1, PROXY, CLIENT_A, CLIENT_A),
        (1, PROXY, f"1.1.1.1, {CLIENT_A}", CLIENT_A),  # a forged entry on the left is ignored
        (1, PROXY, f"1.1.1.1,{CLIENT_A}", CLIENT_A),
        (2, PROXY, f"1.1.1.1, {CLIENT_A}, 10.0.0.2", CLIENT_A),
        (2, PROXY, CLIENT_A, PROXY),  # fewer entries than proxies
        (1, PROXY, None, PROXY),  # the proxy forgot the header
        (1, PROXY, "", PROXY),
        (1, PROXY, "not-an-address", PROXY),
        (1, PROXY, f"{CLIENT_A}:443", PROXY),
        (1, PROXY, "fe80::1%eth0", PROXY),
        (1, PROXY, " 2001:DB8::1 ", "2001:db8::1"),
        (0, "", None, None),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(request_from(remote, forwarded)) == expected


def login(client, password, remote, forwarded=None, username="kader_a"):
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=remote, headers=headers
    )


# Reached directly (TRUSTED_PROXIES = 0, the default) --------------------------------------


@pytest.mark.django_db
def test_direct_a_forged_forwarded_for_does_not_escape_the_lockout(client, cadre_a):
    for n in range(5):  # a new forged address for every try
        login(client, WRONG, "192.0.2.50", forwarded=f"1.1.1.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.50"}
    assert login(client, RIGHT, "192.0.2.50").status_code == 429
    assert login(client, RIGHT, "192.0.2.50", forwarded="1.1.1.99").status_code == 429


@pytest.mark.django_db
def test_direct_one_forged_value_does_not_lock_that_address(client, cadre_a):
    for _ in range(5):
        login(client, WRONG, "192.0.2.50", forwarded="192.0.2.99")
    # The lockout is on the real address; the address named in the header is untouched.
    assert login(client, RIGHT, "192.0.2.50").status_code == 429
    assert login(client, RIGHT, "192.0.2.99").status_code == 302


@pytest.mark.django_db
def test_direct_the_access_log_ignores_a_forged_forwarded_for(client, cadre_a, member_a):
    client.force_login(cadre_a)
    client.get(f"/keluarga/{member_a.household.pk}/", REMOTE_ADDR="192.0.2.50", headers={"x-forwarded-for": "1.1.1.1"})
    assert AccessLog.objects.get().ip_address == "192.0.2.50"


# Behind one proxy (TRUSTED_PROXIES = 1): everyone arrives from the proxy's address ---------


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = 1


@pytest.mark.django_db
def test_behind_a_proxy_wrong_passwords_lock_only_the_client_who_typed_them(client, cadre_a, behind_proxy):
    for _ in range(5):
        login(client, WRONG, PROXY, forwarded=CLIENT_A)
    assert login(client, RIGHT, PROXY, forwarded=CLIENT_A).status_code == 429
    # The owner, on another phone, still gets in through the same proxy.
    assert login(client, RIGHT, PROXY, forwarded=CLIENT_B).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


@pytest.mark.django_db
def test_behind_a_proxy_a_forged_entry_does_not_escape_the_lockout(client, cadre_a, behind_proxy):
    for n in range(5):  # nginx appends the real address after whatever the client wrote
        login(client, WRONG, PROXY, forwarded=f"1.1.1.{n}, {CLIENT_A}")
    assert login(client, RIGHT, PROXY, forwarded=f"{CLIENT_B}, {CLIENT_A}").status_code == 429


@pytest.mark.django_db
def test_behind_a_proxy_the_access_log_records_the_client(client, cadre_a, member_a, behind_proxy):
    client.force_login(cadre_a)
    client.get(f"/keluarga/{member_a.household.pk}/", REMOTE_ADDR=PROXY, headers={"x-forwarded-for": CLIENT_A})
    assert AccessLog.objects.get().ip_address == CLIENT_A


def test_axes_asks_the_same_function(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXIES = 1
    assert get_client_ip_address(request_from(PROXY, f"1.1.1.1, {CLIENT_A}")) == CLIENT_A


def test_a_negative_number_of_proxies_refuses_to_start():
    from tests.test_settings import run_manage

    result = run_manage("check", TRUSTED_PROXIES="-1")
    assert result.returncode != 0 and "TRUSTED_PROXIES" in result.stderr
