"""manage.py purge: old uploads, finished jobs (jobs.retention) and expired sessions go."""

import datetime as dt
import os
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone


@pytest.mark.django_db
def test_purge_removes_old_uploads_and_expired_sessions(settings, tmp_path, capsys):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}  # as in production
    settings.IMPORT_DIR = tmp_path / "imports"
    settings.IMPORT_DIR.mkdir()
    old, new = settings.IMPORT_DIR / "old.xlsx", settings.IMPORT_DIR / "new.xlsx"
    for path in (old, new):
        path.write_bytes(b"NIKs")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="", expire_date=now - dt.timedelta(hours=1))
    Session.objects.create(session_key="current", session_data="", expire_date=now + dt.timedelta(hours=1))

    call_command("purge")

    assert not old.exists() and new.exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]
    assert "Jobs:" in capsys.readouterr().out


@pytest.mark.django_db
def test_purge_removes_jobs_and_their_files_a_day_after_they_ended(client, opd_user, group_a, settings, tmp_path, capsys):
    from jobs import services
    from jobs.models import Job

    settings.IMPORT_DIR, settings.JOB_DIR = tmp_path / "imports", tmp_path / "jobs"
    old = services.start(opd_user, Job.Kind.REPORT, "laporan.xlsx", {"query": ""})
    new = services.start(opd_user, Job.Kind.REPORT, "laporan.xlsx", {"query": "as_of=2024-01"})
    old_file = services.file_path(old)
    Job.objects.filter(pk=old.pk).update(finished=timezone.now() - dt.timedelta(hours=25))
    day_ago = time.time() - 25 * 3600
    os.utime(old_file, (day_ago, day_ago))
    call_command("purge")
    assert list(Job.objects.values_list("pk", flat=True)) == [new.pk]
    assert not old_file.exists() and services.file_path(new).exists()
    assert "Jobs: 1 old files removed." in capsys.readouterr().out
