import logging
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from households import register
from uppka import backups

logger = logging.getLogger("uppka.backup")


class Command(BaseCommand):
    help = (
        "Replace the database with a backup made by `manage.py backup`, after saving the current one "
        "to BACKUP_DIR. Stop the app and the worker first. PostgreSQL: the backup goes into a fresh "
        "database which then takes the name; the current one is kept as <name>_before_<time>."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            self.restore(path, ask=not options["yes"])
        except (backups.BackupError, OSError) as e:
            logger.error("Restore refused or failed: %s", e)
            raise CommandError(f"Nothing was restored: {e}") from e
        self.stdout.write(f"Database restored from {path}")

    def restore(self, path: Path, *, ask: bool) -> None:
        backups.refuse_an_implicit_database()
        checked = backups.check_backup(path)
        if unknown := backups.migrations_unknown_to_the_code(checked.migrations):
            raise backups.BackupError(
                f"{path} comes from a newer release (migrations this code lacks: {', '.join(unknown[:5])}"
                f"{' …' if len(unknown) > 5 else ''}). Install that release first.")
        if others := backups.other_connections():
            raise backups.BackupError(
                f"{others} other connection(s) to the database (the app, the worker, a psql?): stop them first "
                "(systemctl stop uppka-web uppka-worker).")
        self.stdout.write(f"{path}: {checked.size:,} bytes, {checked.tables} tables, "
                          f"{len(checked.migrations)} migrations, verified.")
        if ask and not self.confirmed(path):
            raise backups.BackupError("not confirmed.")
        if backups.current_database_is_empty():
            self.stdout.write("The current database is empty: nothing to save first.")
        else:
            saved = backups.write_backup(backups.backup_dir() / backups.default_name("before-restore-"))
            self.stdout.write(f"The current database is saved first in {saved.path} ({saved.size:,} bytes).")
        if connection.vendor == "postgresql":
            kept = backups.restore_postgresql(path)
            self.stdout.write(f"The database as it was is kept as {kept}: drop it once the restore is checked "
                              f"(dropdb {kept}).")
        else:
            backups.restore_sqlite(path)
        _forget_tables_the_backup_predates()
        # A backup from an older release: bring it up to date, and rebuild what is derived.
        call_command("migrate", verbosity=0)
        call_command("rebuild_figures", stdout=self.stdout)
        register.follow_methods()  # a backup from before the register: first KB statuses

    def confirmed(self, path: Path) -> bool:
        db = connection.settings_dict["NAME"]
        try:
            answer = input(f"Replace the database {db} with {path}? Type yes: ")
        except EOFError:  # no terminal (cron, CI): no
            return False
        return answer.strip() == "yes"


# Derived tables created by a migration: a backup made before it lacks them. On SQLite the
# backup API replaces the whole file, and on PostgreSQL the backup goes into a fresh
# database, so this is only a safeguard: drop such a table so that `migrate` fills it again.
DERIVED_TABLES = {("households", "0004_member_figures"): "households_memberfigures"}


def _forget_tables_the_backup_predates():
    applied = MigrationRecorder(connection).applied_migrations()
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for migration, table in DERIVED_TABLES.items():
            if migration not in applied and table in existing:
                cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
