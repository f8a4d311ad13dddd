import sqlite3
import subprocess
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from accounts.management.commands.backup import pg_env
from households import register


class Command(BaseCommand):
    help = "Replace the whole database with a backup made by `manage.py backup`. Stop the app first."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        if not options["yes"] and input(f"Replace the database with {path}? Type yes: ").strip() != "yes":
            raise CommandError("Nothing was restored.")
        if connection.vendor == "postgresql":
            connection.close()
            _replace_postgresql_database(path)
        else:
            try:
                source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                source.execute("PRAGMA schema_version").fetchone()
            except sqlite3.DatabaseError as e:
                raise CommandError(f"{path} is not an SQLite backup: {e}") from e
            connection.ensure_connection()
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        _forget_tables_the_backup_predates()
        # A backup from before the kept figures existed, or one edited by hand: rebuild them.
        call_command("migrate", verbosity=0)
        call_command("rebuild_figures", stdout=self.stdout)
        register.follow_methods()  # a backup from before the register: first KB statuses
        self.stdout.write(f"Database restored from {path}")


def _replace_postgresql_database(path: Path) -> None:
    """The backup replaces the whole schema in one transaction: tables the backup predates
    (and their foreign keys to its tables) go too, and a failure changes nothing.
    ``pg_restore --clean`` cannot drop a table that a newer table points at."""
    env = pg_env()
    script = subprocess.Popen(
        ["pg_restore", "--no-owner", "--file", "-", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    load = subprocess.run(
        ["psql", "--quiet", "--no-psqlrc", "--single-transaction", "--set", "ON_ERROR_STOP=1",
         "--command", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;", "--file", "-", "--dbname", env["PGDATABASE"]],
        env=env, stdin=script.stdout, capture_output=True, text=True,
    )
    script.stdout.close()
    errors = script.stderr.read().decode(errors="replace").strip()
    if script.wait() or load.returncode:
        raise CommandError(f"pg_restore failed: {errors or load.stderr.strip()}")


# Derived tables created by a migration: a backup made before it lacks them, and the table
# of the current database stays behind (restore replaces only what the backup holds). Drop
# it, so that `migrate` creates and fills it again.
DERIVED_TABLES = {("households", "0004_member_figures"): "households_memberfigures"}


def _forget_tables_the_backup_predates():
    applied = MigrationRecorder(connection).applied_migrations()
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for migration, table in DERIVED_TABLES.items():
            if migration not in applied and table in existing:
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
