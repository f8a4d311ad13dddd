"""The change history across models for DPPKB's audit page: who, when, what, old → new."""

import datetime as dt
import heapq
from dataclasses import dataclass

from django.utils.translation import gettext as _

from groups.models import Group, KecamatanTarget, PovertyLine, Target
from households.identity import mask_nik
from households.models import ClosedMonth, Household, IncomeReading, Membership
from uppka.formats import display_value, format_rupiah

AUDITED = [Household, Membership, IncomeReading, Target, KecamatanTarget, ClosedMonth, Group, PovertyLine]
SKIP = {"id", "history_id", "history_date", "history_change_reason", "history_type", "history_user", "recorded_at", "created_at"}


@dataclass(frozen=True)
class Entry:
    when: dt.datetime
    who: str
    kind: str  # "+", "~", "-"
    subject: str
    changes: list[tuple[str, str, str]]  # (field, old, new)


def latest_changes(*, before: dt.datetime | None, limit: int = 50) -> list[Entry]:
    """The latest changes before a moment, newest first; two queries per audited model."""
    batches = []
    for model in AUDITED:
        history = model.history.select_related("history_user", *_relations(model)).order_by("-history_date", "-history_id")
        if before:
            history = history.filter(history_date__lt=before)
        batches.append([(record, model) for record in history[:limit]])
    merged = heapq.merge(*batches, key=lambda item: item[0].history_date, reverse=True)
    chosen = [item for _, item in zip(range(limit), merged)]
    previous = _previous_versions(chosen)
    return [_entry(record, model, previous.get((model, record.history_id))) for record, model in chosen]


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


def _entry(record, model, before) -> Entry:
    fields = [f for f in model.history.model._meta.fields if f.name not in SKIP]
    changes = []
    for field in fields:
        new = _show(field, _value(record, field))
        old = _show(field, _value(before, field)) if before else ""
        if record.history_type == "~" and before is not None and old == new:
            continue
        if record.history_type == "+" and not new:
            continue
        changes.append((str(field.verbose_name), old, new))
    who = record.history_user.get_username() if record.history_user else _("system")
    return Entry(record.history_date, who, record.history_type, f"{model._meta.verbose_name} #{record.id}", changes)


def _value(record, field):
    """A related row (its name), or the plain value; a deleted related row shows its id."""
    if field.is_relation:
        try:
            return getattr(record, field.name)
        except field.related_model.DoesNotExist:
            return getattr(record, field.attname)
    return getattr(record, field.attname)


def _show(field, value) -> str:
    if value is None or value == "":
        return ""
    if field.name == "head_nik":
        return mask_nik(value)  # even DPPKB's audit list does not need the whole NIK
    if field.name == "amount":
        return format_rupiah(value)
    return display_value(field.name, value)
