"""A real worker (``manage.py db_worker``, another process) on the test database: it runs a
job; killed in the middle of an import it leaves nothing written, the job is failed after the
stale timeout with a message, and trying again imports the file."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xlsxwriter
from django.conf import settings as django_settings
from django.db import connection

from django_tasks_db.models import DBTaskResult

from households.models import Household, IncomeReading
from jobs.models import Job
from tests.factories import make_user, valid_nik
from tests.jobs_util import job_of

BASE = Path(__file__).resolve().parent.parent
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
FAMILIES = 1000


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker(*args, paused_flag: Path | None = None) -> subprocess.Popen:
    """``manage.py db_worker`` on the test database; with ``paused_flag``, one whose imports
    stop in the middle of their writes (tests/paused_worker.py)."""
    env = {**os.environ, "DATABASE_URL": database_url(), "IMPORT_DIR": str(django_settings.IMPORT_DIR),
           "JOB_DIR": str(django_settings.JOB_DIR), "DEBUG": "1"}
    command = [sys.executable, "manage.py", "db_worker"]
    if paused_flag:
        env["PAUSED_FLAG"] = str(paused_flag)
        command = [sys.executable, "tests/paused_worker.py"]
    return subprocess.Popen([*command, "--queue-name", "*", "--no-reload", "--no-startup-delay", "--interval", "0.2", *args],
                            cwd=BASE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def big_workbook(path: Path) -> Path:
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    groups = book.add_worksheet("Kelompok")
    groups.write_row(0, 0, ["Kode Kelompok", "Nama Kelompok", "Jenis Kelompok", "Kode OPD", "Kode Kelurahan",
                            "Tanggal Dibentuk", "Jenis Usaha", "Tim Kerja"])
    groups.write_row(1, 0, ["JOB-01", "KWT Pekerja", "KWT", "DISTAN", "73.73.01.1001", "2020-01-01", "sayur", ""])
    families = book.add_worksheet("Keluarga")
    families.write_row(0, 0, ["No KK", "NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Alamat",
                              "Jumlah Jiwa", "Metode KB", "Kode Kelompok", "Tanggal Bergabung", "Tanggal Keluar"])
    for n in range(1, FAMILIES + 1):
        families.write_row(n, 0, [f"737301050{n:07d}", valid_nik(n), f"Keluarga {n}", "73.73.01.1001", "Jl. A", 4,
                                  "PIL", "JOB-01", "2024-03-05", ""])
    incomes = book.add_worksheet("Pendapatan")
    incomes.write_row(0, 0, ["No KK", "Periode", "Pendapatan"])
    row = 1
    for n in range(1, FAMILIES + 1):
        for month in range(1, 7):
            incomes.write_row(row, 0, [f"737301050{n:07d}", f"2024-{month:02d}", 1_000_000 + n])
            row += 1
    book.close()
    return path


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture
def real_worker_settings(settings, tmp_path):
    settings.TASKS = DATABASE_BACKEND
    settings.IMPORT_DIR = tmp_path / "imports"
    settings.JOB_DIR = tmp_path / "jobs"
    settings.JOB_STALE_SECONDS = 2
    return settings


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_job_and_a_killed_one_leaves_nothing(client, master_data, real_worker_settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = make_user(role="dppkb", username="dppkb_worker")
    client.force_login(user)
    # A workbook job, run by a worker that drains the queue and exits.
    report = job_of(client.get("/reports/export.xlsx"))
    assert report.status == Job.Status.QUEUED
    done = worker("--batch")
    assert done.wait(timeout=120) == 0, done.stdout.read().decode()
    report.refresh_from_db()
    assert report.status == Job.Status.DONE, report.message
    assert client.get(f"/pekerjaan/{report.pk}/berkas/").status_code == 200

    # An import, and the worker killed while it writes.
    upload = SimpleUploadedFile("besar.xlsx", big_workbook(tmp_path / "besar.xlsx").read_bytes())
    job = job_of(client.post("/impor/", {"file": upload}))
    flag = tmp_path / "paused"
    running = worker(paused_flag=flag)
    try:
        wait_for(flag.exists, 240, "the import to be in the middle of its writes")
        seen = client.get(f"/pekerjaan/{job.pk}/status/").json()
        assert seen["status"] == "running" and re.fullmatch(r"Menyimpan(: [\d.]+ dari [\d.]+ pendapatan)?", seen["text"]), seen
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=30)
    finally:
        if running.poll() is None:
            running.kill()
    assert not Household.objects.exists() and not IncomeReading.objects.exists()  # all or nothing
    time.sleep(2.5)  # JOB_STALE_SECONDS: no heartbeat since the kill
    page = client.get(f"/pekerjaan/{job.pk}/").content.decode()
    assert "Pekerja berhenti saat pekerjaan ini berjalan" in page
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"  # the queue's record too, not "running" for ever

    # Tried again, by a new worker: imported whole.
    again = job_of(client.post(f"/pekerjaan/{job.pk}/ulangi/"))
    done = worker("--batch")
    assert done.wait(timeout=300) == 0, done.stdout.read().decode()
    again.refresh_from_db()
    assert again.status == Job.Status.DONE, again.message
    assert Household.objects.count() == FAMILIES and IncomeReading.objects.count() == FAMILIES * 6
