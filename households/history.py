"""A household's change history: who changed what, when, old → new."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from households.identity import mask_nik
from households.models import Household, IncomeReading, Membership
from uppka.formats import display_value, format_rupiah

TRACKED = {
    Household: ["kk_number", "head_nik", "head_name", "kelurahan", "address", "family_size", "kb_method", "is_active"],
    Membership: ["group", "joined_on", "left_on"],
    IncomeReading: ["period", "amount"],
}
LIMIT = 100


@dataclass(frozen=True)
class Change:
    when: datetime
    who: str
    subject: str
    field: str
    old: str
    new: str


def change_history(household: Household, *, user, memberships: set[int] | None = None) -> list[Change]:
    """The latest changes to a household, its memberships and readings, newest first.

    ``memberships``: the ids of the memberships the user may see (None: all). Of the others
    only their creation shows, without the group: who added the family elsewhere, and when.
    Three queries whatever the length of the history; the NIK is masked for anyone but DPPKB.
    """
    records = [
        (Household, household.history.select_related("history_user", "kelurahan")),
        (Membership, Membership.history.filter(household_id=household.pk).select_related("history_user", "group")),
        (IncomeReading, IncomeReading.history.filter(household_id=household.pk).select_related("history_user")),
    ]
    show_nik = user.sees_whole_city
    changes = []
    for model, queryset in records:
        previous = {}
        for record in queryset.order_by("history_date", "history_id"):
            if model is Membership and memberships is not None and record.id not in memberships:
                if record.history_type == "+":
                    changes.append(Change(record.history_date, _who(record), _("another group"), _("family added"), "", ""))
                continue
            before = previous.get(record.id)
            previous[record.id] = record
            changes.extend(_changes(model, before, record, show_nik))
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:LIMIT]


def NOT_RECORDED() -> str:  # noqa: N802 - a translated constant
    return _("(not recorded)")


def _who(record) -> str:
    return record.history_user.get_username() if record.history_user else _("system")


def _changes(model, before, record, show_nik):
    who = _who(record)
    subject = _subject(model, record)
    if record.history_type == "-":
        return [Change(record.history_date, who, subject, _("deleted"), "", "")]
    result = []
    unknown = before is None and record.history_type == "~"  # data loaded without its history (demo data)
    for name in TRACKED[model]:
        new = _display(model, record, name, show_nik)
        old = _display(model, before, name, show_nik) if before else (NOT_RECORDED() if unknown else "")
        if before is None and not new:
            continue
        if unknown and name == "period":
            continue  # a reading's month never changes: its subject names it
        if before is None or old != new:
            label = str(model._meta.get_field(name).verbose_name)
            result.append(Change(record.history_date, who, subject, label, old, new))
    return result


def _subject(model, record):
    if model is Membership:
        return _("membership %(group)s") % {"group": record.group.code}
    if model is IncomeReading:
        return _("income %(month)s") % {"month": date_format(record.period, "F Y")}
    return _("household")


def _display(model, record, name, show_nik):
    value = getattr(record, name)
    if value is None:
        return ""
    if name == "amount":
        return format_rupiah(value)
    if name == "head_nik" and not show_nik:
        return mask_nik(value)
    if name == "kb_method":
        return record.get_kb_method_display()
    if name == "is_active":
        return _("active") if value else _("inactive")
    return display_value(name, value)
