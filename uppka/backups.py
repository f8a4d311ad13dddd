"""Backups that cannot lie, and restores that cannot wipe good data.

A backup is written under a temporary name, checked (SQLite: ``PRAGMA integrity_check``;
PostgreSQL: ``pg_restore --list``), required to hold the ``django_migrations`` table with
rows, and only then given its name (mode 0600 in BACKUP_DIR, 0700). Anything off raises
``BackupError``; the commands turn it into an ERROR log line and a non-zero exit.
"""

import datetime as dt
import logging
import os
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

logger = logging.getLogger("uppka.backup")

NAME_PATTERN = re.compile(r"^uppka-.*\.(sqlite3|dump)$")


class BackupError(Exception):
    """A backup or restore that must not be trusted or must not go on."""


@dataclass(frozen=True)
class Checked:
    """What a verified backup file holds."""

    path: Path
    size: int
    tables: int
    migrations: frozenset  # {(app, name)}


def pg_env(db: dict | None = None, *, name: str | None = None) -> dict:
    """Connection settings for the PostgreSQL client tools, from DATABASE_URL."""
    db = db or settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": name or db["NAME"], "PGHOST": db.get("HOST") or "",
           "PGPORT": str(db.get("PORT") or "")}
    if db.get("USER"):
        env["PGUSER"] = db["USER"]
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def refuse_an_implicit_database() -> None:
    """With DEBUG off, the database must be named (DATABASE_URL): cron runs without the
    service's environment, and the default would be a new, empty ./db.sqlite3."""
    if not settings.DEBUG and not os.environ.get("DATABASE_URL"):
        raise BackupError(
            "DATABASE_URL is not set (nor in the env file): refusing to use the default SQLite file. "
            "Set DATABASE_URL (or UPPKA_ENV_FILE=/etc/uppka/env), or DEBUG=1 on a developer's machine."
        )
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and not Path(db["NAME"]).is_file():
        raise BackupError(f"The SQLite database {db['NAME']} does not exist.")


def backup_dir() -> Path:
    folder = Path(settings.BACKUP_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def default_name(label: str = "") -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"uppka-{label}{stamp}.{'dump' if connection.vendor == 'postgresql' else 'sqlite3'}"


def write_backup(out: Path) -> Checked:
    """Write a consistent copy of the database to ``out`` (0600), verified."""
    refuse_an_implicit_database()
    out = Path(out)
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    old_umask = os.umask(0o077)  # pg_dump and sqlite3 create the file: never readable by others
    try:
        if connection.vendor == "postgresql":
            result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial)],
                                    env=pg_env(), capture_output=True, text=True)
            if result.returncode:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            connection.ensure_connection()
            target = sqlite3.connect(partial)
            try:
                connection.connection.backup(target)  # consistent even while the app writes
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                target.close()
        partial.chmod(0o600)
        checked = check_backup(partial)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        os.umask(old_umask)
    return Checked(out, checked.size, checked.tables, checked.migrations)


def check_backup(path: Path) -> Checked:
    """Open a backup file and check it: readable, intact, and holding a Django database
    (a ``django_migrations`` table with rows). Raises BackupError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    size = path.stat().st_size
    if size == 0:
        raise BackupError(f"{path} is empty (0 bytes).")
    if path.read_bytes()[:5] == b"PGDMP":
        tables, migrations = _check_pg_dump(path)
    else:
        tables, migrations = _check_sqlite(path)
    if not migrations:
        raise BackupError(f"{path} holds no django_migrations rows: not a backup of this app's database.")
    return Checked(path, size, tables, frozenset(migrations))


def _check_sqlite(path: Path) -> tuple[int, set]:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not an SQLite backup: {e}") from e
    try:
        verdict = source.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"{path} fails SQLite's integrity check: {verdict}")
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "django_migrations" not in tables:
            raise BackupError(f"{path} has no django_migrations table: not a backup of this app's database.")
        return len(tables), set(source.execute("SELECT app, name FROM django_migrations"))
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not an SQLite backup: {e}") from e
    finally:
        source.close()


def _check_pg_dump(path: Path) -> tuple[int, set]:
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if listing.returncode:
        raise BackupError(f"pg_restore --list cannot read {path}: {listing.stderr.strip()}")
    tables = [line for line in listing.stdout.splitlines() if " TABLE DATA " in line]
    if not any(re.search(r" TABLE DATA \S+ django_migrations\b", line) for line in tables):
        raise BackupError(f"{path} has no django_migrations table: not a backup of this app's database.")
    rows = subprocess.run(["pg_restore", "--data-only", "--table=django_migrations", "--file", "-", str(path)],
                          capture_output=True, text=True)
    if rows.returncode:
        raise BackupError(f"pg_restore cannot read django_migrations from {path}: {rows.stderr.strip()}")
    return len(tables), _copy_rows(rows.stdout)


def _copy_rows(script: str) -> set:
    """(app, name) of the django_migrations rows in pg_restore's COPY text."""
    migrations, inside = set(), False
    for line in script.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            columns = [c.strip() for c in line[line.index("(") + 1:line.index(")")].split(",")]
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside:
            values = dict(zip(columns, line.split("\t")))
            migrations.add((values["app"], values["name"]))
    return migrations


def prune(folder: Path, keep_days: int, *, keep: Path | None = None) -> list[Path]:
    """Remove this app's backups (uppka-*.sqlite3 / .dump) older than ``keep_days`` from
    ``folder``, never ``keep`` (the one just written). Returns what went."""
    if keep_days <= 0:
        return []
    limit, removed = time.time() - keep_days * 86400, []
    for path in Path(folder).iterdir():
        if NAME_PATTERN.match(path.name) and path != keep and path.is_file() and path.stat().st_mtime < limit:
            path.unlink()
            removed.append(path)
    return removed


def migrations_unknown_to_the_code(migrations: frozenset) -> list[str]:
    """Migrations a backup records that this code does not have: the backup comes from a
    newer release, and restoring it under older code would run on a schema it does not know."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return sorted(f"{app}.{name}" for app, name in migrations if (app, name) not in known)


def other_connections() -> int:
    """PostgreSQL sessions on this database other than our own (the app, a worker, psql)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        # Client sessions only: an autovacuum worker is no reason to refuse (PostgreSQL
        # ends it for the rename).
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return cursor.fetchone()[0]


def current_database_is_empty() -> bool:
    return "django_migrations" not in connection.introspection.table_names()


def restore_sqlite(path: Path) -> None:
    """Copy the backup over the SQLite database, page by page (SQLite's backup API)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.ensure_connection()
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def restore_postgresql(path: Path) -> str:
    """Restore into a fresh database, then swap names: the current database is renamed
    ``<name>_before_<time>`` (kept until the operator drops it) and the restored one takes its
    name. A failed restore leaves the current database untouched. Returns the kept name."""
    db = settings.DATABASES["default"]
    name = db["NAME"]
    stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
    fresh, kept = f"{name}_restore_{stamp}", f"{name}_before_{stamp}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        owner = cursor.fetchone()[0]
    connection.close()
    q = connection.ops.quote_name
    _admin_sql(f"CREATE DATABASE {q(fresh)} OWNER {q(owner)} TEMPLATE template0")
    result = subprocess.run(
        ["pg_restore", "--no-owner", f"--role={owner}", "--exit-on-error", "--single-transaction",
         "--dbname", fresh, str(path)], env=pg_env(name=fresh), capture_output=True, text=True)
    if result.returncode:
        _admin_sql(f"DROP DATABASE IF EXISTS {q(fresh)}")
        raise BackupError(f"pg_restore failed (the current database is untouched): {result.stderr.strip()}")
    try:
        _admin_sql(f"ALTER DATABASE {q(name)} RENAME TO {q(kept)}")
    except Exception as e:
        raise BackupError(f"The backup is restored into {fresh}, but {name} could not be renamed ({e}). "
                          f"Stop the app and rename by hand, or point DATABASE_URL at {fresh}.") from e
    try:
        _admin_sql(f"ALTER DATABASE {q(fresh)} RENAME TO {q(name)}")
    except Exception as e:
        _admin_sql(f"ALTER DATABASE {q(kept)} RENAME TO {q(name)}")
        raise BackupError(f"The backup is restored into {fresh}, but could not take the name {name} ({e}); "
                          f"{name} is as it was.") from e
    return kept


def _admin_sql(sql: str) -> None:
    """One statement on the ``postgres`` maintenance database (renames and CREATE DATABASE
    cannot run inside the database they change)."""
    import psycopg2

    db = settings.DATABASES["default"]
    admin = psycopg2.connect(dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                             host=db.get("HOST") or None, port=db.get("PORT") or None)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql)
    finally:
        admin.close()
