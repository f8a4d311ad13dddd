"""Background jobs as their users meet them: private to their owner, one at a time per
request, failed (never half-done) when their worker dies, tried again, and deleted after a
day. The jobs run at once here (conftest); tests/test_worker.py runs a real worker."""

import datetime as dt
import os
import time

import pytest
from django.utils import timezone

from households.models import Household
from jobs import services
from jobs.models import Job
from jobs.retention import purge_expired
from jobs.services import write_progress_file
from jobs.tasks import run_job
from tests.jobs_util import job_of
from tests.test_import import upload, wb  # noqa: F401 (wb: a fixture)

QUEUE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}}


@pytest.mark.django_db
def test_a_job_and_its_file_are_the_owners_only(client, opd_user, dppkb_user, other_opd_user, group_a):
    client.force_login(opd_user)
    job = job_of(client.get("/reports/export.xlsx"))
    assert job.status == Job.Status.DONE and job.owner == opd_user
    assert client.get(f"/pekerjaan/{job.pk}/berkas/").status_code == 200
    for other in (dppkb_user, other_opd_user):  # not even DPPKB: a job is its owner's
        client.force_login(other)
        for url in (f"/pekerjaan/{job.pk}/", f"/pekerjaan/{job.pk}/status/", f"/pekerjaan/{job.pk}/berkas/"):
            assert client.get(url).status_code == 404, url
        assert job.label not in client.get("/pekerjaan/").content.decode()


@pytest.mark.django_db
def test_the_job_page_offers_the_file_and_my_jobs_lists_it(client, opd_user, group_a):
    client.force_login(opd_user)
    response = client.get("/reports/export.xlsx", follow=True)
    html = response.content.decode()
    assert "Buku kerja sudah siap" in html and "laporan-uppka-distan" in html
    assert "laporan-uppka-distan" in client.get("/pekerjaan/").content.decode()


@pytest.mark.django_db
def test_a_second_click_gives_the_same_waiting_job_and_five_is_the_limit(client, opd_user, group_a, settings):
    settings.TASKS = QUEUE_ONLY  # nobody works: the jobs wait
    client.force_login(opd_user)
    first = job_of(client.get("/reports/export.xlsx"))
    assert job_of(client.get("/reports/export.xlsx")) == first and first.status == Job.Status.QUEUED
    for year in range(2021, 2025):
        job_of(client.get(f"/reports/export.xlsx?as_of={year}-01"))
    response = client.get("/reports/export.xlsx?as_of=2020-01", follow=True)
    assert "Anda punya 5 pekerjaan yang menunggu atau berjalan" in response.content.decode()
    assert Job.objects.count() == 5


@pytest.mark.django_db
def test_a_waiting_job_polls_its_progress_and_nothing_personal(client, opd_user, group_a, settings):
    settings.TASKS = QUEUE_ONLY
    client.force_login(opd_user)
    job = job_of(client.get("/reports/export.xlsx"))
    page = client.get(f"/pekerjaan/{job.pk}/").content.decode()
    assert 'data-status-url="/pekerjaan/' in page and "js/job.js" in page and "Menunggu giliran" in page
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, stage="rows", done=2500, total=10000, beat=timezone.now())
    state = client.get(f"/pekerjaan/{job.pk}/status/").json()
    assert state == {"status": "running", "ended": False, "text": "Menulis buku kerja: 2.500 baris", "percent": 25}
    # An import's writing, inside its transaction, tells its progress beside the job files.
    write_progress_file(job.pk, "write", 1_200_000, 2_400_000)
    state = client.get(f"/pekerjaan/{job.pk}/status/").json()
    assert state["text"] == "Menyimpan: 1.200.000 dari 2.400.000 pendapatan" and state["percent"] == 50


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_failed_and_can_be_tried_again(client, opd_user, group_a, settings):
    settings.TASKS = QUEUE_ONLY
    client.force_login(opd_user)
    job = job_of(client.get("/reports/export.xlsx"))
    long_ago = timezone.now() - dt.timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started=long_ago, beat=long_ago)
    html = client.get(f"/pekerjaan/{job.pk}/").content.decode()
    assert "Pekerja berhenti saat pekerjaan ini berjalan" in html and "Coba lagi" in html
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
    again = job_of(client.post(f"/pekerjaan/{job.pk}/ulangi/"))
    assert again.pk != job.pk and again.status == Job.Status.DONE and again.params == job.params


@pytest.mark.django_db
def test_a_killed_jobs_task_handed_out_again_does_nothing(opd_user, group_a, settings):
    settings.TASKS = QUEUE_ONLY
    job = services.start(opd_user, Job.Kind.REPORT, "laporan.xlsx", {"query": ""})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, message="mati")
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message == "mati" and not job.result


@pytest.mark.django_db
def test_an_import_failed_meanwhile_rolls_back(client, dppkb_user, wb, monkeypatch):
    """The import commits with its job's "done": a job failed while it wrote (its worker
    thought dead) keeps nothing."""
    from households import import_jobs

    original = import_jobs.apply_plan

    def apply_then_lose_the_job(plan, *, user):
        original(plan, user=user)
        Job.objects.update(status=Job.Status.FAILED, message="dianggap mati")

    monkeypatch.setattr(import_jobs, "apply_plan", apply_then_lose_the_job)
    client.force_login(dppkb_user)
    html = upload(client, wb(), dry_run=False).content.decode()
    assert "tidak ada yang disimpan" in html and not Household.objects.exists()
    assert Job.objects.get().status == Job.Status.FAILED


@pytest.mark.django_db
def test_the_worker_checks_the_scope_again(opd_user, group_a, group_b):
    """A job runs as its owner: a query it may not ask (another OPD) fails, with the page's message."""
    job = services.start(opd_user, Job.Kind.REPORT, "laporan.xlsx", {"query": "opd=DISKAN"})
    assert job.status == Job.Status.FAILED and "OPD" in job.message and not job.result


@pytest.mark.django_db
def test_data_download_job_is_dppkb_only_even_if_asked_directly(opd_user):
    job = services.start(opd_user, Job.Kind.DATA, "data.xlsx", {"since": "2024-01-01"})
    assert job.status == Job.Status.FAILED and job.message == "Hanya DPPKB yang boleh mengunduh data."


@pytest.mark.django_db
def test_an_import_whose_upload_is_gone_says_so(dppkb_user):
    job = services.start(dppkb_user, Job.Kind.IMPORT, "impor", {"token": "gone"})
    assert job.status == Job.Status.FAILED and "Unggah lagi" in job.message


@pytest.mark.django_db
def test_jobs_and_files_are_deleted_a_day_after_they_end(client, opd_user, group_a, settings, tmp_path):
    settings.JOB_DIR = tmp_path
    client.force_login(opd_user)
    old, new = job_of(client.get("/reports/export.xlsx")), job_of(client.get("/reports/export.xlsx?as_of=2024-01"))
    old_file, new_file = services.file_path(old), services.file_path(new)
    Job.objects.filter(pk=old.pk).update(finished=timezone.now() - dt.timedelta(hours=25))
    stray = tmp_path / "99-left-by-a-killed-worker.xlsx.part"
    stray.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    for path in (old_file, stray):
        os.utime(path, (day_ago, day_ago))
    assert purge_expired() == 2
    assert not old_file.exists() and not stray.exists() and new_file.exists()
    assert list(Job.objects.values_list("pk", flat=True)) == [new.pk]
    assert client.get(f"/pekerjaan/{old.pk}/berkas/").status_code == 404


@pytest.mark.django_db
def test_my_jobs_uses_a_fixed_number_of_queries(client, opd_user, group_a, settings, django_assert_max_num_queries):
    settings.TASKS = QUEUE_ONLY
    client.force_login(opd_user)
    for year in range(2020, 2025):
        job_of(client.get(f"/reports/export.xlsx?as_of={year}-01"))
    with django_assert_max_num_queries(8):
        assert client.get("/pekerjaan/").status_code == 200


@pytest.mark.django_db
def test_a_page_waiting_on_a_busy_sqlite_gets_a_message_not_a_server_error(client, cadre_a, monkeypatch):
    """On SQLite a big import holds the one writer for a minute or two: a page that writes
    meanwhile says so (503, try again), instead of a server error."""
    from django.db import OperationalError

    from households import views

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(views, "render", locked)
    client.force_login(cadre_a)
    response = client.get("/kader/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "Server sedang sibuk menyimpan" in response.content.decode()


@pytest.mark.django_db
def test_a_job_no_worker_takes_says_so_and_is_failed_after_an_hour(client, opd_user, group_a, settings):
    settings.TASKS = QUEUE_ONLY  # no worker
    client.force_login(opd_user)
    job = job_of(client.get("/reports/export.xlsx"))
    Job.objects.filter(pk=job.pk).update(created=timezone.now() - dt.timedelta(minutes=2))
    assert "pekerja latar belakang tidak berjalan" in client.get(f"/pekerjaan/{job.pk}/status/").json()["text"]
    Job.objects.filter(pk=job.pk).update(created=timezone.now() - dt.timedelta(minutes=61))
    html = client.get(f"/pekerjaan/{job.pk}/").content.decode()
    assert "Tidak ada pekerja yang mengambil pekerjaan ini dalam satu jam" in html
    assert job_of(client.get("/reports/export.xlsx")).pk != job.pk  # its place is free again


@pytest.mark.django_db
def test_a_refused_file_is_not_offered_again_but_another_upload_is(client, dppkb_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(dppkb_user)
    response = client.post("/impor/", {"file": SimpleUploadedFile("rusak.xlsx", b"PK\x03\x04garbage"), "dry_run": "on"})
    job = job_of(response)
    html = client.get(f"/pekerjaan/{job.pk}/").content.decode()
    assert "bukan buku kerja" in html and "Coba lagi" not in html and "Unggah berkas lain" in html
    assert client.post(f"/pekerjaan/{job.pk}/ulangi/").url == f"/pekerjaan/{job.pk}/"  # nothing started
    assert Job.objects.count() == 1
