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
def test_purge_calls_the_jobs_retention(monkeypatch, settings, tmp_path, capsys):
    import sys
    import types

    settings.IMPORT_DIR = tmp_path / "imports"
    calls = []
    fake = types.ModuleType("jobs.retention")
    fake.purge_expired = lambda: calls.append(1) or 3
    monkeypatch.setitem(sys.modules, "jobs.retention", fake)
    call_command("purge")
    assert calls == [1] and "Jobs: 3 expired." in capsys.readouterr().out
