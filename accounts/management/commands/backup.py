import datetime as dt
import os
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


def pg_env() -> dict:
    """Connection settings for pg_dump/pg_restore, taken from DATABASE_URL."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGHOST": db.get("HOST") or "", "PGPORT": str(db.get("PORT") or "")}
    if db.get("USER"):
        env["PGUSER"] = db["USER"]
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


class Command(BaseCommand):
    help = "Write a consistent copy of the database: SQLite's online backup, or pg_dump's custom format."

    def add_arguments(self, parser):
        parser.add_argument("--out", help="file to write (default: var/backups/uppka-<time>.sqlite3 or .dump)")

    def handle(self, *args, **options):
        postgres = connection.vendor == "postgresql"
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(options["out"] or Path(settings.BASE_DIR) / "var" / "backups" / f"uppka-{stamp}.{'dump' if postgres else 'sqlite3'}")
        out.parent.mkdir(parents=True, exist_ok=True)
        if postgres:
            result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(out)], env=pg_env(),
                                    capture_output=True, text=True)
            if result.returncode:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            connection.ensure_connection()
            target = sqlite3.connect(out)
            try:
                connection.connection.backup(target)  # consistent even while the app writes
            finally:
                target.close()
        self.stdout.write(f"Backup written to {out}")
