import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from households.imports import forget_old_files

logger = logging.getLogger("uppka.purge")


class Command(BaseCommand):
    help = (
        "Remove what is kept only for a while: uploaded workbooks older than a day (IMPORT_DIR), finished "
        "jobs and their files older than a day (JOB_DIR), the task queue's finished results, expired sessions. Hourly from the uppka-purge timer."
    )

    def handle(self, *args, **options):
        uploads = forget_old_files()
        self.stdout.write(f"Uploads: {uploads} old files removed.")
        self.stdout.write(f"Jobs: {purge_jobs()}")
        # The task queue's own rows (arguments, return values) of tasks finished a day ago
        # (when the queue is the database: tests run tasks at once, keeping none).
        if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
            call_command("prune_db_task_results", queue_name="*", min_age_days=1, verbosity=0)
        call_command("clearsessions")
        self.stdout.write("Sessions: expired ones removed.")
        logger.info("Purge done: %s upload files", uploads)


def purge_jobs() -> str:
    """Finished jobs and their files older than a day: ``jobs.retention.purge_expired()``."""
    from jobs.retention import purge_expired

    return f"{purge_expired()} old files removed."
