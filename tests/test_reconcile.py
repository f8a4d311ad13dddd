"""Figures an official can reconcile (issue 13, parts 1 and 5): the first line is named
after the selection and never repeated, the page and the workbook say why lines need not
add up, the kelurahan choices follow the kecamatan, the workbook keeps the page's sort,
an OPD's workbook is named after the OPD, and a split target adds up to the target."""

import io
import re

import openpyxl
import pytest

from groups.models import Group, Kecamatan, Kelurahan, KecamatanTarget, Target, split_target
from households.models import Membership
from reports import engine
from reports.rows import sort_rows
from tests.conftest import months_ago
from tests.factories import make_group, make_member, make_reading
from tests.jobs_util import followed

pytestmark = pytest.mark.django_db


def scope_cells(html):
    """The first cell of each row of the summary table."""
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<tr[^>]*>\s*<td[^>]*>(.*?)</td>", table, re.S)]


def test_the_first_line_names_the_kecamatan_filter_and_the_page_explains_the_lines(client, dppkb_user, city, group_a):
    kecamatan = group_a.kelurahan.kecamatan
    client.force_login(dppkb_user)
    html = client.get("/reports/", {"kecamatan": kecamatan.code}).content.decode()
    first = scope_cells(html)[0]
    assert first == f"Kelompok di Kecamatan {kecamatan.name}"
    assert "Kota Palopo" not in scope_cells(html)
    assert "Mengapa jumlah baris tidak harus sama" in html
    assert "dihitung sekali di baris pertama dan sekali di setiap OPD" in html


def test_an_opd_filter_names_the_first_line_and_leaves_out_the_repeated_opd_line(client, dppkb_user, city):
    client.force_login(dppkb_user)
    cells = scope_cells(client.get("/reports/", {"opd": "DISTAN"}).content.decode())
    assert cells[0] == "OPD DISTAN – Dinas Pertanian"
    assert not any(cell.startswith("OPD ") for cell in cells[1:]), cells


def test_an_opd_users_report_and_workbook_are_named_after_their_opd(client, opd_user, city):
    client.force_login(opd_user)
    cells = scope_cells(client.get("/reports/").content.decode())
    assert cells[0] == "OPD DISTAN – Dinas Pertanian" and cells.count(cells[0]) == 1
    response = followed(client.get("/reports/export.xlsx"))
    assert re.search(r'filename="laporan-uppka-distan-\d{4}-\d{2}\.xlsx"', response["Content-Disposition"])
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    scope = next(row[1] for row in book["Ringkasan"].iter_rows(max_col=2, values_only=True) if row[0] == "Cakupan")
    assert scope == "OPD DISTAN – Dinas Pertanian"  # the header block's line, above the table


def test_the_workbook_carries_the_explanations(client, dppkb_user, city):
    client.force_login(dppkb_user)
    response = followed(client.get("/reports/export.xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    notes = [row[1] for row in book["Ringkasan"].iter_rows(max_col=2, values_only=True) if row[0] == "Catatan"]
    assert len(notes) == 3 and "dihitung sekali di baris pertama" in notes[0]


@pytest.mark.parametrize("sort", ["-change", "median", "-name", "active", "-increased"])
def test_the_workbook_keeps_the_pages_sort(client, dppkb_user, city, sort):
    # more groups, with ties and groups without compared families
    for n, (before, after) in enumerate([(1_000_000, 1_100_000), (1_000_000, 1_100_000), (2_000_000, 1_000_000)]):
        group = make_group(code=f"X-{n}", name=f"kelompok {'b' if n % 2 else 'A'} {n}")
        household = make_member(group, joined_on=months_ago(4)).household
        make_reading(household, months_ago(6), before)
        make_reading(household, months_ago(2), after)
    make_group(code="X-EMPTY")
    client.force_login(dppkb_user)
    page = client.get("/reports/", {"sort": sort})
    assert f"sort={sort}" in page.content.decode()  # the Excel link carries it
    response = followed(client.get("/reports/export.xlsx", {"sort": sort}))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    codes = [row[0] for row in book["Kelompok"].iter_rows(min_row=2, values_only=True)]
    figures = engine.figures(Group.objects.all(), page.context["as_of"])
    expected = [row.code for row in sort_rows(engine.group_rows(Group.objects.all(), figures), sort)]
    assert codes == expected


def test_kelurahan_choices_are_sorted_and_carry_their_kecamatan(client, dppkb_user):
    client.force_login(dppkb_user)
    html = client.get("/reports/").content.decode()
    select = html.split('name="kelurahan"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]+)" data-kecamatan="([^"]+)"[^>]*>([^<]+)</option>', select)
    assert len(options) == Kelurahan.objects.count()
    assert [name for _, _, name in options] == sorted(name for _, _, name in options)
    kecamatan_of = dict(Kelurahan.objects.values_list("code", "kecamatan__code"))
    assert all(kecamatan_of[code] == kecamatan for code, kecamatan, _ in options)
    assert re.search(r'<select name="kelurahan"[^>]*data-follows="id_kecamatan"', html)


def test_a_kelurahan_outside_the_chosen_kecamatan_is_refused(client, dppkb_user):
    first, second = Kecamatan.objects.order_by("code")[:2]
    other = Kelurahan.objects.filter(kecamatan=second).first()
    client.force_login(dppkb_user)
    response = client.get("/reports/", {"kecamatan": first.code, "kelurahan": other.code})
    assert response.status_code == 400
    assert "Kelurahan ini tidak berada di kecamatan yang dipilih" in response.content.decode()


@pytest.mark.parametrize("total, weights", [
    (10_000, {"a": 9, "b": 9, "c": 9, "d": 7, "e": 7, "f": 3, "g": 2, "h": 1, "i": 1}),
    (7, {"a": 1, "b": 1, "c": 1}),
    (100, {"a": 0, "b": 3}),
])
def test_a_split_target_adds_up_to_the_target(total, weights):
    parts = split_target(total, weights)
    assert sum(parts.values()) == total
    weight = sum(weights.values())
    assert all(abs(parts[k] - total * w / weight) < 1 for k, w in weights.items())


def test_the_demo_target_split_adds_up(db):
    from households.demo import _ensure_target

    _ensure_target(2031)
    target = Target.objects.get(year=2031)
    assert sum(KecamatanTarget.objects.filter(target=target).values_list("households", flat=True)) == target.households


def test_the_admin_refuses_kecamatan_targets_that_do_not_add_up(admin_client):
    kecamatan = list(Kecamatan.objects.order_by("code")[:2])
    data = {
        "year": "2032", "households": "100",
        "splits-TOTAL_FORMS": "2", "splits-INITIAL_FORMS": "0", "splits-MIN_NUM_FORMS": "0", "splits-MAX_NUM_FORMS": "1000",
        "splits-0-kecamatan": str(kecamatan[0].pk), "splits-0-households": "60",
        "splits-1-kecamatan": str(kecamatan[1].pk), "splits-1-households": "39",
    }
    response = admin_client.post("/admin/groups/target/add/", data)
    assert response.status_code == 200 and not Target.objects.filter(year=2032).exists()
    assert "99" in response.content.decode() and "100" in response.content.decode()
    data["splits-1-households"] = "40"
    assert admin_client.post("/admin/groups/target/add/", data).status_code == 302
    assert Target.objects.filter(year=2032).exists()
    assert Membership.objects.count() == 0  # nothing else touched


def test_each_selection_downloads_under_its_own_name(client, dppkb_user, city, group_a):
    kecamatan = group_a.kelurahan.kecamatan
    client.force_login(dppkb_user)
    response = followed(client.get("/reports/export.xlsx", {"group_type": "KWT", "kecamatan": kecamatan.code}))
    name = re.search(r'filename="([^"]+)"', response["Content-Disposition"]).group(1)
    assert name.startswith(f"laporan-uppka-kota-kwt-{kecamatan.code}".lower())


def test_filtering_again_keeps_the_sort(client, dppkb_user, city):
    client.force_login(dppkb_user)
    html = client.get("/reports/", {"sort": "-change"}).content.decode()
    form = html.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="sort" value="-change">' in form
