"""Importing the monthly register (SPEC section 8): the optional sheets Pertemuan, Kehadiran
and Status KB, with the rules of section 5 (all or nothing, every bad row named, scope)."""

import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Household, KbStatus, Meeting
from tests.jobs_util import followed
from tests.test_import import (
    FAMILIES, FAMILY_HEADER, GROUP, GROUP_HEADER, INCOME_HEADER, INCOMES, KK1, KK2, counts, run, upload,
)

MEETING_HEADER = ["Kode Kelompok", "Tanggal", "Cara", "Topik"]
ATTENDANCE_HEADER = ["Kode Kelompok", "Tanggal", "No KK"]
STATUS_HEADER = ["No KK", "Periode", "Metode KB", "Alasan"]
MEETINGS = [["IMP-01", "2024-04-10", "tatap muka", "Olahan sayur"], ["IMP-01", dt.date(2024, 5, 8), "VIRTUAL", "Pemasaran"]]
ATTENDANCE = [["IMP-01", "2024-04-10", KK1], ["IMP-01", dt.date(2024, 4, 10), KK2], ["IMP-01", "2024-05-08", KK1]]
# KK1's Keluarga row says PIL, KK2's TIDAK: their latest statuses.
STATUSES = [[KK1, "2024-03", "SUNTIK", None], [KK1, dt.date(2024, 5, 1), "PIL", ""], [KK2, "2024-03", "TIDAK", " iat "]]
HEADERS = {"Kelompok": GROUP_HEADER, "Keluarga": FAMILY_HEADER, "Pendapatan": INCOME_HEADER,
           "Pertemuan": MEETING_HEADER, "Kehadiran": ATTENDANCE_HEADER, "Status KB": STATUS_HEADER}


def build(path, *, groups=(GROUP,), families=FAMILIES, incomes=INCOMES, meetings=MEETINGS, attendance=ATTENDANCE,
          statuses=STATUSES, headers=None):
    rows = {"Kelompok": groups, "Keluarga": families, "Pendapatan": incomes, "Pertemuan": meetings,
            "Kehadiran": attendance, "Status KB": statuses}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, header in {**HEADERS, **(headers or {})}.items():
        if rows[name] is None:  # the sheet left out
            continue
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows[name]:
            sheet.append(list(row))
    book.save(path)
    return path


@pytest.fixture
def wb(tmp_path):
    return lambda **kwargs: build(tmp_path / "register.xlsx", **kwargs)


def register_counts():
    return (Meeting.objects.count(), Meeting.attendees.through.objects.count(), KbStatus.objects.count())


def statuses_of(kk):
    return {s.period: (s.method, s.reason) for s in KbStatus.objects.filter(household__kk_number=kk)}


# The happy path ----------------------------------------------------------------------


@pytest.mark.django_db
def test_register_sheets_import_meetings_attendance_and_statuses(wb):
    status, out, err = run(wb())
    assert status == 0, err
    assert "2 pertemuan baru" in out and "3 kehadiran baru" in out and "3 status KB baru" in out
    meetings = {m.held_on: m for m in Meeting.objects.filter(group__code="IMP-01")}
    assert {day: (m.mode, m.topic) for day, m in meetings.items()} == {
        dt.date(2024, 4, 10): ("TATAP_MUKA", "Olahan sayur"), dt.date(2024, 5, 8): ("VIRTUAL", "Pemasaran")}
    assert set(meetings[dt.date(2024, 4, 10)].attendees.values_list("kk_number", flat=True)) == {KK1, KK2}
    assert set(meetings[dt.date(2024, 5, 8)].attendees.values_list("kk_number", flat=True)) == {KK1}
    # The sheet is the history: no first status from the join month besides it.
    assert statuses_of(KK1) == {dt.date(2024, 3, 1): ("SUNTIK", ""), dt.date(2024, 5, 1): ("PIL", "")}
    assert statuses_of(KK2) == {dt.date(2024, 3, 1): ("TIDAK", "IAT")}
    # Each meeting's history keeps who was present, as a tick on the entry sheet does.
    record = Meeting.history.filter(id=meetings[dt.date(2024, 4, 10)].pk).get()
    assert record.history_type == "+" and {a.household.kk_number for a in record.attendees.all()} == {KK1, KK2}
    before = (register_counts(), Meeting.history.count(), KbStatus.history.count())
    status, out, err = run(wb())
    assert status == 0, err
    assert "0 pertemuan baru" in out and "0 kehadiran baru" in out and "0 status KB baru" in out
    assert (register_counts(), Meeting.history.count(), KbStatus.history.count()) == before


@pytest.mark.django_db
def test_dry_run_counts_the_register_and_writes_nothing(wb):
    status, out, err = run(wb(), "--dry-run")
    assert status == 0, err
    assert "Uji coba" in out and "2 pertemuan baru" in out and "3 status KB baru" in out
    assert register_counts() == (0, 0, 0) and counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_the_register_sheets_are_optional(wb):
    status, out, err = run(wb(meetings=None, attendance=None, statuses=None))
    assert status == 0, err
    # Without Status KB rows, the Keluarga method is the first status, from the join month.
    assert statuses_of(KK1) == {dt.date(2024, 3, 1): ("PIL", "")}
    assert statuses_of(KK2) == {dt.date(2024, 3, 1): ("TIDAK", "LAINNYA")}


@pytest.mark.django_db
def test_rows_are_upserts_keyed_by_group_and_date_and_by_kk_and_period(wb):
    run(wb())
    meetings = [["IMP-01", "2024-04-10", "Virtual", "Topik baru"]]
    statuses = [[KK1, "2024-05", "PIL", None], [KK2, "2024-03", "TIDAK", "HAMIL"]]
    status, out, err = run(wb(meetings=meetings, attendance=(), statuses=statuses))
    assert status == 0, err
    assert "1 pertemuan diubah" in out and "1 status KB diubah" in out
    meeting = Meeting.objects.get(held_on=dt.date(2024, 4, 10))
    assert (meeting.mode, meeting.topic) == ("VIRTUAL", "Topik baru")
    assert meeting.attendees.count() == 2  # attendance is only ever added
    assert statuses_of(KK2) == {dt.date(2024, 3, 1): ("TIDAK", "HAMIL")}
    assert KbStatus.objects.get(household__kk_number=KK2).history.count() == 2


@pytest.mark.django_db
def test_attendance_at_a_meeting_already_recorded(wb, member_a, group_a):
    meeting = Meeting.objects.create(group=group_a, held_on=dt.date(2024, 2, 7), topic="Kas kelompok")
    kk = member_a.household.kk_number
    status, out, err = run(wb(groups=(), families=(), incomes=(), meetings=(),
                              attendance=[["KWT-A", "2024-02-07", kk]], statuses=()))
    assert status == 0, err
    assert list(meeting.attendees.values_list("kk_number", flat=True)) == [kk]
    latest = meeting.history.order_by("-history_date").first()
    assert latest.history_type == "~" and [a.household_id for a in latest.attendees.all()] == [member_a.household_id]


@pytest.mark.django_db
def test_statuses_of_a_family_not_on_the_keluarga_sheet_set_its_method(wb, member_a):
    family = member_a.household
    assert family.kb_method == "SUNTIK"
    statuses = [[family.kk_number, "2024-06", "TIDAK", "TIAL"]]
    status, out, err = run(wb(groups=(), families=(), incomes=(), meetings=(), attendance=(), statuses=statuses))
    assert status == 0, err
    family.refresh_from_db()
    assert family.kb_method == "TIDAK"
    assert statuses_of(family.kk_number) == {dt.date(2024, 1, 1): ("SUNTIK", ""), dt.date(2024, 6, 1): ("TIDAK", "TIAL")}


# Problems: every one named, nothing written ---------------------------------------------


def problems_for(path):
    status, _out, err = run(path)
    assert status == 1
    assert counts() == (0, 0, 0, 0) and register_counts() == (0, 0, 0)
    return err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meetings, expected",
    [
        ([["KWT-404", "2024-04-10", "Virtual", "x"]], "Pertemuan baris 2, Kode Kelompok: Kelompok tidak dikenal"),
        ([["IMP-01", "2999-01-01", "Virtual", "x"]], "Pertemuan baris 2, Tanggal: Tanggal tidak boleh di masa depan"),
        ([["IMP-01", "April 10, 2024", "Virtual", "x"]], "Pertemuan baris 2, Tanggal: Tulis tanggal"),
        ([["IMP-01", "2024-04-10", "Luring", "x"]], "Pertemuan baris 2, Cara: Pilih salah satu: Tatap Muka, Virtual"),
        ([["IMP-01", "2024-04-10", "Virtual", None]], "Pertemuan baris 2, Topik: Wajib diisi"),
        ([["IMP-01", "2024-04-10", "Virtual", "x" * 201]], "Pertemuan baris 2, Topik: Paling banyak 200 karakter"),
        ([MEETINGS[0], ["IMP-01", "2024-04-10", "Virtual", "Lain"]],
         "Pertemuan baris 3, Tanggal: Pertemuan kelompok ini pada tanggal ini sudah ada di baris 2"),
    ],
)
def test_bad_meeting_rows(wb, meetings, expected):
    assert expected in problems_for(wb(meetings=meetings, attendance=()))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "attendance, expected",
    [
        ([["IMP-01", "2024-04-11", KK1]], "Kehadiran baris 2, Tanggal: Kelompok ini tidak punya pertemuan pada tanggal ini"),
        ([["IMP-01", "2024-04-10", "7373019999999999"]], "Kehadiran baris 2, No KK: KK tidak dikenal"),
        ([["IMP-01", "2024-04-10", int(KK1)]], "Kehadiran baris 2, No KK: Nomor KK tersimpan sebagai angka"),
        ([["KWT-404", "2024-04-10", KK1]], "Kehadiran baris 2, Kode Kelompok: Kelompok tidak dikenal"),
        # KK2 joined on 2024-03-05: not yet a member on 1 March.
        ([["IMP-01", "2024-03-01", KK2]], "Kehadiran baris 2, No KK: Keluarga ini bukan anggota aktif kelompok ini"),
    ],
)
def test_bad_attendance_rows(wb, attendance, expected):
    meetings = [*MEETINGS, ["IMP-01", "2024-03-01", "Virtual", "Sebelum"]]
    assert expected in problems_for(wb(meetings=meetings, attendance=attendance))


@pytest.mark.django_db
def test_attendance_after_leaving_is_refused(wb):
    families = [FAMILIES[0][:8] + ["2024-03-05", "2024-04-10"], FAMILIES[1]]
    err = problems_for(wb(families=families))
    assert "Kehadiran baris 2, No KK: Keluarga ini bukan anggota aktif" in err
    assert "Kehadiran baris 3" not in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([[KK1, "2999-01", "PIL", None]], "Status KB baris 2, Periode: Periode tidak boleh di masa depan"),
        ([[KK1, "Mei 2024", "PIL", None]], "Status KB baris 2, Periode: Tulis periode sebagai TTTT-BB"),
        ([[KK1, "2024-05", "JAMU", None]], "Status KB baris 2, Metode KB: Pilih salah satu"),
        ([[KK2, "2024-05", "TIDAK", None]], "Status KB baris 2, Alasan: Wajib diisi bila Metode KB TIDAK"),
        ([[KK2, "2024-05", "TIDAK", "BOSAN"]], "Status KB baris 2, Alasan: Wajib diisi bila Metode KB TIDAK"),
        ([[KK1, "2024-05", "PIL", "HAMIL"]], "Status KB baris 2, Alasan: Kosongkan kecuali Metode KB TIDAK"),
        ([["7373019999999999", "2024-05", "PIL", None]], "Status KB baris 2, No KK: KK tidak dikenal"),
        ([[KK1, "2024-05", "PIL", None], [KK1, "2024-05", "IUD", None]],
         "Status KB baris 3, Metode KB: Periode ini sudah diisi di baris 2"),
        # The Keluarga row says PIL; the latest status says IUD.
        ([[KK1, "2024-03", "PIL", None], [KK1, "2024-06", "IUD", None]],
         "Keluarga baris 2, Metode KB: Harus sama dengan status KB terakhir keluarga ini (2024-06: IUD"),
    ],
)
def test_bad_status_rows(wb, statuses, expected):
    assert expected in problems_for(wb(statuses=statuses))


@pytest.mark.django_db
def test_every_register_problem_is_reported_at_once(wb):
    err = problems_for(wb(
        meetings=[["IMP-01", "2024-04-10", "Luring", "x"]],
        attendance=[["IMP-01", "2024-04-12", KK1]],
        statuses=[[KK1, "2024-05", "JAMU", None]],
    ))
    assert "Pertemuan baris 2, Cara" in err and "Kehadiran baris 2, Tanggal" in err and "Status KB baris 2, Metode KB" in err
    # A Pertemuan row refused for its Cara still names its meeting: no second error for it.
    assert "Kehadiran baris" not in problems_for(wb(meetings=[["IMP-01", "2024-04-10", "Luring", "x"]],
                                                    attendance=[ATTENDANCE[0]]))


@pytest.mark.django_db
def test_missing_register_column_and_formulas_are_named(wb):
    err = problems_for(wb(headers={"Pertemuan": MEETING_HEADER[:3]}))
    assert "Pertemuan baris 1, Topik: Kolom ini tidak ada di baris judul" in err
    err = problems_for(wb(statuses=[[KK1, "2024-05", '=UPPER("pil")', None]]))
    assert "Status KB baris 2, Metode KB: Berisi rumus" in err


# Scope ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opd_user_cannot_import_the_register_of_another_opds_group(client, opd_user, wb, member_b):
    Meeting.objects.create(group=member_b.group, held_on=dt.date(2024, 2, 7), topic="Kas")
    kk = member_b.household.kk_number
    client.force_login(opd_user)
    html = upload(client, wb(
        groups=(), families=(), incomes=(),
        meetings=[["NEL-B", "2024-03-06", "Tatap Muka", "Alat tangkap"]],
        attendance=[["NEL-B", "2024-02-07", kk]],
        statuses=[[kk, "2024-03", "PIL", None]],
    ), dry_run=False).content.decode().replace("</td><td>", " | ")
    assert "Pertemuan | 2 | Kode Kelompok | Kelompok ini bukan binaan Anda" in html
    assert "Kehadiran | 2 | Kode Kelompok | Kelompok ini bukan binaan Anda" in html
    assert "Status KB | 2 | No KK | Keluarga ini bukan anggota kelompok binaan Anda" in html
    assert Meeting.objects.count() == 1 and not Meeting.objects.get().attendees.exists()
    assert statuses_of(kk) == {dt.date(2024, 1, 1): ("SUNTIK", "")}


@pytest.mark.django_db
def test_opd_user_imports_the_register_of_their_own_group(client, opd_user, wb, member_a):
    kk = member_a.household.kk_number
    client.force_login(opd_user)
    response = upload(client, wb(
        groups=(), families=(), incomes=(),
        meetings=[["KWT-A", "2024-03-06", "Tatap Muka", "Kompos"]],
        attendance=[["KWT-A", "2024-03-06", kk]],
        statuses=[[kk, "2024-03", "IMPLAN", None]],
    ), dry_run=False)
    assert "Berhasil diimpor" in response.content.decode()
    assert list(Meeting.objects.get(group__code="KWT-A").attendees.all()) == [member_a.household]
    assert Household.objects.get(pk=member_a.household_id).kb_method == "IMPLAN"


# Workbooks the page hands out ----------------------------------------------------------


def download(client, url):
    return openpyxl.load_workbook(io.BytesIO(b"".join(followed(client.get(url)).streaming_content)))


@pytest.mark.django_db
def test_template_has_the_register_sheets_and_headers(client, dppkb_user, tmp_path):
    client.force_login(dppkb_user)
    book = download(client, "/impor/templat.xlsx")
    assert book.sheetnames[:6] == ["Kelompok", "Keluarga", "Pendapatan", "Pertemuan", "Kehadiran", "Status KB"]
    for name in ("Pertemuan", "Kehadiran", "Status KB"):
        assert [c.value for c in book[name][1]] == HEADERS[name] and book[name].max_row == 1
    guide = " ".join(str(c) for row in book["Petunjuk"].values for c in row if c)
    assert "Contoh baris Status KB" in guide and "Tatap Muka" in guide and "TIAL" in guide


@pytest.mark.django_db
def test_error_copy_marks_bad_register_rows(client, dppkb_user, wb):
    import re

    client.force_login(dppkb_user)
    html = upload(client, wb(statuses=[[KK1, "2024-05", "PIL", "HAMIL"]])).content.decode()
    token = re.search(r"/impor/([\w-]+)/kesalahan.xlsx", html)[1]
    book = download(client, f"/impor/{token}/kesalahan.xlsx")
    sheet = book["Status KB"]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "Kesalahan" and "Kosongkan kecuali" in sheet.cell(row=2, column=len(header)).value


@pytest.mark.django_db
def test_data_download_holds_the_register_and_imports_unchanged(client, dppkb_user, member_a, group_a, tmp_path):
    from uppka.months import month_before, this_month

    day = month_before(this_month()).replace(day=5)
    meeting = Meeting.objects.create(group=group_a, held_on=day, topic="Kompos", mode="VIRTUAL")
    meeting.attendees.add(member_a.household)
    client.force_login(dppkb_user)
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"".join(followed(client.get("/impor/data.xlsx")).streaming_content))
    book = openpyxl.load_workbook(path)
    assert [c.value for c in book["Pertemuan"][2]][1:3] == [dt.datetime.combine(day, dt.time()), "Virtual"]
    assert book["Kehadiran"].cell(row=2, column=3).value == member_a.household.kk_number
    assert book["Status KB"].cell(row=2, column=3).value == "SUNTIK"
    status, out, err = run(path, "--dry-run")
    assert status == 0, err
    assert "0 pertemuan baru, 0 pertemuan diubah, 0 kehadiran baru, 0 status KB baru, 0 status KB diubah" in out


# Query counts --------------------------------------------------------------------------


def _family(n, code="IMP-01"):
    kk = f"73730105022{n:05d}"
    return [kk, f"73730155068{n:05d}", f"Keluarga {n}", "73.73.01.1001", "", 3, "PIL", code, "2024-03-05", None]


def _queries(path):
    with CaptureQueriesContext(connection) as queries:
        status, _out, err = run(path)
    assert status == 0, err
    return len(queries)


@pytest.mark.django_db
def test_import_queries_do_not_grow_with_the_register_rows(tmp_path):
    def workbook(name, families, code):
        kks = [f[0] for f in families]
        days = ["2024-04-10", "2024-04-17", "2024-04-24"]
        return build(
            tmp_path / name, groups=[[code, *GROUP[1:]]], families=families, incomes=(),
            meetings=[[code, day, "Virtual", "Topik"] for day in days],
            attendance=[[code, day, kk] for day in days for kk in kks],
            statuses=[[kk, month, method, None] for kk in kks for month, method in (("2024-03", "SUNTIK"), ("2024-05", "PIL"))],
        )

    _queries(workbook("warm.xlsx", [_family(n, "Q-0") for n in range(200, 203)], "Q-0"))  # the OPD's team is made
    few = _queries(workbook("few.xlsx", [_family(n, "Q-1") for n in range(1, 4)], "Q-1"))
    many = _queries(workbook("many.xlsx", [_family(n, "Q-2") for n in range(100, 140)], "Q-2"))
    assert many == few
    assert Meeting.attendees.through.objects.count() == 3 * 3 + 3 * 3 + 3 * 40


@pytest.mark.django_db
def test_a_family_made_tidak_without_a_reason_gets_lainnya_and_a_warning(wb):
    """KK2's Keluarga row says TIDAK and the Status KB sheet is left out: the import records
    LAINNYA and says so (the registration form would have asked); with the sheet, no warning."""
    status, out, err = run(wb(statuses=None, attendance=[], meetings=[]))
    assert status == 0, err
    assert ("Peringatan: Keluarga baris 3, Metode KB: Tidak ada alasan untuk tidak ber-KB, jadi dicatat sebagai "
            "Lainnya.") in out + err
    assert statuses_of(KK2) == {dt.date(2024, 3, 1): ("TIDAK", "LAINNYA")}
    status, out, err = run(wb(statuses=None, attendance=[], meetings=[]))  # already TIDAK: nothing to say
    assert "Metode KB: Tidak ada alasan" not in err
    status, out, err = run(wb())
    assert "Metode KB: Tidak ada alasan" not in err
