"""Every page a persona can open reads as Indonesian: no ISO dates (2026-10, 2026-10-01)
and none of a list of English words in the text a user sees (issue 13, part 4)."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from groups.models import GroupProblem
from households.profiles import save_profile
from tests.conftest import months_ago
from tests.factories import make_member, make_reading
from tests.test_permissions import MATRIX, PERSONAS

ISO_DATE = re.compile(r"(?<![\d/.-])\d{4}-\d{2}(?:-\d{2})?(?![\d-])")
ENGLISH = re.compile(
    r"\b(workbook|household|households|income|incomes|before|after|group|groups|month|save|download|"
    r"member|members|report|problem|the|and|of|with|none|yes|no(?!\s+KK))\b",  # "target" is Indonesian too; "No KK" a column
    re.IGNORECASE,
)


def visible_text(page: str) -> str:
    """The page's text as a reader sees it: no scripts, styles, tags or attribute values."""
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(page)


@pytest.fixture
def world(group_a, cadre_a, opd_user, dppkb_user):
    household = make_member(group_a, joined_on=months_ago(5).replace(day=3), head_name="Sitti Aminah").household
    for n in range(1, 9):
        make_reading(household, months_ago(n), 1_000_000 + n * 50_000)
    GroupProblem.objects.create(group=group_a, kind="pasar", description="Pembeli sepi", noted_on=months_ago(1))
    save_profile(group=group_a, year=months_ago(0).year, channels=["PASAR_LOKAL"], by=None, values={
        "chair": household, "business_field": "OLAHAN_PANGAN", "capital_own": 1_000_000, "turnover": 500_000})
    return household


def pages_for(household):
    kwargs = {"code": "KWT-A", "month": f"{months_ago(1):%Y-%m}", "pk": household.pk, "year": months_ago(0).year}
    for name, (method, params, _expected) in MATRIX.items():
        if method != "get" or name in {"favicon", "households:import_template", "households:import_data",
                                        "reports:export", "households:import_errors",
                                        "reports:group_data_export"}:
            continue
        args = {key: kwargs[key] for key in (params or {})} if params else {}
        if any(value in ("someone-elses", "problem") for value in (params or {}).values()):
            continue
        yield reverse(name, kwargs=args or None)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_a", "opd_user", "dppkb_user"])
def test_every_page_reads_as_indonesian(client, request, world, persona):
    client.force_login(request.getfixturevalue(persona))
    found = {}
    for url in [*pages_for(world), f"/reports/?as_of={months_ago(2):%Y-%m}"]:
        response = client.get(url, follow=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        text = visible_text(response.content.decode())
        slips = ISO_DATE.findall(text) + ENGLISH.findall(text)
        if slips:
            found[url] = sorted(set(slips))
    assert found == {}
    assert PERSONAS  # the matrix this walk reuses
