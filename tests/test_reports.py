"""Report pages: the dashboard, the filtered report and the group page, for every role."""


import pytest

from groups.models import GroupProblem, Target
from reports import compute
from tests.conftest import THIS_MONTH, TODAY, months_ago
from tests.factories import make_group, make_member, make_reading
from uppka.formats import format_percent, format_rupiah


def expected_group(group):
    members = [
        compute.Membership(m.household_id, m.group_id, m.joined_on, m.left_on) for m in group.memberships.all()
    ]
    readings = {}
    for m in group.memberships.select_related("household"):
        readings[m.household_id] = [compute.Reading(r.period, r.amount) for r in m.household.readings.all()]
    return compute.scope_summaries(
        memberships=members, readings=readings, family_sizes={k: 4 for k in readings}, as_of=THIS_MONTH,
        scopes_of=lambda m: ["g"],
    )["g"]


# Dashboard ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_target_progress_and_the_city_before_after(client, dppkb_user, city):
    Target.objects.create(year=TODAY.year, households=8)
    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert "4 / 8" in html and "50,0%" in html
    # city: means of before 1.875.000 and after 1.775.000 over the four families
    assert "Rp 1.875.000 → Rp 1.775.000" in html
    assert "-Rp 100.000" in html
    assert "50,0% dari 4 keluarga dibandingkan" in html
    assert 'id="opd-chart"' in html and 'id="opd-data"' in html


@pytest.mark.django_db
def test_dashboard_lists_groups_whose_income_fell_and_open_problems_market_first(client, dppkb_user, city, group_a, group_b):
    GroupProblem.objects.create(group=group_a, kind="modal", noted_on=TODAY)
    GroupProblem.objects.create(group=group_b, kind="pasar", noted_on=TODAY)
    GroupProblem.objects.create(group=group_b, kind="pasar", noted_on=TODAY, is_resolved=True)
    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert "Nelayan Bahari" in html and "-Rp 500.000" in html
    falling = html.split("penghasilannya turun")[1].split("</ul>")[0]
    assert "KWT Melati" not in falling  # group A's mean change is +33.333
    problems = html.split("Kendala kelompok yang terbuka")[1]
    assert problems.index("Pasar") < problems.index("Modal")
    assert "<td>Pasar</td><td class=\"text-end\">1</td>" in problems


@pytest.mark.django_db
def test_dashboard_shows_last_months_reporting_and_late_cadres(client, dppkb_user, cadre_a, city):
    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert "4 / 4" in html  # every member has last month's income
    GroupProblem.objects.all().delete()
    from households.models import IncomeReading

    IncomeReading.objects.filter(household__head_name="Ani", period=months_ago(1)).delete()
    html = client.get("/reports/dashboard/").content.decode()
    assert "3 / 4" in html and "kader_a: 2/3" in html


@pytest.mark.django_db
def test_dashboard_leads_to_last_months_recap(client, dppkb_user, city):
    """The recap's family-planning figures cost too much for every dashboard view (see
    docs/bench.txt): the dashboard links to them."""
    from households.sheet import reporting_month

    client.force_login(dppkb_user)
    html = client.get("/reports/dashboard/").content.decode()
    assert f'href="/reports/rekap/?as_of={reporting_month():%Y-%m}"' in html and "Rekap bulanan" in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_a", "opd_user"])
def test_dashboard_is_for_dppkb_only(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/reports/dashboard/").status_code == 403


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_data(client, dppkb_user, city, django_assert_max_num_queries):
    client.force_login(dppkb_user)
    for _ in range(3):
        group = make_group()
        for _ in range(10):
            make_reading(make_member(group).household, months_ago(2), 1_000_000)
    with django_assert_max_num_queries(28):  # 25, and one for each picture over time
        assert client.get("/reports/dashboard/").status_code == 200


# Report page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_report_figures_equal_the_pure_core(client, dppkb_user, city, group_a):
    client.force_login(dppkb_user)
    html = client.get("/reports/").content.decode()
    expected = expected_group(group_a)
    assert format_rupiah(expected.mean_change) == "Rp 33.333"
    row = html.split(">KWT-A<")[1].split("</tr>")[0]
    for value in (expected.mean_baseline, expected.mean_current, expected.mean_change, expected.median_change):
        assert format_rupiah(value) in row
    assert format_percent(expected.pct_increased) in row  # 66,7%
    assert "OPD DISTAN – Dinas Pertanian" in html and "Kecamatan 73.73.01 – Wara" in html


@pytest.mark.django_db
def test_opd_user_sees_only_their_opd(client, opd_user, city):
    client.force_login(opd_user)
    html = client.get("/reports/").content.decode()
    assert "KWT-A" in html and "NEL-B" not in html and "Dinas Perikanan" not in html


@pytest.mark.django_db
def test_opd_user_asking_for_another_opd_is_refused(client, opd_user, city):
    client.force_login(opd_user)
    response = client.get("/reports/?opd=DISKAN")
    assert response.status_code == 400
    html = response.content.decode()
    assert "tidak dapat melihat laporan OPD ini" in html and "NEL-B" not in html


@pytest.mark.django_db
def test_cadre_sees_only_their_groups(client, cadre_a, city):
    client.force_login(cadre_a)
    html = client.get("/reports/").content.decode()
    assert "KWT-A" in html and "NEL-B" not in html


@pytest.mark.django_db
def test_filters_narrow_the_groups(client, dppkb_user, city):
    client.force_login(dppkb_user)
    html = client.get("/reports/?group_type=NELAYAN").content.decode()
    assert "NEL-B" in html and ">KWT-A<" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ("as_of=2999-01", "masa depan"),
        ("as_of=bulan-lalu", "TTTT-BB"),
        ("group_type=IKAN", "Masukkan pilihan yang valid"),
        ("kecamatan=73.73.02&kelurahan=73.73.01.1001", "tidak berada di kecamatan"),
    ],
)
def test_bad_filters_get_a_clear_message(client, dppkb_user, city, query, message):
    client.force_login(dppkb_user)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_as_of_month_excludes_later_data(client, dppkb_user, city):
    client.force_login(dppkb_user)
    html = client.get(f"/reports/?as_of={months_ago(5):%Y-%m}").content.decode()
    row = html.split(">KWT-A<")[1].split("</tr>")[0]
    assert "Rp 1.500.000" not in row  # nobody had joined yet: no figures


@pytest.mark.django_db
def test_groups_table_sorts_and_paginates(client, dppkb_user, city, monkeypatch):
    monkeypatch.setattr("reports.views.GROUPS_PER_PAGE", 1)
    client.force_login(dppkb_user)
    html = client.get("/reports/?sort=-change").content.decode()
    table = html.split("<h2 class=\"h5\">Kelompok</h2>")[1]
    assert ">KWT-A<" in table and ">NEL-B<" not in table  # +33.333 before −500.000, one per page
    assert "Halaman 1 dari 2" in table
    html = client.get("/reports/?sort=change").content.decode()
    assert ">NEL-B<" in html.split("<h2 class=\"h5\">Kelompok</h2>")[1]


@pytest.mark.django_db
def test_unknown_sort_falls_back_to_code_and_never_reaches_the_links(client, dppkb_user, city, monkeypatch):
    monkeypatch.setattr("reports.views.GROUPS_PER_PAGE", 1)
    client.force_login(dppkb_user)
    html = client.get("/reports/?sort=%22onmouseover%3Dx").content.decode()
    assert "&amp;sort=code&amp;page=2" in html and 'sort="onmouseover' not in html
    assert ">KWT-A<" in html.split("<h2 class=\"h5\">Kelompok</h2>")[1]


@pytest.mark.django_db
def test_report_query_count_does_not_grow(client, dppkb_user, city, django_assert_max_num_queries):
    for _ in range(5):
        make_member(make_group())
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(20):
        assert client.get("/reports/").status_code == 200


# Group page and problems -------------------------------------------------------------


@pytest.mark.django_db
def test_group_page_shows_each_member_and_charts(client, opd_user, city, group_a):
    client.force_login(opd_user)
    html = client.get("/reports/kelompok/KWT-A/").content.decode()
    for name in ("Ani", "Budi", "Citra"):
        assert name in html
    assert "Rp 300.000" in html and "30,0%" in html  # Ani: 1.000.000 → 1.300.000
    assert "-Rp 300.000" in html and "-20,0%" in html  # Citra
    assert format_rupiah(expected_group(group_a).mean_change) in html
    assert 'id="members-chart"' in html and 'id="changes-chart"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_b", "other_opd_user"])
def test_group_page_is_refused_outside_the_scope(client, request, city, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/reports/kelompok/KWT-A/").status_code == 404
    response = client.post("/reports/kelompok/KWT-A/kendala/", {"kind": "pasar", "noted_on": TODAY.isoformat()})
    assert response.status_code == 404
    assert not GroupProblem.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["cadre_a", "opd_user", "dppkb_user"])
def test_cadre_opd_and_dppkb_note_and_resolve_problems(client, request, group_a, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.post(
        "/reports/kelompok/KWT-A/kendala/",
        {"kind": "pasar", "noted_on": TODAY.isoformat(), "description": "Sayur tidak laku"},
        follow=True,
    )
    problem = GroupProblem.objects.get()
    assert (problem.group, problem.kind, problem.noted_by) == (group_a, "pasar", user)
    assert "Sayur tidak laku" in response.content.decode()
    client.post(f"/reports/kelompok/KWT-A/kendala/{problem.pk}/", {"resolved": "1"})
    problem.refresh_from_db()
    assert problem.is_resolved and problem.resolved_on == TODAY


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "gempa", "noted_on": "2024-01-01"}, "Jenis: Masukkan pilihan yang valid"),
        ({"kind": "pasar", "noted_on": "2999-01-01"}, "masa depan"),
        ({"kind": "pasar", "noted_on": "kemarin"}, "Tanggal: Masukkan tanggal yang valid"),
        ({"kind": "", "noted_on": "2024-01-01"}, "Jenis: Bidang ini tidak boleh kosong."),  # names the field
    ],
)
def test_bad_problem_input_saves_nothing(client, cadre_a, group_a, data, message):
    client.force_login(cadre_a)
    response = client.post("/reports/kelompok/KWT-A/kendala/", data, follow=True)
    assert message in response.content.decode()
    assert not GroupProblem.objects.exists()


@pytest.mark.django_db
def test_problem_of_another_group_cannot_be_resolved_through_mine(client, cadre_a, group_a, group_b):
    other = GroupProblem.objects.create(group=group_b, kind="pasar", noted_on=TODAY)
    client.force_login(cadre_a)
    assert client.post(f"/reports/kelompok/KWT-A/kendala/{other.pk}/", {"resolved": "1"}).status_code == 404
    other.refresh_from_db()
    assert not other.is_resolved
