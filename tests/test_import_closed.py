"""Closed months bind an import as they bind the entry sheet (SPEC sections 5 and 8): an OPD
user's workbook may not change a closed month's incomes, KB statuses, meetings, attendance or
members; DPPKB may still correct; a family the workbook adds brings its past."""

import datetime as dt
import re

import pytest

from households.models import ClosedMonth, Household, IncomeReading, KbStatus, Meeting, Membership
from tests.test_import import FAMILIES, INCOMES, KK1, KK2, run, upload
from tests.test_import_register import build

APRIL = dt.date(2024, 4, 1)


@pytest.fixture
def april_closed(tmp_path):
    """The workbook of tests/test_import_register.py imported by the system, then April 2024 closed."""
    status, out, err = run(build(tmp_path / "first.xlsx"))
    assert status == 0, err
    ClosedMonth.objects.create(period=APRIL)


def snapshot():
    return (
        sorted(IncomeReading.objects.values_list("household__kk_number", "period", "amount")),
        sorted(KbStatus.objects.values_list("household__kk_number", "period", "method", "reason")),
        sorted(Meeting.objects.values_list("held_on", "mode", "topic")),
        Meeting.attendees.through.objects.count(),
        sorted(Membership.objects.values_list("household__kk_number", "joined_on", "left_on")),
        Household.objects.count(),
    )


def problems(response) -> list[tuple[str, str, str, str]]:
    """The import page's problems: (sheet, row, column, message)."""
    html = " ".join(response.content.decode().split())
    return [tuple(cells) for cells in re.findall(
        r'<tr class="table-danger"><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', html)]


@pytest.mark.django_db
def test_an_opd_workbook_may_not_change_a_closed_month_and_changes_nothing(client, opd_user, april_closed, tmp_path):
    Meeting.objects.get(held_on=dt.date(2024, 4, 10)).attendees.remove(Household.objects.get(kk_number=KK2))
    before = snapshot()
    incomes = [*INCOMES[:1], [KK1, APRIL, 1_400_000], *INCOMES[2:]]  # April's income corrected
    meetings = [["IMP-01", "2024-04-10", "virtual", "Olahan sayur"], ["IMP-01", "2024-05-08", "VIRTUAL", "Pemasaran"],
                ["IMP-01", "2024-04-20", "tatap muka", "Baru"]]  # April: a mode changed, a meeting added
    statuses = [[KK1, "2024-03", "SUNTIK", None], [KK1, "2024-05", "PIL", ""], [KK1, "2024-04", "IUD", ""],
                [KK2, "2024-03", "TIDAK", "iat"], [KK2, "2024-02", "IUD", ""]]  # February's would hold into April
    attendance = [["IMP-01", "2024-04-10", KK1], ["IMP-01", "2024-04-10", KK2], ["IMP-01", "2024-05-08", KK1]]
    families = [FAMILIES[0][:8] + ["2024-04-02", None], FAMILIES[1]]  # KK1's joining moved into April
    path = build(tmp_path / "opd.xlsx", incomes=incomes, meetings=meetings, statuses=statuses, attendance=attendance,
                 families=families)
    client.force_login(opd_user)
    closed = "April 2024 sudah ditutup: hanya DPPKB yang dapat mengubah registernya."
    assert problems(upload(client, path, dry_run=False)) == [
        ("Keluarga", "2", "Tanggal Bergabung", "April 2024 sudah ditutup: tanggal pada atau sebelum hari terakhirnya "
         "akan mengubah registernya. Pilih tanggal yang lebih kemudian, atau minta DPPKB."),
        ("Pendapatan", "3", "Periode", closed),
        ("Pertemuan", "2", "Tanggal", closed),
        ("Pertemuan", "4", "Tanggal", closed),
        ("Kehadiran", "3", "Tanggal", closed),
        ("Status KB", "4", "Periode", closed),
        ("Status KB", "6", "Periode", "April 2024 sudah ditutup, dan metode yang diubah sekarang akan mengubahnya juga. "
         "Hubungi DPPKB."),
    ]
    assert snapshot() == before  # all or nothing


@pytest.mark.django_db
def test_an_opd_workbook_may_add_to_open_months_and_a_new_familys_past(client, opd_user, april_closed, tmp_path):
    kk = "7373010502210009"
    families = [*FAMILIES, [kk, "7373011506800009", "Cici Baru", "73.73.01.1001", "Jl. C", 2, "PIL", "IMP-01", "2024-05-03", None]]
    incomes = [*INCOMES, [kk, "2024-03", 800_000], [kk, APRIL, 850_000], [kk, "2024-05", 900_000], [KK1, "2024-05", 1_350_000]]
    path = build(tmp_path / "opd.xlsx", families=families, incomes=incomes)
    client.force_login(opd_user)
    response = upload(client, path, dry_run=False)
    assert "Berhasil diimpor" in response.content.decode(), " ".join(response.content.decode().split())[-3000:]
    assert dict(IncomeReading.objects.filter(household__kk_number=kk).values_list("period", "amount")) == {
        dt.date(2024, 3, 1): 800_000, APRIL: 850_000, dt.date(2024, 5, 1): 900_000}  # its April is its past


@pytest.mark.django_db
def test_dppkb_may_still_correct_a_closed_month_by_import(client, dppkb_user, april_closed, tmp_path):
    incomes = [*INCOMES[:1], [KK1, APRIL, 1_400_000], *INCOMES[2:]]
    client.force_login(dppkb_user)
    response = upload(client, build(tmp_path / "dppkb.xlsx", incomes=incomes), dry_run=False)
    assert "Berhasil diimpor" in response.content.decode()
    assert IncomeReading.objects.get(household__kk_number=KK1, period=APRIL).amount == 1_400_000
