"""The change history across models for DPPKB's audit page: who, when, what, old → new."""

import datetime as dt
import heapq
import itertools
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from groups.models import Group, KecamatanTarget, PovertyLine, Target
from households.history import NOT_RECORDED
from households.identity import mask_nik
from households.models import (
    CAPITAL_SOURCES, OFFICERS, ClosedMonth, GroupProfile, Household, IncomeReading, KbStatus, Meeting, Membership, MonthlyReport,
)
from uppka.formats import display_value, format_number, format_rupiah

AUDITED = [
    Household, Membership, IncomeReading, KbStatus, Meeting, MonthlyReport, Target, KecamatanTarget, ClosedMonth, Group,
    PovertyLine, GroupProfile,
]
MONEY_FIELDS = {"amount", "turnover", *(name for _code, name, _label in CAPITAL_SOURCES)}
SKIP = {"id", "history_id", "history_date", "history_change_reason", "history_type", "history_user", "recorded_at", "created_at"}


@dataclass(frozen=True)
class Entry:
    when: dt.datetime
    who: str
    kind: str  # "+", "~", "-"
    subject: str
    changes: list[tuple[str, str, str]]  # (field, old, new)


WHAT = {
    "income": [IncomeReading],
    "kb_status": [KbStatus],
    "register": [Meeting, MonthlyReport],
    "membership": [Membership],
    "household": [Household],
    "group": [Group],
    "group_data": [GroupProfile],
    "target": [Target, KecamatanTarget],
    "closed_month": [ClosedMonth],
    "poverty_line": [PovertyLine],
}


def latest_changes(
    *, before: dt.datetime | None, limit: int = 50, filters: dict | None = None, seen: int = 0
) -> list[Entry]:
    """The latest changes before a moment, newest first, matching the filters (see
    ``AuditFilterForm``); a few queries per audited model whatever the limit.

    ``seen``: how many changes made at the moment ``before`` itself were already shown (one
    save stamps all its rows with one moment, so a page can end in the middle of them)."""
    filters = filters or {}
    batches = []
    for model in WHAT.get(filters.get("what") or "", AUDITED):
        history = model.history.select_related("history_user", *_relations(model)).order_by("-history_date", "-history_id")
        history = _filtered(model, history, filters)
        if history is None:
            continue
        if before:
            history = history.filter(history_date__lte=before) if seen else history.filter(history_date__lt=before)
        batches.append([(record, model) for record in history[: limit + seen]])
    merged = heapq.merge(*batches, key=lambda item: item[0].history_date, reverse=True)
    merged = itertools.islice(merged, seen, None)  # the changes at ``before`` already shown come first
    chosen = [item for _, item in zip(range(limit), merged)]
    previous = _previous_versions(chosen)
    families = {r.id if m is Household else r.household_id for r, m in chosen
                if m in (Household, IncomeReading, Membership, KbStatus)}
    groups = _group_codes(families)
    present = _present([record for record, model in chosen if model is Meeting]
                       + [v for (m, _id), v in previous.items() if m is Meeting and v is not None])
    return [_entry(record, model, previous.get((model, record.history_id)), groups, present) for record, model in chosen]


def _present(versions) -> dict[int, str]:
    """Who was present at each meeting version (history id → names), in one query: ticks
    are recorded as changes of their meeting."""
    names: dict[int, list[str]] = {version.history_id: [] for version in versions}
    through = Meeting.history.model._meta.get_field("historicalmeeting_attendees").related_model
    for history_id, name in through.objects.filter(history_id__in=names).order_by(
        "household__head_name"
    ).values_list("history_id", "household__head_name"):
        names[history_id].append(name)
    return {history_id: ", ".join(values) for history_id, values in names.items()}


def _filtered(model, history, filters):
    """The model's history narrowed by the filters, or None when the filters leave it out
    (a group or a family asked for, and the model is about neither)."""
    if filters.get("who"):
        history = history.filter(history_user__username__iexact=filters["who"].strip())
    if filters.get("kind"):
        history = history.filter(history_type=filters["kind"])
    if filters.get("since"):
        history = history.filter(history_date__date__gte=filters["since"])
    if filters.get("until"):
        history = history.filter(history_date__date__lte=filters["until"])
    code, kk = filters.get("group"), filters.get("kk")
    if code:
        in_group = Membership.objects.filter(group__code__iexact=code).values("household_id")
        if model in (IncomeReading, KbStatus):
            history = history.filter(household_id__in=in_group)
        elif model in (Meeting, MonthlyReport, GroupProfile):
            history = history.filter(group__code__iexact=code)
        elif model is Membership:
            history = history.filter(group__code__iexact=code)
        elif model is Household:
            history = history.filter(id__in=in_group)
        elif model is Group:
            history = history.filter(code__iexact=code)
        else:
            return None
    if kk:
        if model in (IncomeReading, Membership, KbStatus):
            history = history.filter(household__kk_number=kk)
        elif model is Household:
            history = history.filter(kk_number=kk)
        else:
            return None
    return history


def _group_codes(household_ids) -> dict[int, str]:
    """Each family's group codes (one query), to name it in the entries."""
    codes: dict[int, list[str]] = {}
    for household_id, code in Membership.objects.filter(household_id__in=household_ids).order_by(
        "group__code"
    ).values_list("household_id", "group__code"):
        codes.setdefault(household_id, []).append(code)
    return {household_id: ", ".join(values) for household_id, values in codes.items()}


def _previous_versions(chosen):
    """For each chosen change, the version of the same object just before it (one query
    per model with changes)."""
    result = {}
    for model in AUDITED:
        records = [r for r, m in chosen if m is model and r.history_type == "~"]
        if not records:
            continue
        wanted = {r.history_id for r in records}
        versions = model.history.select_related(*_relations(model)).filter(
            id__in={r.id for r in records}, history_date__lte=max(r.history_date for r in records)
        ).order_by("id", "history_date", "history_id")
        last_by_object = {}
        for version in versions:
            if version.history_id in wanted:
                result[(model, version.history_id)] = last_by_object.get(version.id)
            last_by_object[version.id] = version
    return result


def _relations(model) -> list[str]:
    """The audited fields that point at other rows, fetched with the record (names, not ids)."""
    return [f.name for f in model.history.model._meta.fields if f.is_relation and f.name not in SKIP]


def _subject(record, model, groups: dict[int, str]) -> str:
    """What changed, in words: the family (masked NIK), the group, the month."""
    def family(household_id, name):
        codes = groups.get(household_id)
        return _("family %(name)s (%(groups)s)") % {"name": name, "groups": codes} if codes else _(
            "family %(name)s") % {"name": name}

    if model is IncomeReading:
        household = _related(record, "household")
        name = household.head_name if household else f"#{record.household_id}"
        return _("Income %(month)s, %(family)s") % {
            "month": display_value("period", record.period), "family": family(record.household_id, name)}
    if model is KbStatus:
        household = _related(record, "household")
        name = household.head_name if household else f"#{record.household_id}"
        return _("KB method from %(month)s, %(family)s") % {
            "month": display_value("period", record.period), "family": family(record.household_id, name)}
    if model in (Meeting, MonthlyReport):
        group = _related(record, "group")
        code = group.code if group else f"#{record.group_id}"
        if model is Meeting:
            return _("Meeting of %(group)s on %(day)s") % {"group": code, "day": display_value("held_on", record.held_on)}
        return _("Report of %(group)s for %(month)s") % {"group": code, "month": display_value("period", record.period)}
    if model is Membership:
        household, group = _related(record, "household"), _related(record, "group")
        return _("Membership of %(group)s, %(family)s") % {
            "group": group.code if group else f"#{record.group_id}",
            "family": family(record.household_id, household.head_name if household else f"#{record.household_id}")}
    if model is Household:
        return _("Family %(name)s, KK %(kk)s, NIK %(nik)s") % {
            "name": record.head_name, "kk": record.kk_number, "nik": mask_nik(record.head_nik)}
    if model is Group:
        return _("Group %(code)s %(name)s") % {"code": record.code, "name": record.name}
    if model is GroupProfile:
        group = _related(record, "group")
        return _("Data %(year)s of group %(group)s") % {"year": record.year, "group": group.code if group else f"#{record.group_id}"}
    if model is ClosedMonth:
        return _("Closing of %(month)s") % {"month": display_value("period", record.period)}
    if model is PovertyLine:
        return _("Poverty line from %(day)s") % {"day": display_value("valid_from", record.valid_from)}
    if model is KecamatanTarget:
        kecamatan = _related(record, "kecamatan")
        target = _related(record, "target")
        return _("Target %(year)s for Kecamatan %(name)s") % {
            "year": target.year if target else "", "name": kecamatan.name if kecamatan else ""}
    return _("Target %(year)s") % {"year": record.year}


def _related(record, name):
    try:
        return getattr(record, name)
    except ObjectDoesNotExist:  # the related row was deleted since
        return None


def _entry(record, model, before, groups=None, present=None) -> Entry:
    fields = [f for f in model.history.model._meta.fields if f.name not in SKIP]
    changes = []
    if model is Meeting:
        now = (present or {}).get(record.history_id, "")
        was = (present or {}).get(before.history_id, "") if before else ""
        if now != was and not (record.history_type == "~" and before is None):
            changes.append((_("Present"), was, now))
    for field in fields:
        new = _show(field, _value(record, field))
        old = _show(field, _value(before, field)) if before else ""
        if before is None and record.history_type == "~":  # loaded without its history (demo data)
            old = NOT_RECORDED()
        if record.history_type == "~" and before is not None and old == new:
            continue
        if record.history_type == "+" and not new:
            continue
        changes.append((str(field.verbose_name), old, new))
    who = record.history_user.get_username() if record.history_user else _("system")
    return Entry(record.history_date, who, record.history_type, _subject(record, model, groups or {}), changes)


def _value(record, field):
    """A related row (its name), or the plain value; a deleted related row shows its id."""
    if field.is_relation:
        try:
            related = getattr(record, field.name)
            return related.head_name if related and field.name in OFFICERS else related  # an officer, by name
        except field.related_model.DoesNotExist:
            return getattr(record, field.attname)
    return getattr(record, field.attname)


def _show(field, value) -> str:
    if value is None or value == "":
        return ""
    if field.name == "head_nik":
        return mask_nik(value)  # even DPPKB's audit list does not need the whole NIK
    if field.name in MONEY_FIELDS:
        return format_rupiah(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.name == "households":
        return format_number(value)
    return display_value(field.name, value)
