"""make backup / restore: a round trip on the database the suite runs on (SQLite or PostgreSQL)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_database(tmp_path):
    """A DATABASE_URL of a fresh database of the same kind as the suite's."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    import psycopg2

    name = f"uppka_backup_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432, password=db["PASSWORD"])
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        yield f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(database_url, *args):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**env, "DATABASE_URL": database_url},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def readings_total(database_url):
    return manage(database_url, "shell", "-c",
                  "from households.models import IncomeReading as R; from django.db.models import Sum; "
                  "print('TOTAL', R.objects.aggregate(s=Sum('amount'))['s'], R.objects.count())").split("TOTAL")[1].strip()


@pytest.mark.django_db
def test_backup_and_restore_round_trip(scratch_database, tmp_path):
    manage(scratch_database, "migrate", "--verbosity", "0")
    manage(scratch_database, "seed_demo", "--households", "30", "--months", "6", "--last-month", "2026-10")
    before = readings_total(scratch_database)
    backup = tmp_path / "backup.bin"
    assert "Backup written" in manage(scratch_database, "backup", "--out", str(backup))
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=1)")
    assert readings_total(scratch_database) != before
    assert "restored" in manage(scratch_database, "restore", str(backup), "--yes")
    assert readings_total(scratch_database) == before


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(scratch_database, tmp_path):
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a backup")
    env = {**os.environ, "DATABASE_URL": scratch_database}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage(scratch_database, "migrate", "--verbosity", "0")
    result = subprocess.run([sys.executable, "manage.py", "restore", str(bogus), "--yes"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "not an SQLite backup" in result.stderr or "pg_restore failed" in result.stderr


@pytest.mark.django_db
def test_a_backup_from_before_the_kept_figures_restores_and_rebuilds_them(scratch_database, tmp_path):
    """A backup made before migration households 0004 (no kept-figures table) restored into
    a current database: the restore succeeds, migrates, and the kept rows equal a rebuild."""
    manage(scratch_database, "migrate", "--verbosity", "0")
    manage(scratch_database, "seed_demo", "--households", "30", "--months", "6", "--last-month", "2026-10")
    manage(scratch_database, "migrate", "households", "0003", "--verbosity", "0")  # as an older release left it
    before = readings_total(scratch_database)
    backup = tmp_path / "old.bin"
    manage(scratch_database, "backup", "--out", str(backup))
    manage(scratch_database, "migrate", "--verbosity", "0")
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=1)")
    assert "restored" in manage(scratch_database, "restore", str(backup), "--yes")
    assert readings_total(scratch_database) == before
    check = manage(scratch_database, "shell", "-c", (
        "from households import figures; from households.models import MemberFigures as F; "
        "names = figures.COLUMNS.split(', '); kept = sorted(F.objects.values_list(*names)); "
        "figures.rebuild(); print('SAME', kept == sorted(F.objects.values_list(*names)), len(kept))"
    ))
    assert "SAME True" in check and "SAME True 0" not in check, check
