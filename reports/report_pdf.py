"""The report for a meeting as an A4 PDF (DPPKB for the city, an OPD for its groups, any
selection of the report page): the dashboard's figures — target progress, income before and
after joining, the register and family planning, income reporting, open problems — with a
chart, then the summary per scope. The figures come from the engine like every page's."""

from django.contrib.staticfiles import finders
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import GroupProblem
from households.sheet import register_month as month_of_register
from reports import engine, recap, svg, trend_charts
from reports.export import describe, explanations
from reports.rows import opd_chart, progress_rows, summary_rows
from uppka.months import last_day_seen

KEYS = ("opd_id", "type_id", "kecamatan_id")
NOT_REPORTED_SHOWN = 20
STYLESHEET = "css/print.css"


def report_context(form) -> dict:
    """Everything the printed report shows, for a valid ReportFilterForm's selection."""
    groups, cleaned = form.selected_groups(), form.cleaned_data
    as_of = cleaned["as_of"]
    described = describe(cleaned, form.user)
    day = last_day_seen(as_of)
    register_month = month_of_register(as_of)
    target = form.city_target(day.year)
    whole_city = form.is_whole_city()
    figures = engine.figures(groups, as_of, keys=KEYS)
    progress = engine.progress(groups, day)
    register = recap.recap(register_month, groups, kinds=("city",)).get(("city", None))
    missing = recap.not_reported(register_month, groups).select_related("team__opd")
    problems = GroupProblem.objects.filter(group__in=groups, is_resolved=False)
    counts = dict(problems.values_list("kind").annotate(n=Count("id")).order_by())
    return {
        "title": described.total_label,
        "as_of": as_of,
        "day": day,
        "made_on": timezone.localdate(),
        "target": target,
        "progress": progress,
        "progress_pct": progress.total * 100 / target.households if target else None,
        "progress_rows": progress_rows(progress, target) if whole_city else None,
        "summary": figures.total,
        "register": register,
        "register_month": register_month,
        "not_reported": list(missing[:NOT_REPORTED_SHOWN]),
        # the recap's line already counts them (the same rule as not_reported): no second count
        "not_reported_count": register.groups - register.groups_reported if register else 0,
        "reporting": engine.reporting(groups, register_month),
        "problems": [(label, counts.get(kind, 0)) for kind, label in GroupProblem.Kind.choices],
        "market_groups": list(problems.filter(kind=GroupProblem.Kind.MARKET).select_related("group")
                              .order_by("group__code").values_list("group__code", "group__name").distinct()[:10]),
        "opd_chart": _opd_chart(figures) if "opd" not in described.skip else None,
        "trend_charts": _trend_charts(trend_charts.for_report(groups, as_of, form)),
        "scope_rows": summary_rows(figures, total_label=described.total_label, skip=described.skip),
        "explanations": explanations(),
    }


def _opd_chart(figures):
    chart = opd_chart(figures)  # the dashboard's chart, drawn for print
    if len(chart["labels"]) < 2:
        return None
    return svg.bars(
        chart["labels"],
        [(chart["before_label"], chart["before"], svg.LIGHT_GREEN), (chart["after_label"], chart["after"], svg.GREEN)],
        title=_("Mean income per OPD"), width=640,  # the portrait page's width less the card's padding
    )


def _trend_charts(trends: dict) -> list:
    """The report page's pictures over time, drawn as SVG for print (same data): (title, svg)."""
    target, income, register = trends["target"]["data"], trends["income"]["data"], trends["register"]["data"]
    charts = []
    if target["labels"]:
        title = _("Acceptor families month by month")
        charts.append((title, svg.lines(
            target["labels"], [(target["count_label"], target["counts"], svg.GREEN)],
            reference=(target["target_label"], target["target"]) if target["target"] else None, money=False,
            title=title, height=150)))
    if any(income["n"]):
        title = _("Monthly income by months since joining")
        charts.append((title, svg.lines(
            income["labels"], [(income["median_label"], income["median"], svg.GREEN)],
            band=(income["band_label"], income["p25"], income["p75"], svg.LIGHT_GREEN),
            marker=income["offsets"].index(0), title=title, height=150)))
    if any(register["counted"]):
        title = _("Groups that reported the monthly register (%)")
        charts.append((title, svg.lines(
            register["labels"], [(register["label"], register["pct"], svg.GREEN)], money=False, title=title,
            height=150)))
    return charts


def report_pdf(context: dict) -> bytes:
    from weasyprint import CSS, HTML  # heavy: only when a PDF is asked for

    html = render_to_string("print/report.html", context)
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find(STYLESHEET))])


def filename(context: dict, opd_code: str | None) -> str:
    return f"laporan-uppka-{(opd_code or 'kota-palopo').lower()}-{context['as_of']:%Y-%m}.pdf"

