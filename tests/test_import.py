"""Importing workbooks (SPEC section 5): all or nothing, row-level problems, upserts, scope."""

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from groups.models import Group, WorkingTeam
from tests.jobs_util import job_file
from households.models import Household, IncomeReading, Membership
from tests.factories import make_reading

GROUP_HEADER = ["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan", "Tanggal Dibentuk", "Jenis Usaha", "Tim Kerja"]
FAMILY_HEADER = ["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Alamat", "Jumlah Jiwa", "Metode KB", "Kode Kelompok", "Tanggal Bergabung", "Tanggal Keluar"]
INCOME_HEADER = ["No KK", "Periode", "Pendapatan"]
KK1, KK2 = "7373010502210001", "7373010502210002"
GROUP = ["IMP-01", "KWT Impor", "KWT", "DISTAN", "73.73.01.1001", dt.date(2020, 1, 1), "sayur", ""]
FAMILIES = [
    [KK1, "7373015506800001", "Siti Impor", "73.73.01.1001", "Jl. A", 4, "PIL", "IMP-01", "2024-03-05", None],
    [KK2, "7373011506800002", "Budi Impor", "73.73.01.1002", "Jl. B", 3, "TIDAK", "IMP-01", dt.date(2024, 3, 5), None],
]
INCOMES = [[KK1, "2024-02", "1.250.000"], [KK1, dt.date(2024, 4, 1), 1_300_000], [KK2, "2024-02", 900_000]]


def build(path, *, groups=(GROUP,), families=FAMILIES, incomes=INCOMES, headers=None, sheets=("Kelompok", "Keluarga", "Pendapatan")):
    headers = headers or {"Kelompok": GROUP_HEADER, "Keluarga": FAMILY_HEADER, "Pendapatan": INCOME_HEADER}
    rows = {"Kelompok": groups, "Keluarga": families, "Pendapatan": incomes}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        sheet.append(headers[name])
        for row in rows[name]:
            sheet.append(list(row))
    book.save(path)
    return path


def run(path, *args):
    """The command's exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_workbook", str(path), *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as e:
        status = e.code
    return status, out.getvalue(), err.getvalue()


def counts():
    return (Group.objects.count(), Household.objects.count(), Membership.objects.count(), IncomeReading.objects.count())


@pytest.fixture
def wb(tmp_path):
    return lambda **kwargs: build(tmp_path / "impor.xlsx", **kwargs)


# The happy path ----------------------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_everything_and_a_second_import_changes_nothing(wb):
    path = wb()
    status, out, _err = run(path)
    assert status == 0 and "1 kelompok baru" in out and "3 pendapatan baru" in out
    group = Group.objects.get(code="IMP-01")
    assert (group.team.opd.code, group.team.is_default, group.kelurahan.code) == ("DISTAN", True, "73.73.01.1001")
    siti = Household.objects.get(kk_number=KK1)
    assert (siti.head_name, siti.family_size, siti.kb_method) == ("Siti Impor", 4, "PIL")
    assert siti.memberships.get().joined_on == dt.date(2024, 3, 5)
    assert dict(siti.readings.values_list("period", "amount")) == {dt.date(2024, 2, 1): 1_250_000, dt.date(2024, 4, 1): 1_300_000}
    before = counts()
    status, out, _err = run(path)
    assert status == 0 and "0 kelompok baru" in out and "8 baris tanpa perubahan" in out
    assert counts() == before
    assert IncomeReading.history.count() == 3  # nothing rewritten


@pytest.mark.django_db
def test_dry_run_writes_nothing(wb):
    status, out, _err = run(wb(), "--dry-run")
    assert status == 0 and "Uji coba" in out and "2 keluarga baru" in out
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_rows_update_existing_records_and_keep_the_history(wb, group_a):
    run(wb())
    changed = [[KK1, "2024-02", "1.400.000"]]
    families = [FAMILIES[0][:5] + [5] + FAMILIES[0][6:8] + ["2024-03-05", "2024-09-30"]]
    status, out, _err = run(wb(families=families, incomes=changed))
    assert status == 0 and "1 keluarga diubah" in out and "1 pendapatan diubah" in out and "1 keanggotaan diubah" in out
    reading = IncomeReading.objects.get(household__kk_number=KK1, period=dt.date(2024, 2, 1))
    assert reading.amount == 1_400_000
    assert [h.amount for h in reading.history.order_by("history_date")] == [1_250_000, 1_400_000]
    assert Membership.objects.get(household__kk_number=KK1).left_on == dt.date(2024, 9, 30)


@pytest.mark.django_db
def test_headers_match_loosely_and_extra_columns_are_ignored(wb):
    headers = {
        "Kelompok": [h.upper().replace(" ", "_") for h in GROUP_HEADER],
        "Keluarga": [" no kk ", *FAMILY_HEADER[1:]],
        "Pendapatan": ["Catatan", *[h.lower() for h in INCOME_HEADER]],
    }
    incomes = [["diisi kader", *row] for row in INCOMES]
    status, _out, err = run(wb(headers=headers, incomes=incomes))
    assert status == 0, err
    assert IncomeReading.objects.count() == 3


@pytest.mark.django_db
def test_readings_for_a_family_already_in_the_database(wb, member_a):
    status, _out, err = run(wb(groups=(), families=(), incomes=[[member_a.household.kk_number, "2024-05", 2_000_000]]))
    assert status == 0, err
    assert member_a.household.readings.get().amount == 2_000_000


@pytest.mark.django_db
def test_named_team_is_created_under_the_opd(wb):
    run(wb(groups=[GROUP[:7] + ["Tim Sayur"]]))
    team = Group.objects.get(code="IMP-01").team
    assert (team.name, team.opd.code, team.is_default) == ("Tim Sayur", "DISTAN", False)
    assert WorkingTeam.objects.filter(name="Tim Sayur").count() == 1


# Problems: every one at once, nothing written -------------------------------------------


def problems_for(path):
    status, _out, err = run(path)
    assert status == 1
    assert counts() == (0, 0, 0, 0)
    return err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "families, expected",
    [
        ([[int(KK1), *FAMILIES[0][1:]]], "Keluarga baris 2, No KK: Nomor KK tersimpan sebagai angka"),
        ([[7.373010502210001e15, *FAMILIES[0][1:]]], "Keluarga baris 2, No KK: Nomor KK tersimpan sebagai angka"),
        ([[KK1, 7373015506800001, *FAMILIES[0][2:]]], "NIK Kepala Keluarga: NIK tersimpan sebagai angka"),
        ([[KK1[:15], *FAMILIES[0][1:]]], "No KK: Nomor KK harus tepat 16 angka"),
        ([[KK1, "7373013206800001", *FAMILIES[0][2:]]], "NIK Kepala Keluarga: Angka ke-7–8"),
        ([FAMILIES[0][:5] + ["empat"] + FAMILIES[0][6:]], "Jumlah Jiwa: Harus berupa bilangan bulat"),
        ([FAMILIES[0][:5] + [0] + FAMILIES[0][6:]], "Jumlah Jiwa: Harus antara 1 dan 50"),
        ([FAMILIES[0][:6] + ["JAMU"] + FAMILIES[0][7:]], "Metode KB: Pilih salah satu"),
        ([FAMILIES[0][:7] + ["KWT-404"] + FAMILIES[0][8:]], "Kode Kelompok: Kelompok tidak dikenal"),
        ([FAMILIES[0][:3] + ["99.99"] + FAMILIES[0][4:]], "Kode Kelurahan: Kode kelurahan tidak dikenal"),
        ([FAMILIES[0][:8] + ["5 Maret 2024", None]], "Tanggal Bergabung: Tulis tanggal sebagai sel tanggal"),
        ([FAMILIES[0][:8] + ["31/02/2024", None]], "Tanggal Bergabung: Tanggal ini tidak ada: 31/02/2024 (hari 31, bulan 2)"),
        ([FAMILIES[0][:8] + ["2999-01-01", None]], "Tanggal Bergabung: Tanggal tidak boleh di masa depan"),
        ([FAMILIES[0][:8] + ["2024-03-05", "2024-01-01"]], "Tanggal Keluar: Tanggal keluar tidak boleh sebelum"),
        ([FAMILIES[0], [KK1, "7373015506800009", *FAMILIES[0][2:7], "IMP-01", "2024-03-05", None]],
         "Keluarga baris 3, NIK Kepala Keluarga: Berbeda dengan baris 2 untuk KK yang sama"),
        ([FAMILIES[0], [*FAMILIES[0][:8], "2024-04-01", None]], "Keluarga baris 3, Kode Kelompok: KK ini sudah terdaftar di kelompok ini pada baris 2"),
    ],
)
def test_bad_family_rows(wb, families, expected):
    err = problems_for(wb(families=families, incomes=()))
    assert expected in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incomes, expected",
    [
        ([[KK1, "2999-01", 1]], "Pendapatan baris 2, Periode: Periode tidak boleh di masa depan"),
        ([[KK1, "Feb 2024", 1]], "Periode: Tulis periode sebagai TTTT-BB"),
        ([[KK1, "2024-02", -5]], "Pendapatan: Pendapatan tidak boleh negatif"),
        ([[KK1, "2024-02", "5 miliar"]], "Pendapatan: Jumlah hanya berisi angka"),
        ([[KK1, "2024-02", 5_000_000_000]], "Pendapatan: Pendapatan tidak boleh lebih dari"),
        ([[KK1, "2024-02", "sejuta"]], "Pendapatan: Jumlah hanya berisi angka"),
        ([["7373019999999999", "2024-02", 1]], "No KK: KK tidak dikenal"),
        ([[KK1, "2024-02", 1], [KK1, "2024-02", 2]], "Pendapatan baris 3, Pendapatan: Periode ini sudah diisi di baris 2"),
    ],
)
def test_bad_income_rows(wb, incomes, expected):
    err = problems_for(wb(incomes=incomes))
    assert expected in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "groups, expected",
    [
        ([GROUP[:2] + ["IKAN"] + GROUP[3:]], "Kelompok baris 2, Jenis Kelompok: Jenis tidak dikenal"),
        ([GROUP[:3] + ["DINAS-X"] + GROUP[4:]], "Kode OPD: Kode OPD tidak dikenal"),
        ([GROUP[:4] + ["73.73.99.9999"] + GROUP[5:]], "Kode Kelurahan: Kode kelurahan tidak dikenal"),
        ([GROUP, GROUP[:1] + ["Nama Lain"] + GROUP[2:]], "Kelompok baris 3, Kode Kelompok: Kode ini sudah ada di baris 2"),
        ([[None, *GROUP[1:]]], "Kode Kelompok: Wajib diisi"),
    ],
)
def test_bad_group_rows(wb, groups, expected):
    err = problems_for(wb(groups=groups))
    assert expected in err


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(wb):
    families = [[KK1[:15], *FAMILIES[0][1:]], FAMILIES[1][:6] + ["JAMU"] + FAMILIES[1][7:]]
    err = problems_for(wb(families=families, incomes=[[KK2, "2999-01", 1]]))
    assert "Keluarga baris 2, No KK" in err and "Keluarga baris 3, Metode KB" in err and "Pendapatan baris 2, Periode" in err


@pytest.mark.django_db
def test_identical_duplicate_rows_are_fine(wb):
    status, _out, err = run(wb(incomes=[INCOMES[0], INCOMES[0]]))
    assert status == 0, err


@pytest.mark.django_db
def test_nik_from_outside_palopo_is_a_warning_that_does_not_block(wb):
    families = [[KK1, "7317015506800001", *FAMILIES[0][2:]]]
    status, _out, err = run(wb(families=families, incomes=()))
    assert status == 0
    assert "Peringatan: Keluarga baris 2, NIK Kepala Keluarga: NIK ini pertama kali diterbitkan di luar Palopo" in err
    assert Household.objects.filter(head_nik="7317015506800001").exists()


@pytest.mark.django_db
def test_missing_sheet_and_missing_column(wb):
    err = problems_for(wb(sheets=("Kelompok", "Keluarga")))
    assert "Pendapatan: Lembar ini tidak ada di buku kerja" in err
    headers = {"Kelompok": GROUP_HEADER, "Keluarga": FAMILY_HEADER[:-2], "Pendapatan": INCOME_HEADER}
    err = problems_for(wb(headers=headers))
    assert "Keluarga baris 1, Tanggal Bergabung: Kolom ini tidak ada di baris judul" in err


@pytest.mark.django_db
def test_formulas_are_refused(wb):
    err = problems_for(wb(incomes=[[KK1, "2024-02", "=1000*1250"]]))
    assert "Pendapatan baris 2, Pendapatan: Berisi rumus" in err


@pytest.mark.django_db
def test_merged_cells_are_refused(tmp_path):
    path = build(tmp_path / "merge.xlsx")
    book = openpyxl.load_workbook(path)
    book["Keluarga"].merge_cells("E2:E3")
    book.save(path)
    err = problems_for(path)
    assert "Keluarga: Lembar ini berisi sel gabungan" in err


@pytest.mark.django_db
def test_a_million_empty_rows_stop_the_reading_with_a_warning(tmp_path):
    path = build(tmp_path / "kosong.xlsx")
    book = openpyxl.load_workbook(path)
    book["Pendapatan"].cell(row=1_000_000, column=1, value=" ")
    book.save(path)
    status, _out, err = run(path)
    assert status == 0
    assert "Peringatan: Pendapatan baris 1" in err and "baris kosong berturut-turut" in err
    assert IncomeReading.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content",
    [
        b"No KK;Periode;Pendapatan\n7373010502210001;2024-02;1000\n",  # a CSV renamed
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"",
        b"PK\x03\x04" + b"\x00" * 100,  # a corrupt zip
    ],
    ids=["csv", "pdf", "empty", "corrupt-zip"],
)
def test_files_that_are_not_workbooks_are_refused_clearly(tmp_path, content):
    path = tmp_path / "bukan.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="bukan buku kerja"):
        call_command("import_workbook", str(path))


@pytest.mark.django_db
def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "arsip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "halo")
    with pytest.raises(CommandError, match="bukan buku kerja"):
        call_command("import_workbook", str(path))


@pytest.mark.django_db
def test_a_failure_while_writing_leaves_nothing_behind(wb, monkeypatch):
    from django.db import DatabaseError

    import households.importer as importer

    def disk_full(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(importer, "_insert_readings", disk_full)  # after groups, households, memberships
    with pytest.raises(CommandError, match="Tidak ada yang disimpan: disk full"):
        run(wb())
    assert counts() == (0, 0, 0, 0)


# Scope ---------------------------------------------------------------------------------


def upload(client, path, *, dry_run=True):
    data = {"file": SimpleUploadedFile("impor.xlsx", path.read_bytes())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post("/impor/", data, follow=True)  # to the job's page: the job ran at once


@pytest.mark.django_db
def test_opd_user_imports_into_their_own_opd(client, opd_user, wb):
    client.force_login(opd_user)
    response = upload(client, wb(), dry_run=False)
    assert "Berhasil diimpor" in response.content.decode()
    assert Group.objects.get(code="IMP-01").team.opd == opd_user.opd


@pytest.mark.django_db
def test_opd_user_cannot_import_another_opds_group_or_families(client, opd_user, wb, member_b):
    client.force_login(opd_user)
    groups = [GROUP[:3] + ["DISKAN"] + GROUP[4:]]
    html = upload(client, wb(groups=groups, families=(), incomes=[[member_b.household.kk_number, "2024-05", 1]])).content.decode()
    assert "Anda hanya dapat mengimpor kelompok OPD Anda sendiri" in html
    assert "Keluarga ini bukan anggota kelompok binaan Anda" in html
    assert not Group.objects.filter(code="IMP-01").exists()
    assert not member_b.household.readings.exists()


@pytest.mark.django_db
def test_opd_user_cannot_add_families_to_another_opds_group(client, opd_user, wb, group_b):
    client.force_login(opd_user)
    families = [FAMILIES[0][:7] + ["NEL-B"] + FAMILIES[0][8:]]
    html = upload(client, wb(groups=(), families=families, incomes=())).content.decode()
    assert "Kelompok ini bukan binaan Anda" in html
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_opd_import_of_another_opds_family_keeps_that_groups_incomes(client, opd_user, wb, group_a, member_b):
    """A family of another OPD's group may join the importer's group (the whole Keluarga
    row must match the record), and bring months nobody recorded; the incomes the other
    group recorded stay as they are."""
    from uppka.months import month_before, this_month

    family = member_b.household
    make_reading(family, dt.date(2024, 2, 1), 2_242_000)
    row = [family.kk_number, family.head_nik, family.head_name, family.kelurahan.code, family.address,
           family.family_size, family.kb_method, "KWT-A", month_before(this_month()).isoformat(), None]
    client.force_login(opd_user)
    changed = [[family.kk_number, "2024-02", 1], [family.kk_number, "2024-04", 1_000_000]]
    html = upload(client, wb(groups=(), families=[row], incomes=changed), dry_run=False).content.decode()
    assert "Kelompok lain mencatat pendapatan yang berbeda" in html
    assert family.memberships.count() == 1 and family.readings.count() == 1
    # Without the overwrite the same file goes through.
    same = [[family.kk_number, "2024-02", 2_242_000], [family.kk_number, "2024-04", 1_000_000]]
    assert upload(client, wb(groups=(), families=[row], incomes=same), dry_run=False).content.decode().count("Berhasil diimpor") == 1
    assert set(family.memberships.values_list("group__code", flat=True)) == {"KWT-A", "NEL-B"}
    assert dict(family.readings.values_list("period", "amount")) == {
        dt.date(2024, 2, 1): 2_242_000, dt.date(2024, 4, 1): 1_000_000}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/impor/", "/impor/templat.xlsx", "/impor/data.xlsx"])
def test_cadres_cannot_import(client, cadre_a, url):
    client.force_login(cadre_a)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_only_dppkb_downloads_data_with_whole_niks(client, opd_user):
    client.force_login(opd_user)
    assert client.get("/impor/data.xlsx").status_code == 403


@pytest.mark.django_db
def test_another_user_cannot_use_my_upload_but_i_can_after_closing_the_browser(client, dppkb_user, wb):
    """An upload is its uploader's: another DPPKB user cannot import it or get its error copy;
    the uploader can, from a new session (the dry run's job keeps it a day)."""
    from django.test import Client

    from tests.factories import make_user

    client.force_login(dppkb_user)
    response = upload(client, wb())
    token = re.search(r"/impor/([\w-]+)/terapkan/", response.content.decode())[1]
    other = Client()
    other.force_login(make_user(role="dppkb", username="dppkb_lain"))
    assert other.post(f"/impor/{token}/terapkan/").status_code == 404
    assert other.get(f"/impor/{token}/kesalahan.xlsx").status_code == 404
    assert counts() == (0, 0, 0, 0)
    again = Client()  # the browser closed: a new session of the same user
    again.force_login(dppkb_user)
    job_page = again.get(response.request["PATH_INFO"]).content.decode()
    assert f"/impor/{token}/terapkan/" in job_page  # "Impor sekarang" is still offered
    assert "Berhasil diimpor" in again.post(f"/impor/{token}/terapkan/", follow=True).content.decode()
    assert counts() == (1, 2, 2, 3)


# The upload page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_dry_run_on_the_page_then_import(client, dppkb_user, wb):
    client.force_login(dppkb_user)
    response = upload(client, wb())
    html = response.content.decode()
    assert response.status_code == 200 and "Uji coba" in html and "2 keluarga baru" in html
    assert counts() == (0, 0, 0, 0)
    token = re.search(r"/impor/([\w-]+)/terapkan/", html)[1]
    response = client.post(f"/impor/{token}/terapkan/", follow=True)
    assert "Berhasil diimpor" in response.content.decode()
    assert counts() == (1, 2, 2, 3)
    assert IncomeReading.objects.first().recorded_by == dppkb_user
    assert client.post(f"/impor/{token}/terapkan/").status_code == 404  # the file is gone


@pytest.mark.django_db
def test_page_lists_every_problem_and_offers_the_workbook_back(client, dppkb_user, wb):
    client.force_login(dppkb_user)
    families = [[KK1[:15], *FAMILIES[0][1:]], FAMILIES[1]]
    response = upload(client, wb(families=families))
    html = response.content.decode()
    assert response.status_code == 200 and re.search(r"Ditemukan \d+ masalah", html)
    assert "<td>Keluarga</td><td>2</td><td>No KK</td>" in html
    assert "<td>Pendapatan</td><td>2</td><td>No KK</td>" in html  # its family was refused
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(f"/impor/{token}/kesalahan.xlsx").streaming_content)))
    assert book.sheetnames[0] == "Kesalahan"
    sheet = book["Keluarga"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "Kesalahan"
    assert "16 angka" in sheet.cell(row=2, column=len(header)).value
    # Budi's row has no error, only the warning that his "no method" has no reason given.
    assert sheet.cell(row=3, column=len(header)).value.startswith("Peringatan: Keluarga baris 3, Metode KB: Tidak ada alasan")
    assert sheet.cell(row=2, column=1).value == KK1[:15]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content, message",
    [
        ("data.csv", b"a;b\n", "bukan berkas CSV. Buka CSV itu di program lembar kerja (Excel, LibreOffice)"),
        ("kosong.xlsx", b"", "kosong"),
        ("rusak.xlsx", b"PK\x03\x04garbage", "bukan buku kerja"),
    ],
)
def test_bad_uploads_get_a_clear_message(client, dppkb_user, name, content, message):
    client.force_login(dppkb_user)
    response = client.post("/impor/", {"file": SimpleUploadedFile(name, content), "dry_run": "on"}, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.django_db
def test_too_large_upload_is_refused(client, dppkb_user, settings):
    settings.IMPORT_MAX_BYTES = 1024
    client.force_login(dppkb_user)
    response = client.post("/impor/", {"file": SimpleUploadedFile("besar.xlsx", b"x" * 2048)})
    assert response.status_code == 200
    assert "lebih besar dari" in response.content.decode()


@pytest.mark.django_db
def test_template_has_the_sheets_headers_and_allowed_values(client, dppkb_user):
    client.force_login(dppkb_user)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/impor/templat.xlsx").streaming_content)))
    assert book.sheetnames == ["Kelompok", "Keluarga", "Pendapatan", "Pertemuan", "Kehadiran", "Status KB", "Data Kelompok", "Petunjuk"]
    assert [c.value for c in book["Keluarga"][1]] == FAMILY_HEADER
    assert book["Keluarga"].max_row == 1  # blank: the example rows are on Petunjuk
    guide = " ".join(str(c) for row in book["Petunjuk"].values for c in row if c)
    assert "Contoh baris Keluarga" in guide and "SUNTIK" in guide and "73.73.01.1001" in guide and "DISTAN" in guide


@pytest.mark.django_db
def test_the_blank_template_imports_cleanly(client, dppkb_user, tmp_path):
    client.force_login(dppkb_user)
    path = tmp_path / "templat.xlsx"
    path.write_bytes(b"".join(client.get("/impor/templat.xlsx").streaming_content))
    status, out, err = run(path)
    assert status == 0, err
    assert counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_data_download_round_trips_through_a_spreadsheet(client, dppkb_user, member_a, tmp_path):
    from django.utils import timezone

    from uppka.months import month_before

    last = month_before(timezone.localdate().replace(day=1))
    make_reading(member_a.household, last, 1_000_000)
    client.force_login(dppkb_user)
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"".join(job_file(client, client.get("/impor/data.xlsx")).streaming_content))
    assert run(path, "--dry-run")[1].count(" 0 ") >= 8  # unchanged: nothing new, nothing changed
    book = openpyxl.load_workbook(path)
    sheet = book[f"Pendapatan {last.year}"]  # the wide form, a sheet per year
    assert sheet.cell(row=2, column=1).value == member_a.household.kk_number
    column = [c.value for c in sheet[1]].index(f"{last:%Y-%m}") + 1
    assert sheet.cell(row=2, column=column).value == 1_000_000
    sheet.cell(row=2, column=column, value=1_100_000)  # edited in a spreadsheet
    book.save(path)
    status, out, err = run(path)
    assert status == 0, err
    assert "1 pendapatan diubah" in out
    assert member_a.household.readings.get(period=last).amount == 1_100_000


@pytest.mark.django_db
def test_opd_import_cannot_backdate_joining_another_opds_family(client, opd_user, wb, group_a, member_b, member_a):
    """As a cadre's registration: a back-dated join would open the months the other group
    recorded to this group's entry sheet. The importer's own families are free."""
    from uppka.months import month_before, this_month

    family = member_b.household
    row = [family.kk_number, family.head_nik, family.head_name, family.kelurahan.code, family.address,
           family.family_size, family.kb_method, "KWT-A", "2020-03-15", None]
    ours = member_a.household
    own = [ours.kk_number, ours.head_nik, ours.head_name, ours.kelurahan.code, ours.address,
           ours.family_size, ours.kb_method, "KWT-A", "2020-01-01", None]
    client.force_login(opd_user)
    html = upload(client, wb(groups=(), families=[row, own], incomes=()), dry_run=False).content.decode()
    assert "paling awal" in html and "Keluarga baris 2" in html.replace("</td><td>", " baris ")
    assert family.memberships.count() == 1
    member_a.refresh_from_db()
    assert member_a.joined_on == dt.date(2024, 1, 10)
    row[8] = month_before(this_month()).isoformat()
    assert upload(client, wb(groups=(), families=[row, own], incomes=()), dry_run=False).content.decode().count("Berhasil diimpor") == 1
    member_a.refresh_from_db()
    assert family.memberships.count() == 2 and member_a.joined_on == dt.date(2020, 1, 1)


@pytest.mark.django_db
def test_stored_upload_is_readable_by_the_app_only(client, dppkb_user, wb, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"
    client.force_login(dppkb_user)
    upload(client, wb())
    stored = list((tmp_path / "imports").glob("*.xlsx"))
    assert len(stored) == 1 and stored[0].stat().st_mode & 0o777 == 0o600


def test_the_summary_writes_counts_with_thousands_separators():
    from households.importer import Plan, describe

    counts = {**Plan().counts(), "households_new": 10_000, "readings_new": 219_196}
    assert "10.000 keluarga baru" in describe(counts) and "219.196 pendapatan baru" in describe(counts)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["UJI/1", 'UJI"2', "UJI 3", "-UJI"])
def test_a_new_group_code_that_would_break_addresses_is_refused(wb, code):
    """A group's code is part of its pages' addresses and file names: "/", quotes and spaces
    would break them (a code like KWT/WARA/01 is what a clerk might type)."""
    groups = [[code, *GROUP[1:]]]
    families = [[*FAMILIES[0][:7], code, *FAMILIES[0][8:]]]
    status, out, err = run(wb(groups=groups, families=families, incomes=()))
    assert status != 0
    assert "Kelompok baris 2, Kode Kelompok: Gunakan huruf, angka, titik, tanda hubung dan garis bawah saja" in out + err
    assert not Group.objects.exists()
