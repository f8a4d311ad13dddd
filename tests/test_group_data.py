"""The group data workbook (`Data Kelompok`, SPEC section 9), its command, its page, and
the dashboard's view of the year's data."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from groups.models import GroupProblem, Kelurahan
from households.models import GroupProfile, KbMethod, KbStatus
from households.profiles import save_profile
from reports.group_data import HEADERS, summary
from tests.conftest import TODAY
from tests.factories import make_group, make_member
from tests.jobs_util import followed

YEAR = TODAY.year
pytestmark = pytest.mark.django_db


def profile_of(group, *, chair=None, secretary=None, treasurer=None, channels=("PASAR_LOKAL", "ONLINE"), **values):
    defaults = {
        "sk_number": "SK 7/2024", "sk_date": dt.date(YEAR, 1, 2), "business_field": "OLAHAN_PANGAN",
        "products": "Abon ikan", "capital_own": 2_500_000, "capital_bank": 10_000_000, "capital_government": 3_000_000,
        "capital_baznas": 0, "capital_cooperative": 500_000, "capital_other": 1, "turnover": 1_250_000,
        "chair": chair, "secretary": secretary, "treasurer": treasurer,
    }
    return save_profile(group=group, year=YEAR, values={**defaults, **values}, channels=list(channels), by=None)


def sheet_rows(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Data Kelompok"]
    sheet = book["Data Kelompok"]
    rows = list(sheet.iter_rows())
    return sheet, [c.value for c in rows[0]], [dict(zip(HEADERS, [c for c in row])) for row in rows[1:]]


def download(client, user, **query):
    client.force_login(user)
    response = followed(client.get(reverse("reports:group_data_export"), query))
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def test_the_workbook_matches_the_profile_field_by_field(client, dppkb_user, group_a):
    jan = dt.date(YEAR, 1, 1)
    make_member(group_a, joined_on=dt.date(YEAR - 1, 3, 1), kb_method=KbMethod.IMPLAN)
    chair = make_member(group_a, head_name="Sitti Hasnah", joined_on=dt.date(YEAR - 1, 3, 1), kb_method=KbMethod.IUD).household
    secretary = make_member(group_a, head_name="Rahmawati", joined_on=dt.date(YEAR - 1, 3, 1), kb_method=KbMethod.PIL).household
    treasurer = make_member(group_a, head_name="Nurhayati", joined_on=dt.date(YEAR - 1, 3, 1), kb_method=KbMethod.TIDAK).household
    # Joining records each family's first KB status (SPEC section 8): in force in January.
    KbStatus.objects.filter(household=secretary).update(period=jan.replace(year=YEAR + 1))  # none in force then
    profile = profile_of(group_a, chair=chair, secretary=secretary, treasurer=treasurer)
    sheet, header, rows = sheet_rows(download(client, dppkb_user, year=YEAR))
    assert header == HEADERS and sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    (row,) = rows
    value = {k: c.value for k, c in row.items()}
    kelurahan = Kelurahan.objects.order_by("code").first()
    assert value == {
        "Kode Kelompok": "KWT-A", "Nama Kelompok": "KWT Melati", "Jenis Kelompok": "KWT", "Kode OPD": "DISTAN",
        "Kode Kelurahan": kelurahan.code, "Kelurahan": kelurahan.name, "Tanggal Dibentuk": dt.datetime(2020, 1, 1),
        "Nomor SK": profile.sk_number, "Tanggal SK": dt.datetime(YEAR, 1, 2),
        "Ketua": "Sitti Hasnah", "Sekretaris": "Rahmawati", "Bendahara": "Nurhayati",
        "Bidang Usaha": "OLAHAN_PANGAN", "Produk": "Abon ikan",
        "Modal Sendiri (Rp)": 2_500_000, "Modal KUR/Bank (Rp)": 10_000_000, "Modal Bantuan Pemerintah (Rp)": 3_000_000,
        "Modal BAZNAS (Rp)": 0, "Modal Koperasi (Rp)": 500_000, "Modal Lainnya (Rp)": 1,
        "Pemasaran": "PASAR_LOKAL, ONLINE", "Omzet per Bulan (Rp)": 1_250_000,
        "Anggota Aktif": 4, "Akseptor": 2, "MKJP": 2,
    }
    assert "Rp" in row["Modal Sendiri (Rp)"].number_format and "Rp" in row["Omzet per Bulan (Rp)"].number_format


def test_channels_follow_the_spec_order_and_an_empty_turnover_stays_empty(client, dppkb_user, group_a):
    profile_of(group_a, channels=["PENGEPUL", "LANGSUNG", "PASAR_LOKAL"], turnover=None)
    _sheet, _header, (row,) = sheet_rows(download(client, dppkb_user, year=YEAR))
    assert row["Pemasaran"].value == "PASAR_LOKAL, LANGSUNG, PENGEPUL"
    assert row["Omzet per Bulan (Rp)"].value is None


def test_counts_are_as_of_the_first_of_january(client, dppkb_user, group_a):
    make_member(group_a, joined_on=dt.date(YEAR - 1, 5, 1))  # SUNTIK since joining
    make_member(group_a, joined_on=dt.date(YEAR - 1, 5, 1), left_on=dt.date(YEAR - 1, 12, 31))  # left
    if TODAY > dt.date(YEAR, 1, 1):
        make_member(group_a, joined_on=dt.date(YEAR, 1, 2))  # joined after 1 January
    _sheet, _header, (row,) = sheet_rows(download(client, dppkb_user, year=YEAR))
    assert (row["Anggota Aktif"].value, row["Akseptor"].value, row["MKJP"].value) == (1, 1, 0)
    assert row["Ketua"].value is None and row["Modal Sendiri (Rp)"].value is None  # no data yet


def test_an_opd_gets_its_own_groups_and_a_cadre_theirs(client, opd_user, cadre_b, group_a, group_b):
    profile_of(group_a)
    profile_of(group_b)
    _s, _h, rows = sheet_rows(download(client, opd_user, year=YEAR))
    assert [r["Kode Kelompok"].value for r in rows] == ["KWT-A"]
    _s, _h, rows = sheet_rows(download(client, cadre_b, year=YEAR))
    assert [r["Kode Kelompok"].value for r in rows] == ["NEL-B"]


def test_an_opd_cannot_ask_for_another_opds_workbook(client, opd_user, group_b):
    client.force_login(opd_user)
    assert client.get(reverse("reports:group_data_export"), {"opd": "DISKAN"}).status_code == 400
    assert client.get(reverse("reports:group_data_export"), {"year": YEAR + 1}).status_code == 400


def test_deactivated_groups_appear_only_with_data_for_the_year(client, dppkb_user, group_a):
    make_group(code="OLD-1", is_active=False)
    profile_of(make_group(code="OLD-2", is_active=False))
    _s, _h, rows = sheet_rows(download(client, dppkb_user, year=YEAR))
    assert [r["Kode Kelompok"].value for r in rows] == ["KWT-A", "OLD-2"]


def test_the_command_writes_the_workbook_for_one_opd(tmp_path, group_a, group_b):
    profile_of(group_a)
    out = tmp_path / "data.xlsx"
    stdout = io.StringIO()
    call_command("export_groups", "--year", str(YEAR), "--out", str(out), "--opd", "DISKAN", stdout=stdout)
    _s, _h, rows = sheet_rows(out.read_bytes())
    assert [r["Kode Kelompok"].value for r in rows] == ["NEL-B"] and "DISKAN" in stdout.getvalue()
    with pytest.raises(CommandError):
        call_command("export_groups", "--year", str(YEAR + 1), "--out", str(out))
    with pytest.raises(CommandError):
        call_command("export_groups", "--out", str(out), "--opd", "NOPE")


def test_summary_counts_fields_channels_capital_and_the_groups_without_data(group_a, group_b):
    third = make_group(code="KWT-C")
    profile_of(group_a, channels=["PASAR_LOKAL"])
    profile_of(group_b, business_field="PERIKANAN", channels=["PENGEPUL", "ONLINE"], capital_bank=0, turnover=None)
    GroupProblem.objects.create(group=group_a, kind="pasar", noted_on=TODAY)
    GroupProblem.objects.create(group=group_b, kind="pasar", noted_on=TODAY)  # two channels: not flagged
    data = summary(type(group_a).objects.all(), YEAR)
    assert (data.groups, data.with_data, data.without_data) == (3, 2, 1)
    assert [g.code for g in data.missing] == [third.code]
    assert dict((c, n) for c, _l, n in data.business)["PERIKANAN"] == 1
    assert dict((c, n) for c, _l, n in data.channels) == {
        "PASAR_LOKAL": 1, "TOKO_KIOS": 0, "LANGSUNG": 0, "ONLINE": 1, "PENGEPUL": 1, "LAINNYA": 0}
    capital = {c: (amount, n) for c, _l, amount, n in data.capital}
    assert capital["KUR_BANK"] == (10_000_000, 1) and capital["SENDIRI"] == (5_000_000, 2)
    assert data.turnover_mean == 1_250_000 and data.turnover_groups == 1
    assert [p.group.code for p in data.market_problems] == ["KWT-A"]


def test_a_resolved_market_problem_is_not_flagged(group_a):
    profile_of(group_a, channels=[])
    GroupProblem.objects.create(group=group_a, kind="pasar", noted_on=TODAY, is_resolved=True)
    assert summary(type(group_a).objects.all(), YEAR).market_problems == []


def test_the_dashboard_shows_channels_and_capital(client, dppkb_user, group_a, django_assert_max_num_queries):
    profile_of(group_a)
    for n in range(5):
        profile_of(make_group(code=f"X-{n}"), channels=["TOKO_KIOS"])
    client.force_login(dppkb_user)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("reports:dashboard")).content.decode()
    assert "Rp 15.000.000" in page  # members' own capital: 6 × Rp 2.500.000
    assert "data-kelompok" in page


def test_the_group_data_page_keeps_to_the_users_groups(client, opd_user, group_a, group_b):
    profile_of(group_b, business_field="PERIKANAN")
    profile_of(group_a)
    client.force_login(opd_user)
    response = client.get(reverse("reports:group_data"))
    assert response.status_code == 200 and response.context["data"].groups == 1
    assert client.get(reverse("reports:group_data"), {"opd": "DISKAN"}).status_code == 400


def test_summary_query_count_does_not_grow(group_a, django_assert_num_queries):
    for n in range(4):
        group = make_group(code=f"Y-{n}")
        profile_of(group)
        GroupProblem.objects.create(group=group, kind="pasar", noted_on=TODAY)
    with django_assert_num_queries(5):
        data = summary(type(group_a).objects.all(), YEAR)
        [p.group.team.opd.code for p in data.market_problems]
        [g.team.opd.code for g in data.missing]
    assert GroupProfile.objects.count() == 4


def test_seed_demo_fills_plausible_group_data():
    from households.demo import seed_demo
    from households.models import Membership
    from households.profiles import officer_candidates

    last = TODAY.replace(day=1)
    result = seed_demo(households=300, months=14, seed=3, last_month=last)
    profiles = list(GroupProfile.objects.select_related("group", "chair"))
    assert result.profiles == len(profiles) and 0 < len(profiles) < 2 * result.groups
    assert {p.year for p in profiles} == {YEAR - 1, YEAR}
    this_year = [p for p in profiles if p.year == YEAR]
    assert 0.6 * result.groups < len(this_year) < result.groups  # some groups have no data yet
    for p in profiles:
        assert p.capital_total > 0 and p.channels
        if p.chair_id:
            assert p.chair in officer_candidates(p.group, p.year)
            assert len({p.chair_id, p.secretary_id, p.treasurer_id}) == 3
    chairs = [p.chair for p in profiles if p.chair_id]
    assert sum(c.kb_method != "TIDAK" for c in chairs) > 0.8 * len(chairs)
    assert Membership.objects.exists()
    # The dashboard's view of it
    data = summary(type(profiles[0].group).objects.all(), YEAR)
    assert sum(n for _c, _l, n in data.channels) >= data.with_data == len(this_year)
