"""The report workbook (SPEC section 5): layout, figures, rounding, scope, command line."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reports.excel import GROUP_HEADERS, MEMBER_HEADERS, SUMMARY_HEADERS
from tests.conftest import months_ago
from tests.factories import make_member, make_reading
from tests.jobs_util import followed


def workbook(response):
    response = followed(response)  # the job it started, and its file
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def table(sheet, header_row=1):
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, row)) for row in body]


def summary_table(book):
    sheet = book["Ringkasan"]
    header_row = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), 1) if row[0] == "Cakupan" and row[1] == "Anggota Aktif")
    return sheet, header_row, table(sheet, header_row)


@pytest.mark.django_db
def test_city_export_has_the_three_sheets_with_the_contract_headers(client, dppkb_user, city):
    client.force_login(dppkb_user)
    book = workbook(client.get("/reports/export.xlsx"))
    assert book.sheetnames == ["Ringkasan", "Kelompok", "Keluarga"]
    _, header_row, (header, _) = summary_table(book)
    assert list(header) == SUMMARY_HEADERS
    assert list(table(book["Kelompok"])[0]) == GROUP_HEADERS
    assert list(table(book["Keluarga"])[0]) == MEMBER_HEADERS
    assert book["Kelompok"].freeze_panes == "A2" and book["Keluarga"].freeze_panes == "A2"
    assert book["Ringkasan"].freeze_panes == f"A{header_row + 1}"
    assert book["Kelompok"].auto_filter.ref.startswith("A1:L")
    assert book["Keluarga"].column_dimensions["B"].width > 20


@pytest.mark.django_db
def test_summary_lists_the_city_then_opd_type_and_kecamatan_with_codes(client, dppkb_user, city):
    client.force_login(dppkb_user)
    sheet, _, (_, rows) = summary_table(workbook(client.get("/reports/export.xlsx")))
    labels = [r["Cakupan"] for r in rows]
    assert labels == [
        "Kota Palopo",
        "OPD DISKAN – Dinas Perikanan",
        "OPD DISTAN – Dinas Pertanian",
        "Jenis KWT – Kelompok Wanita Tani",
        "Jenis NELAYAN – Kelompok Nelayan",
        "Kecamatan 73.73.01 – Wara",
    ]
    city_row = rows[0]
    assert (city_row["Anggota Aktif"], city_row["Keluarga Dibandingkan"]) == (4, 4)
    assert (city_row["Rata-rata Sebelum (Rp)"], city_row["Rata-rata Sesudah (Rp)"]) == (1_875_000, 1_775_000)
    assert (city_row["Rata-rata Perubahan (Rp)"], city_row["% Keluarga Naik"]) == (-100_000, 50)
    block = {row[0]: row[1] for row in sheet.iter_rows(max_row=6, values_only=True) if row[0]}
    assert block["Cakupan"] == "Kota Palopo" and block["Dibuat oleh"] == "dppkb_staff"
    assert "WITA" in block["Dibuat pada"]


@pytest.mark.django_db
def test_figures_are_the_report_pages_figures(client, dppkb_user, city):
    client.force_login(dppkb_user)
    book = workbook(client.get("/reports/export.xlsx"))
    group = {r["Kode Kelompok"]: r for r in table(book["Kelompok"])[1]}["KWT-A"]
    row = client.get("/reports/").content.decode().split(">KWT-A<")[1].split("</tr>")[0]
    for column in ("Rata-rata Sebelum (Rp)", "Rata-rata Sesudah (Rp)", "Rata-rata Perubahan (Rp)", "Median Perubahan (Rp)"):
        assert f"Rp {group[column]:,}".replace(",", ".") in row
    assert f"{group['% Keluarga Naik']:.1f}".replace(".", ",") + "%" in row  # 66,7%


@pytest.mark.django_db
def test_cells_are_numbers_with_rupiah_and_percent_formats(client, dppkb_user, city):
    client.force_login(dppkb_user)
    sheet = workbook(client.get("/reports/export.xlsx"))["Keluarga"]
    ani = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "Ani")
    kk, _, code, joined, before, after, change, pct = ani
    assert kk.data_type == "s" and len(kk.value) == 16  # text: no 7.37E+15
    assert isinstance(joined.value, dt.datetime)
    assert (before.value, after.value, change.value, pct.value) == (1_000_000, 1_300_000, 300_000, 30)
    assert isinstance(before.value, int) and "Rp" in before.number_format
    assert pct.number_format == "0.0"


@pytest.mark.django_db
def test_rounding_is_half_away_from_zero(client, dppkb_user, group_a):
    joined = months_ago(4) + dt.timedelta(days=1)
    household = make_member(group_a, head_name="Bulat", joined_on=joined).household
    make_reading(household, months_ago(6), 1)
    make_reading(household, months_ago(5), 2)  # baseline 1.5 → 2
    make_reading(household, months_ago(2), 1)  # current 1; change −0.5 → −1
    client.force_login(dppkb_user)
    sheet = workbook(client.get("/reports/export.xlsx"))["Keluarga"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1] == "Bulat")
    assert row[4:8] == (2, 1, -1, -33.3)


@pytest.mark.django_db
def test_as_of_month_covers_memberships_joined_by_its_end(client, dppkb_user, city):
    client.force_login(dppkb_user)
    book = workbook(client.get(f"/reports/export.xlsx?as_of={months_ago(5):%Y-%m}"))
    assert table(book["Keluarga"])[1] == []
    assert {r["Kode Kelompok"] for r in table(book["Kelompok"])[1]} == {"KWT-A", "NEL-B"}


@pytest.mark.django_db
def test_opd_user_gets_only_their_opd(client, opd_user, city):
    client.force_login(opd_user)
    book = workbook(client.get("/reports/export.xlsx"))
    assert {r["Kode OPD"] for r in table(book["Kelompok"])[1]} == {"DISTAN"}
    assert {r["Kode Kelompok"] for r in table(book["Keluarga"])[1]} == {"KWT-A"}
    assert "DISKAN" not in str([r["Cakupan"] for r in summary_table(book)[2][1]])


@pytest.mark.django_db
def test_opd_user_asking_for_another_opd_is_refused(client, opd_user, city):
    client.force_login(opd_user)
    response = client.get("/reports/export.xlsx?opd=DISKAN")
    assert response.status_code == 400
    assert "tidak dapat melihat laporan OPD ini" in response.content.decode()


@pytest.mark.django_db
def test_cadre_export_covers_only_their_groups(client, cadre_b, city):
    client.force_login(cadre_b)
    book = workbook(client.get("/reports/export.xlsx"))
    assert {r["Kode Kelompok"] for r in table(book["Keluarga"])[1]} == {"NEL-B"}


@pytest.mark.django_db
def test_export_never_contains_a_nik(client, dppkb_user, city):
    from households.models import Household

    client.force_login(dppkb_user)
    book = workbook(client.get("/reports/export.xlsx"))
    text = str([list(sheet.values) for sheet in book])
    for nik in Household.objects.values_list("head_nik", flat=True):
        assert nik not in text


@pytest.mark.django_db
def test_export_needs_a_login(client):
    assert client.get("/reports/export.xlsx").status_code == 302


@pytest.mark.django_db
def test_bad_month_is_refused(client, dppkb_user):
    client.force_login(dppkb_user)
    assert client.get("/reports/export.xlsx?as_of=2999-01").status_code == 400


@pytest.mark.django_db
def test_export_uses_a_fixed_number_of_queries(client, dppkb_user, city, django_assert_max_num_queries):
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(32):  # the job's own bookkeeping is about 12 of them
        response = followed(client.get("/reports/export.xlsx"))
        b"".join(response.streaming_content)


@pytest.mark.django_db
def test_command_writes_the_city_or_one_opd(tmp_path, city):
    out = tmp_path / "kota.xlsx"
    call_command("export_report", "--out", str(out))
    book = openpyxl.load_workbook(out)
    assert len(table(book["Keluarga"])[1]) == 4
    call_command("export_report", "--out", str(out), "--opd", "DISKAN", "--as-of", f"{months_ago(1):%Y-%m}")
    book = openpyxl.load_workbook(out)
    assert {r["Kode Kelompok"] for r in table(book["Keluarga"])[1]} == {"NEL-B"}


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [(["--opd", "NOPE"], "NOPE"), (["--as-of", "2999-01"], "masa depan"), (["--as-of", "Jan"], "TTTT-BB")])
def test_command_refuses_bad_arguments(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_report", "--out", str(tmp_path / "x.xlsx"), *args)
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.django_db
def test_workbook_stays_indonesian_for_a_user_reading_the_site_in_english(client, dppkb_user, city):
    client.force_login(dppkb_user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Download Excel" in client.get("/reports/").content.decode()
    _, _, (_, rows) = summary_table(workbook(client.get("/reports/export.xlsx")))
    assert [r["Cakupan"] for r in rows][:4] == [
        "Kota Palopo", "OPD DISKAN – Dinas Perikanan", "OPD DISTAN – Dinas Pertanian", "Jenis KWT – Kelompok Wanita Tani",
    ]


@pytest.mark.django_db
def test_an_account_without_groups_gets_an_empty_workbook(client, city):
    from tests.factories import make_user

    client.force_login(make_user(role="", username="tanpa_peran"))
    book = workbook(client.get("/reports/export.xlsx"))
    assert table(book["Kelompok"])[1] == [] and table(book["Keluarga"])[1] == []
