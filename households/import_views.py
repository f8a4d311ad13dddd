"""Bulk import from a workbook: upload (dry run by default), review, import; template and
data downloads. DPPKB for the whole city, OPD users for their own groups."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from xlsxwriter.exceptions import XlsxWriterException

from households import imports, signals
from households.forms import ImportForm
from households.import_jobs import owned_upload
from households.workbook import WorkbookError
from households.xlsx import write_error_copy, write_template
from jobs.models import Job
from jobs.views import start_job
from uppka.months import months_back, this_month
from uppka.proxy import client_ip
from uppka.responses import xlsx_response

logger = logging.getLogger(__name__)


def _require_importer(user):
    if not (user.sees_whole_city or user.is_opd):
        raise PermissionDenied


@login_required
def upload(request):
    """The upload: checked (and imported, unless it is a dry run) by a background job, whose
    page shows the progress and then the result."""
    _require_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = imports.store_upload(request, form.cleaned_data["file"])
        kind = Job.Kind.IMPORT_CHECK if form.cleaned_data["dry_run"] else Job.Kind.IMPORT
        return _start(request, kind, token, form.cleaned_data["file"].name)
    return render(request, "households/import.html", {"form": form})


@login_required
@require_POST
def confirm(request, token):
    """Import a workbook that passed its dry run (checked again: data may have changed)."""
    _require_importer(request.user)
    if owned_upload(request, token) is None:
        raise Http404
    return _start(request, Job.Kind.IMPORT, token, request.POST.get("name", ""))


def _start(request, kind, token, name):
    label = (_("Import check: %(file)s") if kind == Job.Kind.IMPORT_CHECK else _("Import: %(file)s")) % {"file": name[:150]}
    return start_job(request, kind, label, {"token": token, "ip": client_ip(request), "name": name[:150]},
                     fallback="households:import")


@login_required
def error_copy(request, token):
    _require_importer(request.user)
    path = owned_upload(request, token)
    if path is None:
        raise Http404
    problems, total, summaries = imports.load_problems(token)
    try:
        return xlsx_response(lambda f: write_error_copy(path, problems, f, total=total, summaries=summaries),
                             "impor-dengan-kesalahan.xlsx")
    except WorkbookError as e:  # beyond the upload limits, or damaged since it was checked
        messages.error(request, str(e))
    except (OSError, XlsxWriterException):
        logger.exception("The error copy of upload %s failed", token)
        messages.error(request, _("The workbook with the error column could not be made. Try again later."))
    return redirect("households:import")


@login_required
def template(request):
    _require_importer(request.user)
    return xlsx_response(write_template, "templat-impor-uppka.xlsx")


@login_required
def data(request):
    """DPPKB's data in the import layout (with whole NIKs, so DPPKB only): the groups, their
    members and the last twelve months of income, to edit and import again."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    since = months_back(this_month(), 13)[-1]  # the last twelve whole months and this one
    target = f"semua kelompok, pendapatan sejak {since:%Y-%m}"
    signals.personal_data_accessed.send(data, request=request, action=signals.DOWNLOAD_DATA, target=target)
    return start_job(request, Job.Kind.DATA, f"data-uppka-{since:%Y-%m}.xlsx", {"since": since.isoformat()},
                     fallback="households:import")
