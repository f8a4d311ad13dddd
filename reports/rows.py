"""Row producers: the rows the report pages show are the rows the Excel export writes."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from groups.models import Group, GroupType, Kecamatan, Opd
from reports.compute import Summary
from reports.queries import Figures


@dataclass(frozen=True)
class ScopeRow:
    kind: str  # "total", "opd", "type", "kecamatan"
    code: str
    label: str  # e.g. "OPD DISTAN – Dinas Pertanian", SPEC section 5's Cakupan
    summary: Summary


def summary_rows(figures: Figures, *, total_label: str) -> list[ScopeRow]:
    """The selection first, then each OPD, group type and kecamatan (household's own)."""
    rows = [ScopeRow("total", "", total_label, figures.total)]
    scopes = [
        ("opd", "opd_id", Opd.objects.all(), _("OPD %(code)s – %(name)s")),
        ("type", "type_id", GroupType.objects.all(), _("Type %(code)s – %(name)s")),
        ("kecamatan", "kecamatan_id", Kecamatan.objects.all(), _("Kecamatan %(code)s – %(name)s")),
    ]
    for kind, key, queryset, label in scopes:
        summaries = figures.by[key]
        for obj in queryset.filter(pk__in=summaries.keys()).order_by("code"):
            rows.append(ScopeRow(kind, obj.code, label % {"code": obj.code, "name": obj.name}, summaries[obj.pk]))
    return rows


@dataclass(frozen=True)
class GroupRow:
    id: int
    code: str
    name: str
    type_code: str
    opd_code: str
    kelurahan: str
    is_active: bool
    summary: Summary


EMPTY = Summary(0, 0, None, None, None, None, None, None, None)


def group_rows(groups, figures: Figures) -> list[GroupRow]:
    """One row per group of the selection, in code order (one query)."""
    summaries = figures.by["group_id"]
    values = groups.order_by("code").values_list(
        "id", "code", "name", "group_type__code", "team__opd__code", "kelurahan__name", "is_active"
    )
    return [GroupRow(*row, summary=summaries.get(row[0], EMPTY)) for row in values]


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


def member_rows(frame) -> Iterator[tuple]:
    """Keluarga rows from a chunk of ``sql_figures.member_chunks()``: before, after and change rounded
    half away from zero with exact integer arithmetic, change % to one decimal."""
    if frame.empty:
        return
    for column in ("b_sum", "b_n", "a_sum", "a_n"):
        if column not in frame:
            frame[column] = 0
    b_sum, b_n = frame["b_sum"].fillna(0).to_numpy("int64"), frame["b_n"].fillna(0).to_numpy("int64")
    a_sum, a_n = frame["a_sum"].fillna(0).to_numpy("int64"), frame["a_n"].fillna(0).to_numpy("int64")
    has_before, has_after = b_n > 0, a_n > 0
    paired = has_before & has_after
    safe_b, safe_a = np.maximum(b_n, 1), np.maximum(a_n, 1)
    before = _round_ratio(b_sum, safe_b)
    after = _round_ratio(a_sum, safe_a)
    # change = a_sum/a_n − b_sum/b_n = (a_sum·b_n − b_sum·a_n) / (a_n·b_n)
    change_num, change_den = a_sum * safe_b - b_sum * safe_a, safe_a * safe_b
    change = _round_ratio(change_num, change_den)
    # change % with one decimal: round(10 · 100 · change / baseline) / 10
    pct_den = change_den * b_sum
    pct_ok = paired & (b_sum != 0)
    pct = _round_ratio(change_num * safe_b * 1000, np.where(pct_ok, pct_den, 1)) / 10
    columns = zip(
        frame["kk_number"], frame["head_name"], frame["group_code"], frame["joined_on"].dt.date,
        before, after, change, pct, has_before, has_after, paired, pct_ok,
    )
    for kk, name, code, joined, b, a, c, p, hb, ha, both, p_ok in columns:
        yield (
            kk, name, code, joined,
            int(b) if hb else None,
            int(a) if ha else None,
            int(c) if both else None,
            float(p) if p_ok else None,
        )


def _round_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator rounded half away from zero, exactly, for positive denominators."""
    sign = np.where(numerator < 0, -1, 1)
    return sign * ((2 * np.abs(numerator) + denominator) // (2 * denominator))
