"""Report pages: the DPPKB dashboard, the filtered report, a group's before/after."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessLog, User
from jobs.models import Job
from jobs.views import start_job
from groups.models import Group, GroupProblem, Target
from groups.shortcuts import get_group_for
from households.forms import error_text
from households.models import ClosedMonth
from households.parsing import parse_period
from households.profiles import profile_card
from households.sheet import register_month as month_of_register
from households.sheet import reporting_month
from reports import engine, group_data, recap, report_pdf, trend_charts
from reports.card import blocks as card_blocks
from reports.card import card_png
from reports.export import describe, explanations
from reports.forms import ProblemForm, ReportFilterForm
from reports.workbook_jobs import recap_file_name, report_file_name
from reports.rows import group_names, opd_chart, progress_rows, sort_key, sort_rows, summary_rows
from uppka.months import last_day_seen, month_not_in_future, this_month

GROUPS_PER_PAGE = 50
REPORT_KEYS = ("group_id", "opd_id", "type_id", "kecamatan_id")
NOT_REPORTED_SHOWN = 10  # the dashboard names the first groups that have not reported


@login_required
def dashboard(request):
    """DPPKB's city-wide view: target progress, before/after, poverty, reporting, problems."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    today = timezone.localdate()
    groups = Group.objects.all()
    figures = engine.figures(groups, today.replace(day=1), keys=("group_id", "opd_id"), medians=("all",))
    progress = engine.progress(groups, today)
    target = Target.objects.filter(year=today.year).first()
    context = {
        "today": today,
        "target": target,
        "progress": progress,
        "progress_pct": progress.total * 100 / target.households if target else None,
        "progress_rows": progress_rows(progress, target),
        "figures": figures,
        "reporting": (rep := engine.reporting(groups, reporting_month())),
        "register": recap.recap(rep.month, groups, kinds=("city",)).get(("city", None)),
        "not_reported": list(recap.not_reported(rep.month, groups).select_related("team__opd")[:NOT_REPORTED_SHOWN]),
        "late_cadres": _late_cadres(rep),
        "falling": _falling_groups(figures),
        "problems": _open_problems(),
        "chart": opd_chart(figures),
        "group_data": group_data.summary(groups, today.year),
    }
    if context["register"]:
        missing = context["register"].groups - context["register"].groups_reported
        context["not_reported_more"] = max(missing - len(context["not_reported"]), 0)
    return render(request, "reports/dashboard.html", context)


def _late_cadres(rep):
    users = {u.pk: u for u in User.objects.filter(pk__in=rep.by_cadre.keys())}
    late = [
        (users[pk], active, reported, reported * 100 / active)
        for pk, (active, reported) in rep.by_cadre.items()
        if active and reported < active
    ]
    return sorted(late, key=lambda row: row[3])[:10]


def _falling_groups(figures, limit=10):
    falling = [(pk, s) for pk, s in figures.by["group_id"].items() if s.mean_change is not None and s.mean_change < 0]
    falling.sort(key=lambda item: item[1].mean_change)
    names = group_names([pk for pk, _ in falling[:limit]])
    return [(names[pk], s) for pk, s in falling[:limit]]


def _open_problems():
    counts = dict(
        GroupProblem.objects.filter(is_resolved=False).values_list("kind").annotate(n=Count("id")).order_by()
    )
    # Kinds in their declared order: market access first, as named at the 2021 meeting.
    return [(label, counts.get(kind, 0)) for kind, label in GroupProblem.Kind.choices]


@login_required
def index(request):
    """Before/after per scope and per group, filtered, sortable and paginated."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    groups = form.selected_groups()
    figures = engine.figures(groups, form.cleaned_data["as_of"], keys=REPORT_KEYS)
    described = describe(form.cleaned_data, request.user)
    sort = sort_key(request.GET.get("sort", "code"))
    rows = sort_rows(engine.group_rows(groups, figures), sort)
    page = Paginator(rows, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "as_of": figures.as_of,
        "figures": figures,
        "scope_rows": summary_rows(figures, total_label=described.total_label, skip=described.skip),
        "explanations": explanations(),
        "page": page,
        "sort": sort,
        "query": form.query_string(),
    }
    return render(request, "reports/index.html", context)


@login_required
def dashboard_trends(request):
    """The dashboard's pictures over time, as a fragment its page fetches after it has shown
    its figures (they take longer than the rest of the page together)."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    today = timezone.localdate()
    target = Target.objects.filter(year=today.year).first()
    return render(request, "reports/includes/trends.html", {"trends": trend_charts.for_dashboard(today, target)})


@login_required
def report_trends(request):
    """The report page's pictures over time for its selection (its filters and scope), as a
    fragment the page fetches after it has shown its figures."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return HttpResponseBadRequest(error_text(form), content_type="text/plain; charset=utf-8")
    trends = trend_charts.for_report(form.selected_groups(), form.cleaned_data["as_of"], form)
    return render(request, "reports/includes/trends.html", {"trends": trends})


@login_required
def card(request):
    """The selection's headline figures as a picture to share (WhatsApp): the report's
    filters and scope, as of its month; the register of the month before when the month is
    the current one (as on the dashboard)."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    groups = form.selected_groups()
    as_of = form.cleaned_data["as_of"]
    described = describe(form.cleaned_data, request.user)
    day = last_day_seen(as_of)
    register_month = month_of_register(as_of)
    target = form.city_target(day.year)
    content = card_blocks(
        figures=engine.figures(groups, as_of, keys=(), medians=()),
        progress=engine.progress(groups, day),
        target=target.households if target else None,
        register=recap.recap(register_month, groups, kinds=("city",)).get(("city", None)),
        register_month=register_month,
    )
    source = _("UPPKA Monitor, DPPKB Kota Palopo · made on %(day)s") % {"day": date_format(timezone.localdate(), "j F Y")}
    png = card_png(title=described.total_label, month=as_of, content=content, source=source)
    response = HttpResponse(png, content_type="image/png")
    name = (described.opd_code or "kota-palopo").lower()
    response["Content-Disposition"] = f'attachment; filename="uppka-{name}-{as_of:%Y-%m}.png"'
    return response


@login_required
def report_print(request):
    """The report for a meeting as an A4 PDF, for the report page's selection and scope."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    context = report_pdf.report_context(form)
    response = HttpResponse(report_pdf.report_pdf(context), content_type="application/pdf")
    opd_code = describe(form.cleaned_data, request.user).opd_code
    response["Content-Disposition"] = f'attachment; filename="{report_pdf.filename(context, opd_code)}"'
    return response


@login_required
def export(request):
    """The report workbook for the same selection as the report page, scoped to the user."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    data = form.cleaned_data
    with translation.override("id"):  # the access log reads like the workbook's header
        described = describe(data, request.user)
        logged = [*described.filters, ("Per bulan", date_format(data["as_of"], "F Y"))]
    AccessLog.record(request, AccessLog.Action.EXPORT_REPORT, "; ".join(f"{label}: {value}" for label, value in logged))
    query = request.GET.copy()
    query.pop("page", None)
    return start_job(request, Job.Kind.REPORT, report_file_name(data, request.user),
                     {"query": query.urlencode(), "sort": request.GET.get("sort", "code")}, fallback="reports:index")


def _recap_form(request) -> ReportFilterForm:
    """The report's filters (one scope check for both); the month defaults to the reporting
    month, the one BKKBN's register is due for."""
    data = request.GET.copy()
    if not data.get("as_of"):  # absent, or the month box left empty
        data["as_of"] = f"{reporting_month():%Y-%m}"
    return ReportFilterForm(data, user=request.user)


def _cells(labels, values):
    """A recap row's number cells, each with its column's name for the phone's cards: built
    here in one go (a 70-line recap has about 3,000 cells, slow in a template loop). The
    labels come escaped; the values are counts."""
    return mark_safe("".join(f'<td class="text-end" data-label="{label}">{int(value)}</td>'
                             for label, value in zip(labels, values)))


@login_required
def recap_page(request):
    """The monthly register recap (SPEC section 8) of the groups the user may see."""
    form = _recap_form(request)
    if not form.is_valid():
        return render(request, "reports/recap.html", {"form": form}, status=400)
    month = form.cleaned_data["as_of"]
    lines = recap.recap(month, form.selected_groups())
    described = describe(form.cleaned_data, request.user)
    page = Paginator(recap.counted_groups(lines), GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    labels = [escape(label) for label in recap.LABELS]  # each cell carries its label (phone cards)
    group_labels = labels[recap.FROM_MEETINGS:]
    rows = recap.recap_rows(lines, total_label=described.total_label, skip=described.skip)
    context = {
        "form": form, "month": month, "headers": labels, "group_headers": group_labels,
        "rows": [(row, _cells(labels, row.values)) for row in rows],
        "groups": [(g, _cells(group_labels, g.values)) for g in recap.group_recap_rows(lines, month, page)],
        "page": page, "query": form.query_string(as_of=f"{month:%Y-%m}"),
    }
    return render(request, "reports/recap.html", context)


@login_required
def recap_export(request):
    """The recap workbook for the same selection as the recap page."""
    form = _recap_form(request)
    if not form.is_valid():
        return render(request, "reports/recap.html", {"form": form}, status=400)
    return start_job(request, Job.Kind.RECAP, recap_file_name(form.cleaned_data, request.user),
                     {"query": form.data.urlencode()}, fallback="reports:recap")


@login_required
def group_detail(request, code):
    """A group's members before and after joining, with charts and the group's problems."""
    group = get_group_for(request.user, code)
    form = ReportFilterForm(request.GET, user=request.user)
    as_of = form.cleaned_data["as_of"] if form.is_valid() else this_month()
    members, summary = _member_figures(group, as_of)
    context = {
        "group": group,
        "as_of": as_of,
        "form": form,
        "members": members,
        "summary": summary,
        "chart": {
            "labels": [m.head_name for m in members if m.figures.paired],
            "before": [m.figures.before for m in members if m.figures.paired],
            "after": [m.figures.after for m in members if m.figures.paired],
            "changes": [m.figures.change for m in members if m.figures.paired],
            "before_label": _("Before joining"),
            "after_label": _("After joining"),
            "count_label": _("Households"),
            "change_title": _("Change in monthly income (Rp)"),
        },
        "problems": group.problems.select_related("noted_by"),
        "problem_form": ProblemForm(),
        "trends": trend_charts.for_group(group, as_of),
        **profile_card(group, request.user),
    }
    return render(request, "reports/group.html", context)


def _member_figures(group, as_of):
    """Each membership's before/after and the group's summary, from one source of figures."""
    groups = Group.objects.filter(pk=group.pk)
    with engine.source(groups, as_of) as table:
        members = list(engine.member_rows(groups, as_of, table))
        summary = engine.figures(groups, as_of, keys=(), table=table).total
    return members, summary


@login_required
def month_register(request, month):
    """DPPKB checks a month's register before closing it: members with income, the groups
    complete and the groups still missing incomes with their cadres; the close button is here."""
    if not request.user.sees_whole_city:
        raise PermissionDenied
    try:
        period = month_not_in_future(parse_period(month))
    except ValidationError as e:
        raise Http404(e.messages[0]) from e
    groups = Group.objects.all()
    rep = engine.reporting(groups, period)
    missing_ids = [pk for pk, (active, reported) in rep.by_group.items() if reported < active]
    complete = sum(1 for active, reported in rep.by_group.values() if active and reported == active)
    missing = list(
        Group.objects.filter(pk__in=missing_ids).select_related("team__opd").prefetch_related("cadres").order_by("code")
    )
    for group in missing:
        group.active, group.reported = rep.by_group[group.pk]
    page = Paginator(missing, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "period": period,
        "reporting": rep,
        "groups_with_members": sum(1 for active, _ in rep.by_group.values() if active),
        "groups_complete": complete,
        "page": page,
        "closure": ClosedMonth.objects.filter(period=period).select_related("closed_by").first(),
        "closable": period < this_month(),
    }
    return render(request, "reports/month.html", context)


@login_required
@require_POST
def add_problem(request, code):
    """OPD, DPPKB and the group's cadres log a problem (kendala)."""
    group = get_group_for(request.user, code)
    form = ProblemForm(request.POST)
    if form.is_valid():
        problem = form.save(commit=False)
        problem.group, problem.noted_by = group, request.user
        problem.save()
        messages.success(request, _("The problem was recorded."))
    else:
        messages.error(request, error_text(form))
    return redirect("reports:group", code=group.code)


@login_required
@require_POST
def resolve_problem(request, code, pk):
    group = get_group_for(request.user, code)
    problem = get_object_or_404(group.problems, pk=pk)
    problem.is_resolved = request.POST.get("resolved") == "1"
    problem.resolved_on = timezone.localdate() if problem.is_resolved else None
    problem.save(update_fields=["is_resolved", "resolved_on"])
    messages.success(request, _("The problem is marked resolved.") if problem.is_resolved else _("The problem is open again."))
    return redirect("reports:group", code=group.code)
