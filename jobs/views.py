"""A user's jobs: the list, one job's page (progress, then the result), the polling endpoint,
the file, and trying again. Each shows only the asking user's own jobs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from jobs import services
from jobs.models import Job
from uppka.formats import format_number

JOBS_PER_PAGE = 20
# Whether a failed job may be tried again, where it depends on more than the job: an import
# only while its upload is kept (a refused file is not). ``can_retry(job) -> bool``.
RETRY_CHECKS = {
    Job.Kind.IMPORT_CHECK: "households.import_jobs.can_retry",
    Job.Kind.IMPORT: "households.import_jobs.can_retry",
}


def _can_retry(job) -> bool:
    return job.status == Job.Status.FAILED and (job.kind not in RETRY_CHECKS or import_string(RETRY_CHECKS[job.kind])(job))


# What a finished job's page shows beyond the file: ``context(request, job) -> dict`` for
# its template (named by path: jobs imports neither households nor reports, they import jobs).
RESULT_PAGES = {
    Job.Kind.IMPORT_CHECK: "households.import_jobs.result_page",
    Job.Kind.IMPORT: "households.import_jobs.result_page",
}


def progress_text(job: Job) -> str:
    """What the job is doing, in the user's words, with its count where it has one."""
    if job.status == Job.Status.QUEUED:
        if job.created < timezone.now() - services.WAITING_HINT:
            return _("Waiting for a worker. None has taken this job yet: if it stays so for minutes, the background worker is not running; tell the administrator.")
        return _("Waiting for a worker")
    done, total = format_number(job.done), format_number(job.total or 0)
    if job.stage == "read":
        return _("Reading the file: %(done)s rows") % {"done": done} if job.done else _("Reading the file")
    if job.stage == "check":
        return _("Checking the rows: step %(done)s of %(total)s") % {"done": done, "total": total} if job.total else _("Checking the rows")
    if job.stage == "write":
        return _("Saving: %(done)s of %(total)s incomes") % {"done": done, "total": total} if job.total else _("Saving")
    if job.stage == "query":
        return _("Counting the figures")
    if job.stage == "rows":
        return _("Writing the workbook: %(done)s rows") % {"done": done} if job.done else _("Writing the workbook")
    return _("Working")


@login_required
def job_list(request):
    services.fail_stale()
    jobs = Job.objects.filter(owner=request.user).only("pk", "label", "status", "done", "total", "created")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page": page, "jobs": page.object_list})


@login_required
def detail(request, pk):
    job = services.owned(request.user, pk)
    context = {"job": job, "progress": progress_text(job),
               "can_retry": _can_retry(job)}
    if job.status == Job.Status.DONE and job.kind in RESULT_PAGES:
        context.update(import_string(RESULT_PAGES[job.kind])(request, job))
    return render(request, "jobs/detail.html", context)


@never_cache
@login_required
def status(request, pk):
    """What the page polls: the state and progress, nothing personal."""
    job = services.owned(request.user, pk)
    return JsonResponse({"status": job.status, "ended": job.ended, "text": progress_text(job), "percent": job.percent})


@login_required
def download(request, pk):
    job = services.owned(request.user, pk)
    path = services.file_path(job) if job.status == Job.Status.DONE else None
    if path is None:
        raise Http404(_("This file is no longer kept (files are kept a day)."))
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.result.get("download") or path.name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
@require_POST
def retry(request, pk):
    job = services.owned(request.user, pk)
    if not _can_retry(job):
        return redirect(job)
    try:
        return redirect(services.retry(job))
    except services.TooManyJobs as e:
        messages.error(request, str(e))
        return redirect(job)


def start_job(request, kind, label, params, *, fallback: str):
    """Start a job for the user and go to its page (or, with too many jobs waiting, back to
    ``fallback`` with the message): how every page asks for long work."""
    try:
        return redirect(services.start(request.user, kind, label, params))
    except services.TooManyJobs as e:
        messages.error(request, str(e))
        return redirect(fallback)
