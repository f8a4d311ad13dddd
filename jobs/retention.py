"""Jobs and their files are kept a day after they end (they hold people's data: whole NIKs in
the data download, names in the reports), then deleted; so are files no job row points to
any more (a worker killed while writing leaves a ``.part``)."""

import time

from django.utils import timezone

from jobs.models import Job
from jobs.services import KEEP, fail_stale, job_dir


def purge_expired() -> int:
    """Delete the jobs that ended over a day ago, and every file in the job folder older than
    a day that no remaining job keeps. Returns how many files went."""
    fail_stale()  # also the jobs no worker took
    Job.objects.filter(finished__lt=timezone.now() - KEEP).delete()
    kept = {name for result in Job.objects.exclude(result={}).values_list("result", flat=True)
            if isinstance(result, dict) and (name := result.get("file"))}
    limit, removed = time.time() - KEEP.total_seconds(), 0
    for path in job_dir().iterdir():
        if path.is_file() and path.name not in kept and path.lstat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
