"""The report, recap and group-data workbooks as background jobs (``jobs``).

The page's form is built again in the worker, as the job's owner, from the query the page
was asked with: the scope is checked there as in a request, so a job never writes more than
its owner may see, even if the owner's access changed while it waited.
"""

from django.http import QueryDict

from households.forms import error_text
from jobs.services import write_file
from jobs.tasks import JobRefused
from reports.export import describe, export_recap, export_report
from reports.forms import ReportFilterForm
from reports.rows import sort_key


def _whose(user) -> str:
    """Whose groups, in a file name, when no OPD is chosen: the city's, or the user's own."""
    return "kota" if user.sees_whole_city else user.get_username()


def file_scope(data, user) -> str:
    """The part of a file name that tells whose figures it holds: the OPD, the city or the
    user's groups, then each selection."""
    scope = describe(data, user).opd_code or _whose(user)
    for key in ("group_type", "kecamatan", "kelurahan"):
        if data.get(key):
            scope += f"-{data[key].code}"
    return scope


def report_file_name(data, user) -> str:
    return f"laporan-uppka-{file_scope(data, user)}-{data['as_of']:%Y-%m}.xlsx".lower()


def recap_file_name(data, user) -> str:
    return f"rekap-uppka-{file_scope(data, user)}-{data['as_of']:%Y-%m}.xlsx".lower()


def group_data_scope(opd, user) -> str:
    """Whose group data: the OPD chosen, the city or the user's groups (file name, access log)."""
    return opd.code if opd else _whose(user)


def group_data_file_name(year, opd, user) -> str:
    return f"data-kelompok-{group_data_scope(opd, user)}-{year}.xlsx".lower()


def _valid(form):
    if not form.is_valid():
        raise JobRefused(error_text(form))
    return form


def _made_by(user) -> str:
    return user.get_full_name() or user.get_username()


def report_workbook(job) -> dict:
    form = _valid(ReportFilterForm(QueryDict(job.params.get("query", "")), user=job.owner))
    data = form.cleaned_data
    return write_file(job, lambda file: export_report(
        file, groups=form.selected_groups(), as_of=data["as_of"], made_by=_made_by(job.owner), cleaned=data,
        user=job.owner, sort=sort_key(job.params.get("sort", "code"))), report_file_name(data, job.owner))


def recap_workbook(job) -> dict:
    form = _valid(ReportFilterForm(QueryDict(job.params.get("query", "")), user=job.owner))
    data = form.cleaned_data
    return write_file(job, lambda file: export_recap(
        file, groups=form.selected_groups(), month=data["as_of"], made_by=_made_by(job.owner), cleaned=data,
        user=job.owner), recap_file_name(data, job.owner))


def group_data_workbook(job) -> dict:
    from reports.group_data import export_group_data
    from reports.group_data_views import GroupDataForm

    form = _valid(GroupDataForm(QueryDict(job.params.get("query", "")), user=job.owner))
    year, opd = form.cleaned_data["year"], form.cleaned_data.get("opd")
    return write_file(job, lambda file: export_group_data(file, groups=form.selected_groups(), year=year),
                      group_data_file_name(year, opd, job.owner))
