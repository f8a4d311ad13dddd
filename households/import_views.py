"""Bulk import from a workbook: upload (dry run by default), review, import; template and
data downloads. DPPKB for the whole city, OPD users for their own groups."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from xlsxwriter.exceptions import XlsxWriterException

from groups.models import Group
from households import imports, signals
from households.forms import ImportForm
from households.importer import apply_plan, describe, plan_import
from uppka.months import months_back, this_month
from households.workbook import WorkbookError, read_workbook
from households.xlsx import TooManyRows, write_data, write_error_copy, write_template
from uppka.responses import xlsx_response

logger = logging.getLogger(__name__)


def _require_importer(user):
    if not (user.sees_whole_city or user.is_opd):
        raise PermissionDenied


@login_required
def upload(request):
    _require_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        token = imports.store_upload(request, form.cleaned_data["file"])
        return _check_and_maybe_apply(request, token, apply=not form.cleaned_data["dry_run"])
    return render(request, "households/import.html", {"form": form})


@login_required
@require_POST
def confirm(request, token):
    """Import a workbook that passed its dry run (checked again: data may have changed)."""
    _require_importer(request.user)
    return _check_and_maybe_apply(request, token, apply=True)


def _check_and_maybe_apply(request, token, *, apply):
    path = imports.upload_path(request, token)
    if path is None:
        raise Http404
    context = {"form": ImportForm(), "token": token}
    try:
        plan = plan_import(read_workbook(path), user=request.user)
    except WorkbookError as e:
        imports.discard(token)
        context["fatal"] = str(e)
        return render(request, "households/import.html", context)
    imports.save_problems(token, plan.log)
    context.update(plan=plan, summary=describe(plan.counts()))
    if plan.error_count:
        return render(request, "households/import.html", context)
    if not apply:
        return render(request, "households/import.html", context)
    try:
        apply_plan(plan, user=request.user)
    except DatabaseError:
        context["fatal"] = _("The database refused the import (someone may have changed the same data); nothing was saved. Try again.")
        return render(request, "households/import.html", context, status=409)
    imports.discard(token)
    signals.personal_data_accessed.send(upload, request=request, action=signals.IMPORT, target=describe(plan.counts()))
    messages.success(request, _("Imported: %(summary)s.") % {"summary": describe(plan.counts())})
    return redirect("households:import")


@login_required
def error_copy(request, token):
    _require_importer(request.user)
    path = imports.upload_path(request, token)
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
    groups = Group.objects.visible_to(request.user)
    target = f"semua kelompok, pendapatan sejak {since:%Y-%m}"
    signals.personal_data_accessed.send(data, request=request, action=signals.DOWNLOAD_DATA, target=target)
    try:
        return xlsx_response(lambda f: write_data(f, groups=groups, since=since), f"data-uppka-{since:%Y-%m}.xlsx")
    except TooManyRows:
        messages.error(request, _("Too many rows for one workbook."))
        return redirect("households:import")
