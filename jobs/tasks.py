"""The one task: run a job (``jobs.models.Job``) as its owner, telling its progress.

The worker (``manage.py db_worker``) takes it from the queue. The job's row is claimed once
(a task the queue hands out again after a killed worker finds it failed and does nothing);
a heartbeat thread tells the web the worker is alive; the work's progress (``uppka.progress``)
goes to the row outside transactions, so the page polling it sees it as it happens.
"""

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from jobs.models import Job
from jobs.services import HEARTBEAT_SECONDS, beat_file, progress_file, write_progress_file
from uppka import progress

try:  # Django 6 has the tasks framework built in; 5.2 takes the backport
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

logger = logging.getLogger(__name__)

# What each kind of job runs: ``work(job) -> dict`` (the result to keep: counts, the file).
WORK = {
    Job.Kind.IMPORT_CHECK: "households.import_jobs.check",
    Job.Kind.IMPORT: "households.import_jobs.run_import",
    Job.Kind.DATA: "households.import_jobs.data_workbook",
    Job.Kind.REPORT: "reports.workbook_jobs.report_workbook",
    Job.Kind.RECAP: "reports.workbook_jobs.recap_workbook",
    Job.Kind.GROUP_DATA: "reports.workbook_jobs.group_data_workbook",
}


class JobRefused(Exception):
    """The job cannot be done as asked (the upload is gone, the owner may no longer see the
    groups): its message is shown to the owner."""


@task()
def run_job(job_id: int) -> None:
    now = timezone.now()
    if not Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING, started=now, beat=now):
        return  # done already, or failed when its first worker was killed
    job = Job.objects.select_related("owner").get(pk=job_id)
    beat = _Heartbeat(job_id)
    beat.start()
    try:
        with translation.override(settings.LANGUAGE_CODE), progress.listening(_reporter(job_id)):
            result = import_string(WORK[job.kind])(job)
    except JobRefused as e:
        _end(job_id, Job.Status.FAILED, message=str(e))
    except Exception:
        logger.exception("Job %s (%s) failed", job_id, job.kind)
        with translation.override(settings.LANGUAGE_CODE):
            message = _("Something went wrong on the server; nothing was saved. Try again, or tell DPPKB if it happens again.")
        _end(job_id, Job.Status.FAILED, message=message)
    else:
        complete(job_id, result)
    finally:
        beat.stop()
        progress_file(job_id).unlink(missing_ok=True)


def complete(job_id: int, result: dict) -> bool:
    """Mark the job done with its result, if it is still running (a job failed as stale stays
    failed). Inside the work's transaction it commits with the work: ``False`` says to roll
    back."""
    return _end(job_id, Job.Status.DONE, result=result)


def _end(job_id, status, **fields) -> bool:
    return bool(Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=status, finished=timezone.now(), beat=timezone.now(), **fields))


def _reporter(job_id):
    def report(stage, done, total):
        if connection.in_atomic_block:  # in the database it would only show when the work commits
            write_progress_file(job_id, stage, done, total)
            return
        try:
            Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
                stage=stage[:40], done=done, total=total, beat=timezone.now())
        except DatabaseError:  # the progress is a courtesy: never the reason a job fails
            logger.warning("Progress of job %s not written", job_id, exc_info=True)
    return report


class _Heartbeat(threading.Thread):
    """Writes the job's ``beat`` every HEARTBEAT_SECONDS from its own connection, also while
    the work holds a long transaction."""

    def __init__(self, job_id):
        super().__init__(daemon=True, name=f"job-{job_id}-heartbeat")
        self.job_id, self.stopped = job_id, threading.Event()

    def run(self):
        path = beat_file(self.job_id)
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                path.touch()  # seen also while SQLite's single writer is the work itself
                try:
                    Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(beat=timezone.now())
                except DatabaseError:  # SQLite is busy with the work's writes: the file said it
                    close_old_connections()
        finally:
            path.unlink(missing_ok=True)
            connection.close()

    def stop(self):
        self.stopped.set()
        self.join(timeout=5)
