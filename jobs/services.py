"""Starting a job, finding the ones the user may see, and noticing those whose worker died.

A job runs as its owner: the worker checks the owner's scope again (the form or the import
plan does it, as in a request), so a job can never show more than its owner may see.
"""

import datetime as dt
import json
import os
import secrets
import uuid
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from jobs.models import Job

# A running job's worker writes a heartbeat every HEARTBEAT seconds; a job not heard of for
# STALE seconds had its worker killed (the machine restarted, memory ran out): it is failed.
HEARTBEAT_SECONDS = 15
NO_WORKER = dt.timedelta(hours=1)  # a job no worker took by then is failed
WAITING_HINT = dt.timedelta(minutes=1)  # after which the page says a worker may be missing
KEEP = dt.timedelta(days=1)


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", 120))


MAX_UNFINISHED = 5  # a user's jobs waiting or running at once


class TooManyJobs(Exception):
    pass


def start(user, kind: str, label: str, params: dict | None = None) -> Job:
    """Record the job and queue it, or give back the same job of the user's still waiting or
    running (a second click starts nothing). The task goes on the queue with the row (one
    transaction): a worker never sees a job that is not there."""
    from jobs.tasks import run_job

    params = params or {}
    fail_stale()
    with transaction.atomic():
        unfinished = list(Job.objects.select_for_update().filter(
            owner=user, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]))
        for job in unfinished:
            if job.kind == kind and job.params == params:
                return job
        if len(unfinished) >= MAX_UNFINISHED:
            raise TooManyJobs(_("You have %(count)d jobs waiting or running; wait until one ends.") % {"count": len(unfinished)})
        job = Job.objects.create(owner=user, kind=kind, label=label[:200], params=params)
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


def retry(job: Job) -> Job:
    return start(job.owner, job.kind, job.label, job.params)


def owned(user, pk: int) -> Job:
    """The user's own job, or 404 (whoever else asks: DPPKB sees no one's files either)."""
    fail_stale()
    return with_live_progress(get_object_or_404(Job, pk=pk, owner=user))


def fail_stale() -> int:
    """Mark failed the running jobs whose worker stopped beating, and the jobs no worker took
    within NO_WORKER (none is running: they would hold the user's five places for nothing).
    Their work left nothing: an import writes in one transaction (the database rolls it back
    when the worker's connection goes), a workbook is moved to its name only when complete.

    Only reads unless a job is stale: the pages that call this must not wait on SQLite's
    single writer while a job holds it. A worker beats in the database and, for when its own
    long transaction keeps SQLite's writers out, on a file in the job folder (``beat_file``)."""
    now = timezone.now()
    limit = now - stale_after()
    candidates = Job.objects.filter(status=Job.Status.RUNNING, beat__lt=limit).values_list("pk", "task_id")[:100]
    stale = {pk: task for pk, task in candidates if not _beat_since(pk, limit)}
    waited = Job.objects.filter(status=Job.Status.QUEUED, created__lt=now - NO_WORKER).values_list("pk", flat=True)[:100]
    if not stale and not waited:
        return 0
    try:
        failed = Job.objects.filter(pk__in=stale, status=Job.Status.RUNNING, beat__lt=limit).update(
            status=Job.Status.FAILED, finished=now,
            message=_("The worker stopped while this job ran (the server restarted or ran out of memory). Nothing was saved. Try again."))
        failed += Job.objects.filter(pk__in=list(waited), status=Job.Status.QUEUED).update(
            status=Job.Status.FAILED, finished=now,
            message=_("No worker took this job within an hour: the background worker is not running. Tell the administrator."))
        # The queue's own record of a killed worker's task would stay "running" for ever.
        DBTaskResult.objects.filter(id__in=_uuids(stale.values()), status="RUNNING").update(status="FAILED", finished_at=now)
    except OperationalError:  # SQLite busy: the next look will do it
        return 0
    return failed


def _uuids(values) -> list[uuid.UUID]:
    """The task ids the database queue gave (another backend's, as in tests, are no UUIDs)."""
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except (TypeError, ValueError):
            pass
    return found


def beat_file(job_id: int) -> Path:
    return job_dir() / f"{job_id}.beat"


def progress_file(job_id: int) -> Path:
    return job_dir() / f"{job_id}.progress"


def write_progress_file(job_id: int, stage: str, done: int, total: int | None) -> None:
    """The progress of work inside a transaction (an import's writing), where the job's row
    cannot show it before the commit: beside the job files, replaced whole."""
    path = progress_file(job_id)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps([stage[:40], int(done), None if total is None else int(total)]), encoding="utf-8")
    os.replace(part, path)


def with_live_progress(job: Job) -> Job:
    """The job, with the progress its worker wrote beside the files while the row could not
    take it (a running import's writing)."""
    if job.status == Job.Status.RUNNING:
        try:
            job.stage, job.done, job.total = json.loads(progress_file(job.pk).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            pass
    return job


def _beat_since(job_id: int, limit) -> bool:
    try:
        return beat_file(job_id).stat().st_mtime >= limit.timestamp()
    except OSError:
        return False


def job_dir() -> Path:
    path = Path(settings.JOB_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def new_file_path(job: Job, suffix: str = ".xlsx") -> Path:
    return job_dir() / f"{job.pk}-{secrets.token_urlsafe(12)}{suffix}"


def file_path(job: Job) -> Path | None:
    name = job.result.get("file") if isinstance(job.result, dict) else None
    if not name or "/" in name or name.startswith("."):
        return None
    path = job_dir() / name
    return path if path.is_file() else None


def write_file(job: Job, write, download_name: str) -> dict:
    """``write(file)`` fills the job's file, which takes its name only once complete (a worker
    killed midway leaves a ``.part`` that the purge removes). The result to keep."""
    path = new_file_path(job)
    part = path.with_name(path.name + ".part")
    try:
        with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w+b") as file:  # people's data: the app's user only
            write(file)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return {"file": path.name, "download": download_name, "size": path.stat().st_size}
