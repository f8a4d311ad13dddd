"""Every URL × every persona, generated from the URL configuration.

A URL that nobody added to MATRIX fails ``test_every_url_is_in_the_matrix``. Objects in the
URLs belong to group A (DISTAN, cadre A); cadre B and the DISKAN OPD user must be refused.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from groups.models import GroupProblem
from jobs import services as jobs
from jobs.models import Job
from tests.conftest import TODAY
from tests.jobs_util import job_file, job_of

PERSONAS = ["anonymous", "cadre_a", "cadre_b", "other_opd_user", "opd_user", "dppkb_user", "admin_user"]

LOGIN = "login"  # a redirect to the login page
ADMIN_LOGIN = "admin-login"
R = 302  # any other redirect

# Expected status for each persona, in the order of PERSONAS.
EVERYONE = [200] * 7
SIGNED_IN = [LOGIN, 200, 200, 200, 200, 200, 200]
GROUP_A_VIEW = [LOGIN, 200, 404, 404, 200, 200, 200]
GROUP_A_EDIT = [LOGIN, R, 404, 404, 404, R, R]
IMPORTERS = [LOGIN, 403, 403, 200, 200, 200, 200]
JOB = "job"  # a redirect to the background job it started, done, whose file downloads
SIGNED_IN_JOB = [LOGIN, JOB, JOB, JOB, JOB, JOB, JOB]
OPD_USERS_JOB = [LOGIN, 404, 404, 404, 200, 404, 404]  # a job of the DISTAN OPD user: theirs only

MATRIX = {
    # name: (method, kwargs or None, expected per persona)
    "home": ("get", None, [LOGIN, R, R, R, R, R, R]),
    "login": ("get", None, EVERYONE),
    "logout": ("post", None, [LOGIN] * 7),
    "password_change": ("get", None, SIGNED_IN),
    "password_change_done": ("get", None, SIGNED_IN),
    "favicon": ("get", None, [301] * 7),
    "set_language": ("post", None, [R] * 7),
    "audit": ("get", None, [LOGIN, 403, 403, 403, 403, 200, 200]),
    "households:cadre_home": ("get", None, [LOGIN, 200, 200, 403, 403, 403, 403]),
    "households:group_members": ("get", {"code": "KWT-A"}, GROUP_A_VIEW),
    "households:entry_sheet_default": ("get", {"code": "KWT-A"}, [LOGIN, R, 404, 404, R, R, R]),
    "households:entry_sheet": ("get", {"code": "KWT-A", "month": "2024-05"}, GROUP_A_VIEW),
    "households:add_meeting": ("post", {"code": "KWT-A", "month": "2024-05"}, [LOGIN, R, 404, 404, 403, R, R]),
    "households:submit_month": ("post", {"code": "KWT-A", "month": "2024-05"}, [LOGIN, R, 404, 404, 403, R, R]),
    "households:register_print": ("get", {"code": "KWT-A", "month": "2024-05"}, GROUP_A_VIEW),
    "households:register": ("get", {"code": "KWT-A"}, [LOGIN, 200, 404, 404, 404, 200, 200]),
    "households:profile": ("get", {"code": "KWT-A", "year": TODAY.year}, GROUP_A_VIEW),
    "households:detail": ("get", {"pk": "household"}, GROUP_A_VIEW),
    "households:leave": ("post", {"pk": "household", "membership_pk": "membership"}, GROUP_A_EDIT),
    "households:set_active": ("post", {"pk": "household"}, GROUP_A_EDIT),
    "households:months": ("get", None, [LOGIN, 403, 403, 403, 403, 200, 200]),
    "households:import": ("get", None, IMPORTERS),
    "households:import_template": ("get", None, IMPORTERS),
    "households:import_data": ("get", None, [LOGIN, 403, 403, 403, 403, JOB, JOB]),
    "households:import_confirm": ("post", {"token": "someone-elses"}, [LOGIN, 403, 403, 404, 404, 404, 404]),
    "households:import_errors": ("get", {"token": "someone-elses"}, [LOGIN, 403, 403, 404, 404, 404, 404]),
    "reports:index": ("get", None, SIGNED_IN),
    "reports:dashboard": ("get", None, [LOGIN, 403, 403, 403, 403, 200, 200]),
    "reports:dashboard_trends": ("get", None, [LOGIN, 403, 403, 403, 403, 200, 200]),
    "reports:report_trends": ("get", None, SIGNED_IN),
    "reports:month": ("get", {"month": "2024-05"}, [LOGIN, 403, 403, 403, 403, 200, 200]),
    "reports:export": ("get", None, SIGNED_IN_JOB),
    "reports:card": ("get", None, SIGNED_IN),
    "reports:report_print": ("get", None, SIGNED_IN),
    "reports:recap": ("get", None, SIGNED_IN),
    "reports:recap_export": ("get", None, SIGNED_IN_JOB),
    "reports:group_data": ("get", None, SIGNED_IN),
    "reports:group_data_export": ("get", None, SIGNED_IN_JOB),
    "reports:group": ("get", {"code": "KWT-A"}, GROUP_A_VIEW),
    "reports:add_problem": ("post", {"code": "KWT-A"}, [LOGIN, R, 404, 404, R, R, R]),
    "reports:resolve_problem": ("post", {"code": "KWT-A", "pk": "problem"}, [LOGIN, R, 404, 404, R, R, R]),
    "jobs:list": ("get", None, SIGNED_IN),
    "jobs:detail": ("get", {"pk": "job"}, OPD_USERS_JOB),
    "jobs:status": ("get", {"pk": "job"}, OPD_USERS_JOB),
    "jobs:download": ("get", {"pk": "job"}, OPD_USERS_JOB),
    "jobs:retry": ("post", {"pk": "failed_job"}, [LOGIN, 404, 404, 404, R, 404, 404]),
}

# The Django admin: staff only (DPPKB staff and administrators); its own login page otherwise.
ADMIN_EXPECTED = [ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200]
ADMIN_SAMPLES = [
    ("admin:index", None),
    ("admin:households_household_changelist", None),
    ("admin:households_household_change", {"object_id": "household"}),
    ("admin:households_incomereading_changelist", None),
    ("admin:groups_group_changelist", None),
    ("admin:households_closedmonth_changelist", None),
    ("admin:households_household_history", {"object_id": "household"}),
]


def url_names(resolver=None, namespace=""):
    """Every named URL pattern (namespace:name), the admin's included."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_url_is_in_the_matrix():
    names = set(url_names())
    uncovered = {n for n in names if not n.startswith("admin:")} - MATRIX.keys()
    assert not uncovered, f"add these URLs to MATRIX with the expected outcome per persona: {sorted(uncovered)}"
    assert MATRIX.keys() <= names, f"stale entries: {sorted(MATRIX.keys() - names)}"
    assert any(n.startswith("admin:") for n in names)


@pytest.fixture
def world(group_a, member_a, cadre_a, cadre_b, opd_user, other_opd_user, dppkb_user, admin_user):
    problem = GroupProblem.objects.create(group=group_a, kind="pasar", noted_on=TODAY)
    job = jobs.start(opd_user, Job.Kind.REPORT, "laporan.xlsx", {"query": ""})
    failed = Job.objects.create(owner=opd_user, kind=Job.Kind.REPORT, label="gagal", status=Job.Status.FAILED)
    return {"household": member_a.household.pk, "membership": member_a.pk, "problem": problem.pk,
            "job": job.pk, "failed_job": failed.pk}


def resolve_kwargs(kwargs, world):
    return {k: world.get(v, v) for k, v in (kwargs or {}).items()}


def persona_client(client, request, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def check(response, expected, persona, name):
    where = f"{name} as {persona}"
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), where
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), where
    elif expected == JOB:
        job = job_of(response)
        assert job.owner == response.wsgi_request.user and job.status == Job.Status.DONE, f"{where}: {job.message}"
        response = job_file(response.client, response)
        assert response.status_code == 200, where
    elif expected == R:
        assert response.status_code == 302, f"{where}: {response.status_code}"
        assert not response["Location"].startswith("/accounts/login/"), where
    else:
        assert response.status_code == expected, f"{where}: {response.status_code}"
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        # A "%" through the template's _() comes out doubled: every page is checked for it.
        assert "%%" not in response.content.decode(), f"{where}: a doubled % on the page"
    if persona != "anonymous":
        # Pages and downloads (a 200 or a refusal) must not stay in a shared phone's cache.
        assert "no-store" in response.get("Cache-Control", ""), f"{where}: cacheable"


@pytest.mark.django_db
@pytest.mark.parametrize("persona_index, persona", list(enumerate(PERSONAS)))
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_answers_each_persona_as_expected(client, request, world, name, persona_index, persona):
    method, kwargs, expected = MATRIX[name]
    url = reverse(name, kwargs=resolve_kwargs(kwargs, world))
    data = {"language": "id"} if name == "set_language" else {}
    response = getattr(persona_client(client, request, persona), method)(url, data)
    check(response, expected[persona_index], persona, name)


@pytest.mark.django_db
@pytest.mark.parametrize("persona_index, persona", list(enumerate(PERSONAS)))
@pytest.mark.parametrize("name, kwargs", ADMIN_SAMPLES)
def test_admin_is_for_staff_only(client, request, world, name, kwargs, persona_index, persona):
    url = reverse(name, kwargs=resolve_kwargs(kwargs, world))
    response = persona_client(client, request, persona).get(url)
    check(response, ADMIN_EXPECTED[persona_index], persona, name)


@pytest.mark.django_db
def test_static_files_stay_cacheable_for_signed_in_users(client, cadre_a):
    client.force_login(cadre_a)
    response = client.get("/static/css/uppka.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# Our own POST-only views (Django's logout and set_language answer GET in their own way).
OWN_POST_ONLY = sorted(n for n, (method, _, _) in MATRIX.items() if method == "post" and ":" in n)


@pytest.mark.django_db
@pytest.mark.parametrize("name", OWN_POST_ONLY)
def test_post_only_urls_refuse_get(client, dppkb_user, world, name):
    _method, kwargs, _expected = MATRIX[name]
    client.force_login(dppkb_user)
    response = client.get(reverse(name, kwargs=resolve_kwargs(kwargs, world)))
    assert response.status_code == 405


@pytest.mark.django_db
def test_querysets_scope_every_model_to_the_user(world, cadre_a, cadre_b, opd_user, other_opd_user, dppkb_user):
    from households.models import Household, IncomeReading, Membership
    from tests.factories import make_reading

    household = Household.objects.get(pk=world["household"])
    make_reading(household, TODAY.replace(day=1), 1)
    for user, sees in [(cadre_a, 1), (cadre_b, 0), (opd_user, 1), (other_opd_user, 0), (dppkb_user, 1)]:
        assert Household.objects.visible_to(user).count() == sees, user
        assert Membership.objects.visible_to(user).count() == sees, user
        assert IncomeReading.objects.visible_to(user).count() == sees, user
    assert Household.objects.editable_by(opd_user).count() == 0  # OPD users read only
