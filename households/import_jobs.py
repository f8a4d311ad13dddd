"""The import and the data download as background jobs (``jobs``): what the worker runs.

The uploaded file is read, checked against the owner's scope and, when asked and clean,
imported all or nothing; the problems go where the error copy finds them (``imports``). The
import commits together with the job's "done": a job failed meanwhile (its worker was thought
dead) rolls its import back, so a failed job never leaves data behind.
"""

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from groups.models import Group
from households import imports, signals
from households.importer import apply_plan, describe, plan_import
from households.workbook import WorkbookError, read_workbook
from households.xlsx import TooManyRows, write_data
from jobs.models import Job
from jobs.services import write_file
from jobs.tasks import JobRefused, complete
from uppka import progress


class _Abandoned(Exception):
    pass


def check(job) -> dict:
    """The dry run: the plan's counts and problems, nothing written."""
    token = job.params["token"]
    return _outcome(_plan(job, token), token, applied=False)


def run_import(job) -> dict:
    """The import, straight from the upload or confirmed after a clean dry run: checked again
    (the data may have changed) and written if clean."""
    token = job.params["token"]
    plan = _plan(job, token)
    if plan.error_count or not plan.has_changes:
        return _outcome(plan, token, applied=False)
    return _apply(job, plan, token)


def _plan(job, token):
    path = imports.stored_path(token)
    if path is None:
        raise JobRefused(_("The uploaded file is no longer here (uploads are kept a day). Upload it again."))
    progress.stage("read")
    try:
        sheets = read_workbook(path, progress=progress.report)
    except WorkbookError as e:
        imports.discard(token)
        raise JobRefused(str(e)) from e
    plan = plan_import(sheets, user=job.owner, progress=progress.report)
    imports.save_problems(token, plan.log)
    return plan  # the rows read go with this frame: the writing does not carry them


def _outcome(plan, token, *, applied) -> dict:
    return {"token": token, "counts": plan.counts(), "error_count": plan.error_count,
            "problem_count": plan.problem_count, "has_changes": plan.has_changes, "applied": applied}


def _apply(job, plan, token) -> dict:
    result = _outcome(plan, token, applied=True)
    progress.stage("write")  # the writer counts the incomes it saves (apply_plan's progress)
    try:
        with transaction.atomic():
            apply_plan(plan, user=job.owner, progress=progress.report)
            if not complete(job.pk, result):
                raise _Abandoned
    except _Abandoned as e:  # the job was failed meanwhile (its worker thought dead): nothing is kept
        raise JobRefused(_("The job was stopped while it was saving; nothing was saved. Try again.")) from e
    except DatabaseError as e:
        raise JobRefused(_("The database refused the import (someone may have changed the same data); nothing was saved. Try again.")) from e
    imports.discard(token)
    signals.personal_data_accessed.send(check, user=job.owner, ip=job.params.get("ip"),
                                        action=signals.IMPORT, target=describe(plan.counts()))
    return result


def data_workbook(job) -> dict:
    """DPPKB's data in the import layout (whole NIKs: DPPKB only, checked again here)."""
    import datetime as dt

    if not job.owner.sees_whole_city:
        raise JobRefused(_("Only DPPKB may download the data."))
    since = dt.date.fromisoformat(job.params["since"])
    groups = Group.objects.visible_to(job.owner)
    try:
        return write_file(job, lambda f: write_data(f, groups=groups, since=since), f"data-uppka-{since:%Y-%m}.xlsx")
    except TooManyRows as e:
        raise JobRefused(_("Too many rows for one workbook.")) from e


def can_retry(job) -> bool:
    """A failed check or import can be tried again while its upload is kept."""
    return imports.stored_path(job.params.get("token", "")) is not None


def owned_upload(request, token: str):
    """The upload, if this session uploaded it or the user owns a job of it (a dry run seen
    again after the browser was closed): the path, or None."""
    path = imports.upload_path(request, token)
    if path is None and Job.objects.filter(owner=request.user, params__token=token).exists():
        path = imports.stored_path(token)
    return path


def result_page(request, job) -> dict:
    """What the job's page shows of a finished check or import: the counts in words, the
    problems kept for the error copy, and the buttons this session may use."""
    result = job.result
    token = result.get("token", "")
    problems, total, summaries = imports.load_problems(token)
    mine = owned_upload(request, token) is not None  # the upload is still here, and this user's
    return {
        "summary": describe(result.get("counts", {})), "problems": problems, "problem_count": total,
        "summaries": summaries, "token": token,
        "can_confirm": (mine and job.kind == job.Kind.IMPORT_CHECK and not result.get("applied")
                        and not result.get("error_count") and result.get("has_changes")),
        "has_error_copy": mine and bool(problems),
    }
