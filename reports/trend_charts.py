"""The pictures over time for the dashboard, the report page and a group page: the series of
``reports/trends.py`` as the JSON the charts read (``static/js/trends.js``) and the rows of
their text alternative. Three queries at most, whatever the selection."""

import datetime as dt

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from groups.models import Group, Target
from households.sheet import register_month as month_of_register
from households.sheet import reporting_month
from reports import trends
from uppka.formats import round_half_up, round_percent
from uppka.months import last_day_seen, months_back

REGISTER_MONTHS = 12


def _month(month: dt.date) -> str:
    return date_format(month, "M Y")  # "Okt 2026", as the household's income chart


def target_chart(groups, year: int, today: dt.date, target: int | None) -> dict:
    """Acceptor families month by month (method in force), with the year's target if any."""
    series = trends.target_by_month(groups, year, today)
    data = {
        "labels": [_month(month) for month, _n in series],
        "counts": [n for _month_, n in series],
        "target": target,
        "count_label": _("Acceptor families"),
        "target_label": _("Target %(year)s") % {"year": year},
    }
    return {"data": data, "rows": list(zip(data["labels"], data["counts"])), "year": year, "target": target}


def income_chart(groups, as_of: dt.date) -> dict:
    """Monthly income by months since joining: the median and the middle half (25th to 75th
    percentile) across families, −6 … +12, in whole Rupiah."""
    points = trends.income_by_offset(groups, as_of)
    data = {
        "labels": [f"{p.offset:+d}" if p.offset else "0" for p in points],
        "offsets": [p.offset for p in points],
        "n": [p.n for p in points],
        "p25": [round_half_up(p.p25) for p in points],
        "median": [round_half_up(p.median) for p in points],
        "p75": [round_half_up(p.p75) for p in points],
        "median_label": _("Median"),
        "band_label": _("Middle half of families (25th–75th percentile)"),
        "axis_label": _("Months since joining"),
        "join_label": _("Joined"),
        "families_label": _("families"),
    }
    rows = zip(data["labels"], data["n"], data["p25"], data["median"], data["p75"])
    return {"data": data, "rows": list(rows)}


def register_chart(groups, last_month: dt.date) -> dict:
    """Groups that reported the month's register, as a share of the groups counted, for the
    twelve months ending with ``last_month``."""
    months = list(reversed(months_back(last_month, REGISTER_MONTHS)))
    series = trends.reporting_by_month(groups, months)
    data = {
        "labels": [_month(month) for month, *_counts in series],
        "counted": [counted for _m, counted, _r in series],
        "reported": [reported for _m, _c, reported in series],
        "pct": [round_percent(reported * 100 / counted) if counted else None for _m, counted, reported in series],
        "label": _("Groups that reported (%)"),
        "of_label": _("of"),
    }
    return {"data": data, "rows": list(zip(data["labels"], data["counted"], data["reported"], data["pct"]))}


def for_dashboard(today: dt.date, target: Target | None) -> dict:
    """The city's three pictures: this year's target progress (``target``: this year's),
    income by months since joining as of this month, the last twelve reporting months."""
    groups = Group.objects.all()
    return {
        "target": target_chart(groups, today.year, today, target.households if target else None),
        "income": income_chart(groups, today.replace(day=1)),
        "register": register_chart(groups, reporting_month()),
    }


def for_report(groups, as_of: dt.date, form) -> dict:
    """The report page's selection (``form``: its valid ReportFilterForm) as of its month:
    target progress in that month's year (the target line only for the whole city:
    ``form.city_target``), income, the register."""
    today = last_day_seen(as_of)
    target = form.city_target(today.year)
    return {
        "target": target_chart(groups, today.year, today, target.households if target else None),
        "income": income_chart(groups, as_of),
        "register": register_chart(groups, month_of_register(as_of)),
    }


def for_group(group, as_of: dt.date) -> dict:
    """A group's income by months since joining and its register (target progress is the
    city's and the OPD's business, not a group's)."""
    groups = Group.objects.filter(pk=group.pk)
    return {"income": income_chart(groups, as_of), "register": register_chart(groups, month_of_register(as_of))}
