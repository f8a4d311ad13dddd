import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from uppka import backups

logger = logging.getLogger("uppka.backup")


class Command(BaseCommand):
    help = (
        "Write a verified copy of the database (SQLite's online backup, or pg_dump's custom format) "
        "to BACKUP_DIR, mode 0600, and remove this app's backups older than --keep-days there. "
        "Exits non-zero with an ERROR log line when anything is off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", help="file to write (default: BACKUP_DIR/uppka-<time>.sqlite3 or .dump)")
        parser.add_argument("--keep-days", type=int, default=settings.BACKUP_KEEP_DAYS,
                            help="remove backups in BACKUP_DIR older than this many days after a good backup "
                                 "(default: BACKUP_KEEP_DAYS, %(default)s; 0 keeps all)")

    def handle(self, *args, **options):
        try:
            out = Path(options["out"]) if options["out"] else backups.backup_dir() / backups.default_name()
            checked = backups.write_backup(out)
            removed = backups.prune(out.parent, options["keep_days"], keep=out) if not options["out"] else []
        except (backups.BackupError, OSError) as e:
            logger.error("Backup failed: %s", e)
            raise CommandError(f"Backup failed: {e}") from e
        logger.info("Backup written to %s (%s bytes, %s tables)", checked.path, checked.size, checked.tables)
        self.stdout.write(f"Backup written to {checked.path}: {checked.size:,} bytes, {checked.tables} tables, "
                          f"{len(checked.migrations)} migrations, verified.")
        for path in removed:
            self.stdout.write(f"Removed {path.name} (older than {options['keep_days']} days)")
