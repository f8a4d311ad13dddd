"""Importing each group's data by year: the optional `Data Kelompok` sheet (SPEC section 9),
with the rules of section 5 (all or nothing, every bad row named, upserts, scope)."""

import datetime as dt

import openpyxl
import pytest

from households.models import GroupProfile
from tests.conftest import TODAY
from tests.test_import import FAMILIES, FAMILY_HEADER, GROUP, GROUP_HEADER, INCOME_HEADER, INCOMES, KK1, KK2, counts, run
from tests.jobs_util import followed

YEAR = TODAY.year
HEADER = [
    "Tahun", "Kode Kelompok", "Nomor SK", "Tanggal SK", "No KK Ketua", "No KK Sekretaris", "No KK Bendahara",
    "Bidang Usaha", "Produk", "Modal Sendiri (Rp)", "Modal KUR/Bank (Rp)", "Modal Bantuan Pemerintah (Rp)",
    "Modal BAZNAS (Rp)", "Modal Koperasi (Rp)", "Modal Lainnya (Rp)", "Pemasaran", "Omzet per Bulan (Rp)",
]
ROW = [YEAR, "IMP-01", "12/SK/2024", dt.date(2024, 3, 1), KK1, KK2, None, "olahan pangan", "Keripik",
       2_500_000, "10 jt", None, 0, None, None, "online, pasar_lokal", None]


def build(path, rows, header=HEADER):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, head, data in (("Kelompok", GROUP_HEADER, [GROUP]), ("Keluarga", FAMILY_HEADER, FAMILIES),
                             ("Pendapatan", INCOME_HEADER, INCOMES), ("Data Kelompok", header, rows)):
        sheet = book.create_sheet(name)
        sheet.append(head)
        for row in data:
            sheet.append(list(row))
    book.save(path)
    return path


def changed(**cells):
    row = list(ROW)
    for name, value in cells.items():
        row[HEADER.index(name)] = value
    return row


@pytest.mark.django_db
def test_the_sheet_imports_each_groups_data_as_an_upsert(tmp_path):
    status, out, err = run(build(tmp_path / "a.xlsx", [ROW]))
    assert status == 0, err
    assert "1 data kelompok tahunan baru" in out
    profile = GroupProfile.objects.get()
    assert (profile.group.code, profile.year, profile.sk_number, profile.sk_date) == ("IMP-01", YEAR, "12/SK/2024", dt.date(2024, 3, 1))
    assert (profile.chair.kk_number, profile.secretary.kk_number, profile.treasurer) == (KK1, KK2, None)
    assert (profile.business_field, profile.products) == ("OLAHAN_PANGAN", "Keripik")
    assert (profile.capital_own, profile.capital_bank, profile.capital_government, profile.capital_total) == (
        2_500_000, 10_000_000, 0, 12_500_000)
    assert profile.channels == ["PASAR_LOKAL", "ONLINE"] and profile.turnover is None
    # The same file again changes nothing; a changed row corrects the profile, with history.
    status, out, err = run(build(tmp_path / "a.xlsx", [ROW]))
    assert status == 0 and "0 data kelompok tahunan baru" in out and profile.history.count() == 1
    status, out, err = run(build(tmp_path / "b.xlsx", [changed(**{"Omzet per Bulan (Rp)": "1.250.000"})]))
    assert status == 0 and "1 data kelompok tahunan diubah" in out
    assert GroupProfile.objects.get().turnover == 1_250_000 and profile.history.count() == 2


@pytest.mark.django_db
def test_the_sheet_is_optional_and_may_be_empty(tmp_path):
    status, _out, err = run(build(tmp_path / "a.xlsx", []))
    assert status == 0, err
    assert not GroupProfile.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("cells, column, message", [
    ({"Tahun": YEAR + 1}, "Tahun", "antara"),
    ({"Kode Kelompok": "NOPE"}, "Kode Kelompok", "tidak dikenal"),
    ({"Bidang Usaha": "TAMBANG"}, "Bidang Usaha", "OLAHAN_PANGAN"),
    ({"Bidang Usaha": None}, "Bidang Usaha", ""),
    ({"Pemasaran": "PASAR, ONLINE"}, "Pemasaran", "TOKO_KIOS"),
    ({"Modal Sendiri (Rp)": "-5"}, "Modal Sendiri (Rp)", "negatif"),
    ({"Omzet per Bulan (Rp)": "banyak"}, "Omzet per Bulan (Rp)", ""),
    ({"No KK Bendahara": "7373010502219999"}, "No KK Bendahara", "KK"),
    ({"No KK Bendahara": KK1}, "No KK Bendahara", "jabatan"),
    ({"Tanggal SK": "2999-01-01"}, "Tanggal SK", ""),
])
def test_bad_rows_are_named_and_nothing_is_written(tmp_path, cells, column, message):
    status, _out, err = run(build(tmp_path / "a.xlsx", [changed(**cells)]))
    assert status == 1
    assert f"Data Kelompok baris 2, {column}" in err, err
    assert message.lower() in err.lower(), err
    assert counts() == (0, 0, 0, 0) and not GroupProfile.objects.exists()


@pytest.mark.django_db
def test_an_officer_who_left_before_the_year_is_refused(tmp_path):
    status, _out, err = run(build(tmp_path / "a.xlsx", [changed(Tahun=2023)]))  # the families joined in 2024
    assert status == 1 and "Data Kelompok baris 2, No KK Ketua" in err and "No KK Sekretaris" in err


@pytest.mark.django_db
def test_the_same_group_and_year_twice_with_other_data_is_an_error(tmp_path):
    status, _out, err = run(build(tmp_path / "a.xlsx", [ROW, ROW, changed(Produk="Abon")]))
    assert status == 1 and "Data Kelompok baris 4, Kode Kelompok" in err and "baris 2" in err


@pytest.mark.django_db
def test_a_chair_who_is_not_an_acceptor_is_a_warning(tmp_path):
    status, out, err = run(build(tmp_path / "a.xlsx", [changed(**{"No KK Ketua": KK2, "No KK Sekretaris": KK1})]))
    assert status == 0, err
    assert "Peringatan" in out + err and "Data Kelompok baris 2, No KK Ketua" in out + err
    assert GroupProfile.objects.get().chair.kk_number == KK2


@pytest.mark.django_db
def test_an_opd_user_cannot_import_another_opds_group_data(tmp_path, client, other_opd_user):
    from tests.test_import import upload

    run(build(tmp_path / "a.xlsx", []))  # the group exists, fostered by DISTAN
    client.force_login(other_opd_user)
    response = upload(client, build(tmp_path / "b.xlsx", [ROW]))
    assert "Data Kelompok" in response.content.decode() and "bukan binaan Anda" in response.content.decode()
    assert not GroupProfile.objects.exists()


@pytest.mark.django_db
def test_the_data_download_carries_each_groups_data_and_round_trips(client, dppkb_user, tmp_path):
    """Imported once, downloaded in the import layout, imported again: nothing changes; a
    cell edited in the download corrects the profile."""
    status, out, err = run(build(tmp_path / "a.xlsx", [ROW]))
    assert status == 0, err
    client.force_login(dppkb_user)
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"".join(followed(client.get("/impor/data.xlsx")).streaming_content))
    book = openpyxl.load_workbook(path)
    sheet = book["Data Kelompok"]
    assert [c.value for c in sheet[1]] == HEADER
    row = [c.value for c in sheet[2]]
    assert row[:3] == [YEAR, "IMP-01", "12/SK/2024"] and row[4:9] == [KK1, KK2, None, "OLAHAN_PANGAN", "Keripik"]
    assert row[9:11] == [2_500_000, 10_000_000] and row[15] == "PASAR_LOKAL, ONLINE"
    status, out, err = run(path)
    assert status == 0, err
    assert "0 data kelompok tahunan baru" in out and "0 data kelompok tahunan diubah" in out
    sheet.cell(row=2, column=HEADER.index("Produk") + 1, value="Keripik pisang")
    book.save(path)
    status, out, err = run(path)
    assert status == 0 and "1 data kelompok tahunan diubah" in out
    assert GroupProfile.objects.get().products == "Keripik pisang"
