"""Odd values in every query and path parameter of every page never give a server error.

A refusal (400, 404) or an ordinary page (200, a redirect) is fine; a 500 is a bug. Each
parameter gets the table of odd values below, as DPPKB and as a cadre of group A (in the
admin, as the administrator). Run it on both databases: PostgreSQL refuses some values
(a NUL character) that SQLite takes.
"""

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.translation import gettext as _

from groups.models import GroupProblem
from tests.conftest import TODAY
from jobs.models import Job
from tests.jobs_util import job_of

HUGE = "99999999999999999999999"
ODD = [
    "",
    "x" * 5000,
    "Palopo ü 漢字 🙂",
    "\x00",
    "2026-02-30T00:00:00",
    "2026-13-01T00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12",
    "1",
    "-1",
    HUGE,
    "[]",
    "' OR '1'='1' --",
    "../../etc/passwd",
]

# What each page reads from its query (request.GET, forms bound to it, Django's own views).
# Names grouped in a tuple get the odd value in the same request, to keep the test quick (a
# report page costs ~0.1 s): a form cleans each of its fields whatever the others hold, and
# the report reads sort and page side by side once its filters are valid.
REPORT_FILTERS = [("as_of", "opd", "group_type", "kecamatan", "kelurahan")]
QUERY_PARAMETERS = {
    "/audit/": [("before",), ("view",), ("who", "what", "kind", "group", "kk", "since", "until"), ("format",)],
    "/audit/?format=xlsx&": [("who", "what", "kind", "group", "kk", "since", "until")],
    "/audit/?view=access&": [("before",)],
    "/reports/": [*REPORT_FILTERS, ("sort", "page")],
    "/reports/export.xlsx": [*REPORT_FILTERS, ("sort",)],
    "/reports/kartu.png": REPORT_FILTERS,
    "/reports/trends/": REPORT_FILTERS,
    "/reports/laporan.pdf": REPORT_FILTERS,
    "/reports/bulan/2024-05/": [("page",)],
    "/reports/rekap/": [*REPORT_FILTERS, ("page",)],
    "/reports/rekap.xlsx": REPORT_FILTERS,
    "/reports/kelompok/KWT-A/": REPORT_FILTERS,
    "/reports/data-kelompok/": [("year",), ("opd",), ("year", "opd")],
    "/reports/data-kelompok.xlsx": [("year",), ("opd",)],
    "/pekerjaan/": [("page",)],
    "/kelompok/KWT-A/daftar/": [("kk_number",)],
    "/accounts/login/": [("next",)],
    "/admin/households/household/": [("q",), ("o",), ("p",), ("is_active__exact",), ("_to_field",)],
    "/admin/households/incomereading/": [("period__year",), ("period__year", "period__month"), ("period__lt",), ("q",)],
    "/admin/households/membership/": [("joined_on__year",), ("joined_on__year", "joined_on__month", "joined_on__day")],
    "/admin/accounts/accesslog/": [("at__year",), ("at__year", "at__month", "at__day"), ("at__gte",), ("action__exact",)],
}

# Pages with parameters in the path; {x} is replaced by the odd value, the rest stays valid.
# An int converter only lets digits through: there the odd values are a huge number and 0.
PATH_PARAMETERS = {
    "households:group_members": ("get", ["/kelompok/{x}/anggota/"]),
    "households:entry_sheet_default": ("get", ["/kelompok/{x}/isian/"]),
    "households:entry_sheet": ("get", ["/kelompok/{x}/isian/2024-05/", "/kelompok/KWT-A/isian/{x}/"]),
    "households:add_meeting": ("post", ["/kelompok/{x}/isian/2024-05/pertemuan/", "/kelompok/KWT-A/isian/{x}/pertemuan/"]),
    "households:submit_month": ("post", ["/kelompok/{x}/isian/2024-05/lapor/", "/kelompok/KWT-A/isian/{x}/lapor/"]),
    "households:register_print": ("get", ["/kelompok/{x}/isian/2024-05/register.pdf", "/kelompok/KWT-A/isian/{x}/register.pdf"]),
    "households:register": ("get", ["/kelompok/{x}/daftar/"]),
    "households:profile": ("get", ["/kelompok/{x}/data/2024/", "/kelompok/KWT-A/data/{int}/"]),
    "households:detail": ("get", ["/keluarga/{int}/"]),
    "households:leave": ("post", ["/keluarga/{int}/keluar/1/", "/keluarga/{household}/keluar/{int}/"]),
    "households:set_active": ("post", ["/keluarga/{int}/status/"]),
    "households:import_confirm": ("post", ["/impor/{x}/terapkan/"]),
    "households:import_errors": ("get", ["/impor/{x}/kesalahan.xlsx"]),
    "reports:group": ("get", ["/reports/kelompok/{x}/"]),
    "reports:month": ("get", ["/reports/bulan/{x}/"]),
    "reports:add_problem": ("post", ["/reports/kelompok/{x}/kendala/"]),
    "reports:resolve_problem": ("post", ["/reports/kelompok/{x}/kendala/1/", "/reports/kelompok/KWT-A/kendala/{int}/"]),
    "jobs:detail": ("get", ["/pekerjaan/{int}/"]),
    "jobs:status": ("get", ["/pekerjaan/{int}/status/"]),
    "jobs:download": ("get", ["/pekerjaan/{int}/berkas/"]),
    "jobs:retry": ("post", ["/pekerjaan/{int}/ulangi/"]),
}

def patterns_with_parameters(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":
                yield from patterns_with_parameters(pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name and pattern.pattern.converters:
            yield f"{namespace}{pattern.name}"


def test_every_page_with_path_parameters_is_fuzzed():
    assert set(patterns_with_parameters()) == PATH_PARAMETERS.keys()


@pytest.fixture
def clients(member_a, cadre_a, dppkb_user, admin_user):
    """A signed-in client per persona; a problem of group A for resolve_problem's URL."""
    GroupProblem.objects.create(group=member_a.group, kind="pasar", noted_on=TODAY)
    result = {}
    for persona, user in [("dppkb_user", dppkb_user), ("cadre_a", cadre_a), ("admin_user", admin_user)]:
        # Collect every server error instead of stopping at the first.
        result[persona] = Client(raise_request_exception=False)
        result[persona].force_login(user)
    return result


def personas_for(url):
    """DPPKB and a cadre; in the admin, which sends a cadre to its login page whatever the
    query, the administrator, who sees every admin page (DPPKB not the access log)."""
    return ["admin_user"] if url.startswith("/admin/") else ["dppkb_user", "cadre_a"]


def server_errors(client, method, url, data=None):
    response = getattr(client, method)(url, data or {})
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # a download fails while it streams
    if response.status_code == 302 and response.url.startswith("/pekerjaan/"):  # a job it started, which ran at once
        job = job_of(response)
        if job.status != Job.Status.DONE and "Terjadi kesalahan di server" in job.message:
            return [f"{method.upper()} {url[:120]!r}: job failed on the server"]
    return [] if response.status_code < 500 else [f"{method.upper()} {url[:120]!r}: {response.status_code}"]


def odd_queries(names):
    for value in ODD:
        yield urlencode([(name, value) for name in names])
    yield urlencode([(name, value) for name in names for value in ("2024-01", "x")])  # repeated keys
    yield urlencode([(f"{name}[]", "1") for name in names])


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(QUERY_PARAMETERS))  # not "page": Playwright's fixture
def test_odd_query_parameters_never_give_a_server_error(clients, url):
    errors = []
    separator = "" if url.endswith("&") else "?"
    for persona in personas_for(url):
        for names in QUERY_PARAMETERS[url]:
            for query in odd_queries(names):
                errors += server_errors(clients[persona], "get", f"{url}{separator}{query}")
    assert not errors, "\n".join(errors)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PATH_PARAMETERS))
def test_odd_path_parameters_never_give_a_server_error(clients, member_a, name):
    method, templates = PATH_PARAMETERS[name]
    errors = []
    for persona in ["dppkb_user", "cadre_a"]:
        for template in templates:
            url = template.replace("{household}", str(member_a.household.pk))
            if "{int}" in url:
                urls = [url.replace("{int}", value) for value in (HUGE, "0")]
            else:  # an empty segment matches no URL at all
                urls = [url.replace("{x}", quote(value, safe="")) for value in ODD if value]
            for url in urls:
                errors += server_errors(clients[persona], method, url)
    assert not errors, "\n".join(errors)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["username", "password"])
def test_odd_login_fields_never_give_a_server_error(cadre_a, field):
    # The one form open to anyone; django-axes records each failure.
    client = Client(raise_request_exception=False)
    errors = []
    for value in ODD:
        data = {"username": "kader_a", "password": "salah", field: value}
        errors += server_errors(client, "post", "/accounts/login/", data)
    assert not errors, "\n".join(errors)


# The server errors the table found, each pinned with what the user sees instead ----------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["before=2026-02-30T00:00:00", "view=access&before=2026-13-01T00:00", "before=yesterday",
                                   "view=access&before=0001-01-01T00:00:00%2B14:00"])
def test_audit_refuses_an_impossible_date_with_a_message(client, dppkb_user, query):
    client.force_login(dppkb_user)
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert "dppkb_staff" in response.content.decode()  # the ordinary page frame, signed in
    assert "bukan tanggal dan jam yang sah" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/kelompok/KWT-A%00/anggota/", "/reports/kelompok/%00/", "/reports/?sort=%00"])
def test_a_null_character_in_the_address_is_refused_on_every_database(client, cadre_a, url):
    # PostgreSQL refused it inside the group lookup: a server error there, a 404 on SQLite.
    client.force_login(cadre_a)
    response = client.get(url)
    assert response.status_code == 400
    assert response.context["message"] == _("The address contains a character that is not allowed.")


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["period__year=9999", f"period__year={HUGE}"])
def test_admin_date_drill_down_refuses_an_impossible_year(client, admin_user, query):
    client.force_login(admin_user)
    response = client.get(f"/admin/households/incomereading/?{query}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["at__year=1", "at__gte=9999-12-31T23:59:59-12:00"])
def test_admin_access_log_takes_a_moment_beyond_utc_without_a_server_error(client, admin_user, query):
    # SQLite's adapter converts to UTC in Python and overflowed; PostgreSQL compares as is.
    client.force_login(admin_user)
    response = client.get(f"/admin/accounts/accesslog/?{urlencode(dict([query.split('=')]))}")
    assert response.status_code == 200 or response["Location"].endswith("?e=1")


def test_django_own_bad_request_page_renders(client, settings):
    # Django renders 400.html without a request (no user, no CSRF token): it must still work.
    settings.ALLOWED_HOSTS = ["localhost"]
    response = client.get("/", headers={"host": "evil.example"})  # DisallowedHost
    assert response.status_code == 400
    assert _("This address contains something the app cannot read.") in response.content.decode()


@pytest.mark.django_db
def test_a_very_long_user_name_is_an_ordinary_failed_login(client):
    # django-axes stored it whole: PostgreSQL refused the 5,000 characters with a 500.
    from axes.models import AccessAttempt

    response = client.post("/accounts/login/", {"username": "x" * 5000, "password": "salah"})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "x" * 255
