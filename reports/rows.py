"""Row producers: the rows the report pages show are the rows the Excel export writes."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from groups.models import Group, GroupType, Kecamatan, KecamatanTarget, Opd
from reports.compute import Summary
from reports.engine import Figures
from uppka.formats import round_half_up


@dataclass(frozen=True)
class ScopeRow:
    kind: str  # "total", "opd", "type", "kecamatan"
    code: str
    label: str  # e.g. "OPD DISTAN – Dinas Pertanian", SPEC section 5's Cakupan
    summary: Summary


def summary_rows(figures: Figures, *, total_label: str, skip=frozenset()) -> list[ScopeRow]:
    """The selection first, then each OPD, group type and kecamatan (household's own),
    without the sections in ``skip`` (those that would only repeat the first line)."""
    rows = [ScopeRow("total", "", total_label, figures.total)]
    scopes = [
        ("opd", "opd_id", Opd.objects.all(), _("OPD %(code)s – %(name)s")),
        ("type", "type_id", GroupType.objects.all(), _("Type %(code)s – %(name)s")),
        ("kecamatan", "kecamatan_id", Kecamatan.objects.all(), _("Kecamatan %(code)s – %(name)s")),
    ]
    for kind, key, queryset, label in scopes:
        if kind in skip:
            continue
        summaries = figures.by[key]
        for obj in queryset.filter(pk__in=summaries.keys()).order_by("code"):
            rows.append(ScopeRow(kind, obj.code, label % {"code": obj.code, "name": obj.name}, summaries[obj.pk]))
    return rows


SORT_KEYS: dict[str, Any] = {
    "code": lambda r: r.code,
    "name": lambda r: r.name.lower(),
    "type": lambda r: r.type_code,
    "opd": lambda r: r.opd_code,
    "kelurahan": lambda r: r.kelurahan,
    "active": lambda r: r.summary.active_members,
    "paired": lambda r: r.summary.paired,
    "before": lambda r: r.summary.mean_baseline,
    "after": lambda r: r.summary.mean_current,
    "change": lambda r: r.summary.mean_change,
    "median": lambda r: r.summary.median_change,
    "increased": lambda r: r.summary.pct_increased,
}


def sort_key(text: str) -> str:
    """The sort asked for if it is a known column (``-`` first for descending), else ``code``."""
    return text if text.lstrip("-") in SORT_KEYS and text.count("-") <= 1 else "code"


def sort_rows(rows: list, sort: str) -> list:
    """Sort by a whitelisted column; empty figures always last, whatever the direction."""
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["code"])
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    return sorted(present, key=key, reverse=descending) + missing


def group_names(ids) -> dict[int, Group]:
    return {g.pk: g for g in Group.objects.filter(pk__in=ids).select_related("team__opd")}


def progress_rows(progress, target):
    """Progress per kecamatan (against its share of the target, when split), OPD and type."""
    splits = dict(KecamatanTarget.objects.filter(target=target).values_list("kecamatan_id", "households")) if target else {}
    rows = {"kecamatan": [], "opd": [], "type": []}
    for kecamatan in Kecamatan.objects.order_by("code"):
        count = progress.by["kecamatan_id"].get(kecamatan.pk, 0)
        goal = splits.get(kecamatan.pk)
        rows["kecamatan"].append((kecamatan.name, count, goal, count * 100 / goal if goal else None))
    for opd in Opd.objects.filter(pk__in=progress.by["opd_id"].keys()).order_by("code"):
        rows["opd"].append((opd.code, progress.by["opd_id"][opd.pk], None, None))
    for kind in GroupType.objects.filter(pk__in=progress.by["type_id"].keys()).order_by("code"):
        rows["type"].append((kind.name, progress.by["type_id"][kind.pk], None, None))
    return rows


def opd_chart(figures: Figures) -> dict:
    """Mean income before and after joining per OPD, in code order (the dashboard's chart and
    the printed report's): figures with the "opd_id" key."""
    opds = {o.pk: o.code for o in Opd.objects.filter(pk__in=figures.by["opd_id"].keys())}
    items = sorted(figures.by["opd_id"].items(), key=lambda item: opds[item[0]])
    return {
        "labels": [opds[pk] for pk, _s in items],
        "before": [round_half_up(s.mean_baseline) for _pk, s in items],
        "after": [round_half_up(s.mean_current) for _pk, s in items],
        "before_label": _("Before joining"),
        "after_label": _("After joining"),
    }
