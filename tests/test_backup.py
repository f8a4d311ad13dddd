"""make backup / restore: a round trip on the database the suite runs on (SQLite or PostgreSQL),
and the traps of issue 18: a backup that lies, a restore that wipes good data."""

import os
import sqlite3
import stat
import time
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_database(tmp_path):
    """A DATABASE_URL of a fresh database of the same kind as the suite's."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    yield from _postgres_scratch(db["USER"], db["PASSWORD"], db["HOST"], db["PORT"] or 5432)


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database whatever the suite's: the suite's server, or on the SQLite
    pass the local one (127.0.0.1:5432, user postgres), which CI starts before both passes."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        yield from _postgres_scratch(db["USER"], db["PASSWORD"], db["HOST"], db["PORT"] or 5432)
    else:
        yield from _postgres_scratch("postgres", "", "127.0.0.1", 5432)


def _postgres_scratch(user, password, host, port):
    import psycopg2

    name = f"uppka_backup_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(dbname="postgres", user=user, host=host, port=port, password=password)
    except psycopg2.OperationalError:
        missing_tool(f"PostgreSQL is not reachable on {host}:{port}")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        credentials = user + (f":{password}" if password else "")
        yield f"postgres://{credentials}@{host}:{port}/{name}"
    finally:
        cursor = admin.cursor()
        # The restore leaves <name>_before_<time> (the database as it was) beside it.
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [name + "%"])
        for (found,) in cursor.fetchall():
            cursor.execute(f'DROP DATABASE IF EXISTS "{found}" WITH (FORCE)')
        admin.close()


@pytest.fixture(autouse=True)
def backup_dir(tmp_path, monkeypatch):
    """Every command of these tests keeps its backups in the test's own folder."""
    folder = tmp_path / "backups"
    monkeypatch.setenv("BACKUP_DIR", str(folder))
    return folder


def run(database_url, *args, input=None, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "DEBUG"}}
    if database_url:
        clean["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, input=input)


def manage(database_url, *args):
    result = run(database_url, *args)
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
    manage(scratch_database, "migrate", "--verbosity", "0")
    result = run(scratch_database, "restore", str(bogus), "--yes")
    assert result.returncode != 0
    assert "not an SQLite backup" in result.stderr


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


def seeded(database_url):
    manage(database_url, "migrate", "--verbosity", "0")
    manage(database_url, "seed_demo", "--households", "10", "--months", "3", "--last-month", "2026-10")
    return readings_total(database_url)


def test_backup_without_database_url_in_production_refuses_and_creates_nothing(tmp_path, backup_dir):
    result = run(None, "backup")
    assert result.returncode != 0
    assert "ERROR uppka.backup Backup failed: DATABASE_URL is not set" in result.stderr
    assert not backup_dir.exists() or not any(backup_dir.iterdir())


def test_backup_of_a_missing_sqlite_file_refuses_instead_of_creating_it(tmp_path):
    missing = tmp_path / "nothing.sqlite3"
    result = run(f"sqlite:///{missing}", "backup")
    assert result.returncode != 0 and "does not exist" in result.stderr
    assert not missing.exists()


@pytest.mark.django_db
def test_a_backup_is_private_verified_and_sized(scratch_database, backup_dir):
    seeded(scratch_database)
    out = manage(scratch_database, "backup")
    (written,) = backup_dir.iterdir()
    assert written.name.startswith("uppka-")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert f"{written.stat().st_size:,} bytes" in out and "verified" in out


@pytest.mark.django_db
def test_backup_prunes_only_its_own_old_files(scratch_database, backup_dir):
    seeded(scratch_database)
    backup_dir.mkdir(mode=0o700)
    old, recent, other = backup_dir / "uppka-20200101-000000.sqlite3", backup_dir / "uppka-recent.dump", backup_dir / "notes.txt"
    for path in (old, recent, other):
        path.write_text("x")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    os.utime(other, (ten_days_ago, ten_days_ago))
    out = manage(scratch_database, "backup", "--keep-days", "7")
    assert "Removed uppka-20200101-000000.sqlite3" in out
    assert not old.exists() and recent.exists() and other.exists()
    assert len(list(backup_dir.glob("uppka-*"))) == 2


@pytest.mark.django_db
def test_a_backup_that_cannot_be_written_exits_non_zero_with_an_error_line(scratch_database, tmp_path):
    seeded(scratch_database)
    (tmp_path / "a-file").write_text("")
    result = run(scratch_database, "backup", "--out", str(tmp_path / "a-file" / "backup.bin"))
    assert result.returncode != 0
    assert "ERROR uppka.backup Backup failed" in result.stderr


@pytest.mark.django_db
def test_restore_asks_and_a_missing_answer_is_no(scratch_database, tmp_path):
    before = seeded(scratch_database)
    backup = tmp_path / "b.bin"
    manage(scratch_database, "backup", "--out", str(backup))
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=1)")
    changed = readings_total(scratch_database)
    result = run(scratch_database, "restore", str(backup), input="")  # no terminal: EOF
    assert result.returncode != 0 and "not confirmed" in result.stderr
    assert readings_total(scratch_database) == changed
    result = run(scratch_database, "restore", str(backup), input="yes\n")
    assert result.returncode == 0, result.stderr
    assert readings_total(scratch_database) == before


def test_the_makefile_does_not_say_yes_for_the_operator():
    assert "--yes" not in (ROOT / "Makefile").read_text()


@pytest.mark.django_db
def test_restore_saves_the_current_database_first(scratch_database, tmp_path, backup_dir):
    before = seeded(scratch_database)
    backup = tmp_path / "b.bin"
    manage(scratch_database, "backup", "--out", str(backup))
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=7)")
    changed = readings_total(scratch_database)
    out = manage(scratch_database, "restore", str(backup), "--yes")
    (saved,) = backup_dir.glob("uppka-before-restore-*")
    assert str(saved) in out
    assert readings_total(scratch_database) == before
    manage(scratch_database, "restore", str(saved), "--yes")  # the save is a real backup
    assert readings_total(scratch_database) == changed


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["empty file", "empty database"])
def test_restore_refuses_an_empty_backup_and_keeps_the_data(scratch_database, tmp_path, kind):
    before = seeded(scratch_database)
    empty = tmp_path / "empty.bin"
    if kind == "empty file":
        empty.write_bytes(b"")
    else:
        sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    result = run(scratch_database, "restore", str(empty), "--yes")
    assert result.returncode != 0
    assert "empty (0 bytes)" in result.stderr or "no django_migrations table" in result.stderr
    assert "ERROR uppka.backup" in result.stderr
    assert readings_total(scratch_database) == before


@pytest.mark.django_db
def test_restore_refuses_a_backup_from_a_newer_release(scratch_database, tmp_path):
    before = seeded(scratch_database)
    record = "from django.db.migrations.recorder import MigrationRecorder as M; from django.db import connection; "
    manage(scratch_database, "shell", "-c", record + "M(connection).record_applied('households', '9999_from_the_future')")
    backup = tmp_path / "newer.bin"
    manage(scratch_database, "backup", "--out", str(backup))
    manage(scratch_database, "shell", "-c", record + "M(connection).record_unapplied('households', '9999_from_the_future')")
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=3)")
    changed = readings_total(scratch_database)
    result = run(scratch_database, "restore", str(backup), "--yes")
    assert result.returncode != 0
    assert "newer release" in result.stderr and "households.9999_from_the_future" in result.stderr
    assert readings_total(scratch_database) == changed != before


@pytest.mark.django_db
def test_postgres_restore_refuses_while_the_app_holds_connections(postgres_database, tmp_path):
    import psycopg2

    scratch_database = postgres_database
    before = seeded(scratch_database)
    backup = tmp_path / "b.dump"
    manage(scratch_database, "backup", "--out", str(backup))
    app = psycopg2.connect(scratch_database)
    try:
        result = run(scratch_database, "restore", str(backup), "--yes")
    finally:
        app.close()
    assert result.returncode != 0 and "other connection(s)" in result.stderr
    assert readings_total(scratch_database) == before


@pytest.mark.django_db
def test_postgres_restore_goes_into_a_fresh_database_and_keeps_the_old_one(postgres_database, tmp_path):
    import psycopg2

    scratch_database = postgres_database
    before = seeded(scratch_database)
    backup = tmp_path / "b.dump"
    manage(scratch_database, "backup", "--out", str(backup))
    extra = psycopg2.connect(scratch_database)
    extra.autocommit = True
    extra.cursor().execute("CREATE TABLE not_in_the_dump (x int)")
    extra.close()
    manage(scratch_database, "shell", "-c", "from households.models import IncomeReading as R; R.objects.update(amount=5)")
    out = manage(scratch_database, "restore", str(backup), "--yes")
    assert readings_total(scratch_database) == before
    tables = manage(scratch_database, "shell", "-c", "from django.db import connection; print(connection.introspection.table_names())")
    assert "not_in_the_dump" not in tables
    kept = out.split("is kept as ")[1].split(":")[0]
    old = psycopg2.connect(scratch_database.rsplit("/", 1)[0] + "/" + kept)
    try:
        cursor = old.cursor()
        cursor.execute("SELECT count(*) FROM not_in_the_dump")  # the database as it was, whole
    finally:
        old.close()
