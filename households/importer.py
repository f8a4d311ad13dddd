"""Checking an import workbook against the database and the user's scope, and applying it.

All or nothing: ``plan_import`` finds every problem at once and writes nothing;
``apply_plan`` writes a plan without errors in one transaction. Rows are upserts keyed by
group code, (KK, group code) and (KK, Periode), and the register's sheets (SPEC section 8) by
(group code, Tanggal), (group code, Tanggal, KK) and (KK, Periode): importing the same file
twice changes nothing. Attendance is only ever added: a family missing from the Kehadiran
sheet keeps a tick recorded on the entry sheet.
"""

import bisect
import datetime as dt
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from groups.models import Group, GroupType, Kelurahan, Opd, WorkingTeam, validate_group_code
from households import figures, profile_sheet, register
from households.bulk import bulk_insert, db_timestamp
from households.models import ClosedMonth, Household, IncomeReading, KbMethod, KbStatus, Meeting, Membership
from households.services import (
    closed_by_date, closed_by_method, closed_month, earliest_shared_join, may_change_closed_months, too_early_to_join,
)
from uppka.formats import format_number
from uppka.months import month_not_in_future, not_in_future, this_month
from households.workbook import (
    NO_VALUE,
    STORED_AS_NUMBER,
    IncomeSheet,
    Problem,
    ProblemLog,
    Sheets,
    amount_cell,
    as_text,
    check_kk,
    check_nik,
    date_cell,
    loose_identity,
    kb_method_cell,
    kb_reason_cell,
    meeting_mode_cell,
    month_number,
    month_of,
    period_cell,
    sheet_rank,
    text_cell,
    whole_number,
)

HOUSEHOLD_FIELDS = ["head_nik", "head_name", "kelurahan_id", "address", "family_size", "kb_method"]
# The Keluarga columns of those fields, in the order of the details of _plan_households.
DETAIL_COLUMNS = ["NIK Kepala Keluarga", "Nama Kepala Keluarga", "Kode Kelurahan", "Alamat", "Jumlah Jiwa", "Metode KB"]
GROUP_FIELDS = ["name", "group_type_id", "team_id", "kelurahan_id", "formed_on", "business"]
CHUNK = 5_000


@dataclass
class Plan:
    log: ProblemLog = field(default_factory=ProblemLog)  # the first problems, and how many there are
    teams: list[WorkingTeam] = field(default_factory=list)  # to create
    groups_new: list[Group] = field(default_factory=list)
    groups_changed: list[Group] = field(default_factory=list)
    households_new: list[Household] = field(default_factory=list)
    households_changed: list = field(default_factory=list)  # _Known: made model objects when applied
    memberships_new: list[tuple[str, str, dt.date, dt.date | None]] = field(default_factory=list)  # kk, code, …
    memberships_changed: list[Membership] = field(default_factory=list)
    readings_new: "NewReadings" = field(default_factory=lambda: NewReadings())  # kk, period, amount
    readings_changed: list[IncomeReading] = field(default_factory=list)
    meetings_new: list[tuple[str, dt.date, str, str]] = field(default_factory=list)  # code, day, mode, topic
    meetings_changed: list[Meeting] = field(default_factory=list)
    attendance_new: list[tuple[str, dt.date, str]] = field(default_factory=list)  # code, day, kk
    statuses_new: list[tuple[str, dt.date, str, str]] = field(default_factory=list)  # kk, period, method, reason
    statuses_changed: list[KbStatus] = field(default_factory=list)
    # Data Kelompok (households/profile_sheet.py): (code, year, fields, officer KKs, channels)
    profiles_new: list[tuple] = field(default_factory=list)
    profiles_changed: list[tuple] = field(default_factory=list)
    unchanged: int = 0

    @property
    def problems(self) -> list[Problem]:
        return self.log.problems

    @property
    def errors(self) -> list[Problem]:
        return self.log.errors

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]

    @property
    def summaries(self) -> list[Problem]:
        return self.log.summaries

    @property
    def problem_count(self) -> int:
        return self.log.total

    @property
    def error_count(self) -> int:
        return self.log.error_count

    def counts(self) -> dict[str, int]:
        return {
            "groups_new": len(self.groups_new), "groups_changed": len(self.groups_changed),
            "households_new": len(self.households_new), "households_changed": len(self.households_changed),
            "memberships_new": len(self.memberships_new), "memberships_changed": len(self.memberships_changed),
            "readings_new": len(self.readings_new), "readings_changed": len(self.readings_changed),
            "meetings_new": len(self.meetings_new), "meetings_changed": len(self.meetings_changed),
            "attendance_new": len(self.attendance_new),
            "statuses_new": len(self.statuses_new), "statuses_changed": len(self.statuses_changed),
            "profiles_new": len(self.profiles_new), "profiles_changed": len(self.profiles_changed),
            "unchanged": self.unchanged,
        }

    @property
    def has_changes(self) -> bool:
        return any(v for k, v in self.counts().items() if k != "unchanged")


def describe(counts: dict[str, int]) -> str:
    """The plan's counts as one sentence (also used by the upload page)."""
    labels = {
        "groups_new": _("new groups"), "groups_changed": _("changed groups"),
        "households_new": _("new households"), "households_changed": _("changed households"),
        "memberships_new": _("new memberships"), "memberships_changed": _("changed memberships"),
        "readings_new": _("new incomes"), "readings_changed": _("changed incomes"),
        "meetings_new": _("new meetings"), "meetings_changed": _("changed meetings"),
        "attendance_new": _("new attendances"),
        "statuses_new": _("new KB statuses"), "statuses_changed": _("changed KB statuses"),
        "profiles_new": _("new yearly group data"), "profiles_changed": _("changed yearly group data"),
        "unchanged": _("rows without changes"),
    }
    return ", ".join(f"{format_number(counts.get(key, 0))} {label}" for key, label in labels.items())


class Checker:
    """Collects problems row by row; ``value`` runs one conversion and records its error.

    It also remembers what a later sheet needs to name the cause of its own problems: the
    rows of the Kelompok and Keluarga sheets that failed (by group code and KK), and the
    cells stored as numbers, summed up per column by ``summarize``."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.failed = False
        self.failed_groups: dict[str, int] = {}  # code → the first Kelompok row with that code that failed
        self.failed_families: dict[str, int] = {}  # KK → the first Keluarga row with that KK that failed
        self.as_numbers: dict[tuple[str, str], list[int]] = {}  # (sheet, column) → [count, first row, last row]

    def start(self):
        self.failed = False

    def value(self, sheet, row, column, convert, *args, **kwargs):
        try:
            return convert(*args, **kwargs)
        except ValidationError as e:
            self.error(sheet, row, column, " ".join(e.messages))
            if getattr(e, "code", None) == STORED_AS_NUMBER:
                seen = self.as_numbers.setdefault((sheet, column), [0, row, row])
                seen[0], seen[2] = seen[0] + 1, row
            return None

    def required(self, sheet, row, column, value) -> str:
        """A cell's text, or "" after recording that the cell is empty."""
        text = as_text(value)
        if not text:
            self.error(sheet, row, column, _("Required."))
        return text

    def summarize(self):
        """One line per column stored as numbers, with the fix that works: retyping does not
        (the cell stays a number), re-opening the source with the column as Text does."""
        for (sheet, column), (count, first, last) in sorted(
                self.as_numbers.items(), key=lambda item: (sheet_rank(item[0][0]), item[0][0], item[1][1])):
            where = ngettext(
                "Column %(column)s on sheet %(sheet)s is stored as a number in %(count)s row (row %(first)s).",
                "Column %(column)s on sheet %(sheet)s is stored as numbers in %(count)s rows (rows %(first)s to "
                "%(last)s).", count) % {"column": column, "sheet": sheet, "count": format_number(count),
                                         "first": first, "last": last}
            self.plan.log.summaries.append(Problem(sheet, 0, column, " ".join([where, _(
                "A spreadsheet program keeps only 15 digits of a number, so the 16th may already be lost, and "
                "retyping does not help while the cells are numbers. If the data came from a CSV file, open the CSV "
                "again and set this column to Text in the import dialog (LibreOffice: Column type Text; Excel: "
                "Data > From Text/CSV, column type Text), then save it as .xlsx. Or paste the data into the blank "
                "template or the data download, whose KK and NIK columns are already Text, typing or pasting the "
                "numbers as text.")])))

    def failed_row(self, sheet, row, column, message, *, table, key):
        """Record the problem of a row whose group or family is missing: when that group or
        family is on its own sheet in a row that failed, say so (the cause is there)."""
        if key in table:
            other = "Kelompok" if table is self.failed_groups else "Keluarga"  # sheet names are fixed, never translated
            message = (_("This group is on the %(sheet)s sheet at row %(row)s, which has problems too: fix that row "
                         "first.") if table is self.failed_groups else
                       _("This family is on the %(sheet)s sheet at row %(row)s, which has problems too: fix that row "
                         "first.")) % {"sheet": other, "row": table[key]}
        self.error(sheet, row, column, message)

    def error(self, sheet, row, column, message):
        self.failed = True
        self.plan.log.add(Problem(sheet, row, column, message))

    def warn(self, sheet, row, column, message):
        self.plan.log.add(Problem(sheet, row, column, message, warning=True))


def plan_import(sheets: Sheets, *, user=None, progress=None) -> Plan:
    """Check every row and work out the changes, writing nothing. ``user`` None is the
    command line (the whole city); an OPD user may only touch their OPD's groups.
    ``progress(stage, done, total)``, when given, hears "check" with the sheets checked of 8."""
    plan = Plan(log=sheets.log.copy())
    if plan.error_count:
        return plan
    scope = Scope(user)
    check = Checker(plan)
    step = progress or (lambda stage, done, total: None)
    groups = _plan_groups(sheets.rows.get("Kelompok", []), scope, check)
    step("check", 1, 8)
    households, memberships, methods = _plan_households(sheets.rows.get("Keluarga", []), groups, scope, check)
    step("check", 2, 8)
    _plan_readings(sheets.incomes, households, scope, check)
    step("check", 3, 8)
    meetings = _plan_meetings(sheets.rows.get("Pertemuan", []), groups, scope, check)
    step("check", 4, 8)
    _plan_attendance(sheets.rows.get("Kehadiran", []), groups, households, memberships, meetings, scope, check)
    step("check", 5, 8)
    _plan_statuses(sheets.rows.get("Status KB", []), households, methods, scope, check)
    step("check", 6, 8)
    _warn_of_reasons_not_given(methods, sheets.rows.get("Status KB", []), check)
    step("check", 7, 8)
    profile_sheet.plan_profiles(sheets.rows.get("Data Kelompok", []), groups, households, memberships, scope, check)
    check.summarize()
    step("check", 8, 8)
    return plan


class Scope:
    """What the importing user may change."""

    def __init__(self, user):
        self.user = user
        self.city_wide = user is None or user.sees_whole_city
        # Closed months bind an import as they bind the entry sheet (DPPKB may still correct).
        self.closed = set() if user is None or may_change_closed_months(user) else set(
            ClosedMonth.objects.values_list("period", flat=True)
        )
        self.opd_id = None if self.city_wide else user.opd_id
        self.visible_groups = None if self.city_wide else set(
            Group.objects.visible_to(user).values_list("code", flat=True)
        )

    def closed_month(self, day: dt.date) -> bool:
        """Whether the month of ``day`` is closed to this importer."""
        return day.replace(day=1) in self.closed

    def closed_from(self, day: dt.date | None) -> dt.date | None:
        """The latest closed month on or after the month of ``day`` (a membership dated
        then would change that month's register), or None."""
        if day is None:
            return None
        later = [period for period in self.closed if period >= day.replace(day=1)]
        return max(later) if later else None

    def first_closed_after(self, day: dt.date) -> dt.date | None:
        """The earliest closed month after the month of ``day`` (a KB status from then on
        would hold into it), or None."""
        later = [period for period in self.closed if period > day.replace(day=1)]
        return min(later) if later else None

    def may_use_opd(self, opd: Opd) -> bool:
        return self.city_wide or opd.pk == self.opd_id

    def may_use_group(self, code: str) -> bool:
        return self.city_wide or code in self.visible_groups


def _plan_groups(rows, scope: Scope, check: Checker) -> dict[str, Group]:
    """Kelompok rows → the groups by code after the import (existing, changed or new)."""
    sheet = "Kelompok"
    opds = {o.code.upper(): o for o in Opd.objects.all()}
    types = {t.code.upper(): t for t in GroupType.objects.all()}
    kelurahan = {k.code: k for k in Kelurahan.objects.all()}
    codes = [as_text(values["Kode Kelompok"]) for _, values in rows]
    existing = {g.code: g for g in Group.objects.filter(code__in=[c for c in codes if c and "\x00" not in c])}
    teams = {(t.opd_id, t.name.lower()): t for t in WorkingTeam.objects.all()}
    seen: dict[str, tuple[int, tuple]] = {}
    result = dict(existing)
    for number, values in rows:
        check.start()
        code = check.value(sheet, number, "Kode Kelompok", text_cell, values["Kode Kelompok"], max_length=30)
        if code and code not in existing:  # a group already recorded keeps its code
            check.value(sheet, number, "Kode Kelompok", validate_group_code, code)
        name = check.value(sheet, number, "Nama Kelompok", text_cell, values["Nama Kelompok"], max_length=200)
        kind = types.get(check.required(sheet, number, "Jenis Kelompok", values["Jenis Kelompok"]).upper())
        if kind is None and as_text(values["Jenis Kelompok"]):
            check.error(sheet, number, "Jenis Kelompok", _("Unknown type; choose one of: %(choices)s.") % {"choices": ", ".join(sorted(types))})
        opd = opds.get(check.required(sheet, number, "Kode OPD", values["Kode OPD"]).upper())
        if opd is None and as_text(values["Kode OPD"]):
            check.error(sheet, number, "Kode OPD", _("Unknown OPD code."))
        elif opd is not None and not scope.may_use_opd(opd):
            check.error(sheet, number, "Kode OPD", _("You can only import groups of your own OPD."))
        area = _kelurahan(sheet, number, values["Kode Kelurahan"], kelurahan, check)
        formed = check.value(sheet, number, "Tanggal Dibentuk", date_cell, values["Tanggal Dibentuk"], required=False)
        if formed:
            check.value(sheet, number, "Tanggal Dibentuk", not_in_future, formed)
        business = check.value(sheet, number, "Jenis Usaha", text_cell, values["Jenis Usaha"], max_length=200, required=False)
        team_name = check.value(sheet, number, "Tim Kerja", text_cell, values["Tim Kerja"], max_length=200, required=False)
        if code and code in existing and not scope.may_use_group(code):
            check.error(sheet, number, "Kode Kelompok", _("This group is fostered by another OPD."))
        if check.failed:
            if code:
                check.failed_groups.setdefault(code, number)
            continue
        key = (name, kind.pk, opd.pk, area.pk, formed, business, (team_name or "").lower())
        if code in seen:
            if seen[code][1] != key:
                check.error(sheet, number, "Kode Kelompok", _("This code is already on row %(row)s with different values.") % {"row": seen[code][0]})
            continue
        seen[code] = (number, key)
        team = _team_for(opd, team_name, teams, check.plan)
        group = existing.get(code) or Group(code=code)
        new_values = {
            "name": name, "group_type_id": kind.pk, "team_id": team.pk, "kelurahan_id": area.pk,
            "formed_on": formed, "business": business or "",
        }
        group.pending_team = team  # a team created by this import has no pk until applied
        if group.pk is None:
            _assign(group, new_values)
            check.plan.groups_new.append(group)
        elif _differs(group, new_values) or team.pk is None:
            _assign(group, new_values)
            check.plan.groups_changed.append(group)
        else:
            check.plan.unchanged += 1
        result[code] = group
    return result


def _kelurahan(sheet, number, value, kelurahan: dict, check: Checker):
    """The kelurahan of a code cell: "Required." when empty, unknown otherwise."""
    text = check.required(sheet, number, "Kode Kelurahan", value)
    area = kelurahan.get(text)
    if area is None and text:
        check.error(sheet, number, "Kode Kelurahan", _("Unknown kelurahan code (for example 73.73.01.1001)."))
    return area


def _team_for(opd, name, teams, plan: Plan) -> WorkingTeam:
    if not name:
        team = next((t for t in teams.values() if t.opd_id == opd.pk and t.is_default), None)
        name, is_default = f"Tim Kerja {opd.code}", True
    else:
        team = teams.get((opd.pk, name.lower()))
        is_default = False
    if team is None:
        team = WorkingTeam(opd=opd, name=name, is_default=is_default)
        teams[(opd.pk, name.lower())] = team
        plan.teams.append(team)
    return team


def _plan_households(rows, groups: dict[str, Group], scope: Scope, check: Checker):
    """Keluarga rows → households by KK (existing, changed or new), and their memberships.
    Returns the households, the memberships on the sheet ((KK, code) → (row, (joined, left)))
    and each KK's first row and Metode KB (checked against the Status KB sheet)."""
    sheet = "Keluarga"
    kelurahan = {k.code: k.pk for k in Kelurahan.objects.all()}
    # Families may join groups already in the database and not on the Kelompok sheet.
    missing = {as_text(values["Kode Kelompok"]) for _, values in rows} - groups.keys()
    missing = {code for code in missing if "\x00" not in code}  # no such code, and PostgreSQL refuses it in a query
    groups = {**{g.code: g for g in Group.objects.filter(code__in=missing)}, **groups}
    parsed = []
    for number, values in rows:
        check.start()
        kk = check.value(sheet, number, "No KK", check_kk, values["No KK"])
        nik_result = check.value(sheet, number, "NIK Kepala Keluarga", check_nik, values["NIK Kepala Keluarga"])
        name = check.value(sheet, number, "Nama Kepala Keluarga", text_cell, values["Nama Kepala Keluarga"], max_length=200)
        area = _kelurahan(sheet, number, values["Kode Kelurahan"], kelurahan, check)
        address = check.value(sheet, number, "Alamat", text_cell, values["Alamat"], max_length=300, required=False)
        size = check.value(sheet, number, "Jumlah Jiwa", whole_number, values["Jumlah Jiwa"], minimum=1, maximum=50)
        method = check.value(sheet, number, "Metode KB", kb_method_cell, values["Metode KB"])
        code = check.required(sheet, number, "Kode Kelompok", values["Kode Kelompok"])
        if code and code not in groups:
            check.failed_row(sheet, number, "Kode Kelompok", _("Unknown group: add it on the Kelompok sheet."),
                             table=check.failed_groups, key=code)
        elif code and not scope.may_use_group(code) and groups[code].pk is not None:
            check.error(sheet, number, "Kode Kelompok", _("This group is not one of yours."))
        joined = check.value(sheet, number, "Tanggal Bergabung", date_cell, values["Tanggal Bergabung"])
        if joined:
            check.value(sheet, number, "Tanggal Bergabung", not_in_future, joined)
        left = check.value(sheet, number, "Tanggal Keluar", date_cell, values["Tanggal Keluar"], required=False)
        if left:
            check.value(sheet, number, "Tanggal Keluar", not_in_future, left)
            if joined and left < joined:
                check.error(sheet, number, "Tanggal Keluar", _("The date left cannot be before the date joined."))
        if nik_result:
            for warning in nik_result[1]:
                check.warn(sheet, number, "NIK Kepala Keluarga", warning)
        if not check.failed:
            details = {"head_nik": nik_result[0], "head_name": name, "kelurahan_id": area, "address": address or "",
                       "family_size": size, "kb_method": method}
            parsed.append((number, kk, details, code, joined, left))
        else:
            check.failed_families.setdefault(kk or loose_identity(values["No KK"]), number)

    existing = _households_by_kk({kk for _, kk, *_ in parsed})
    visible = _visible_household_ids(scope, existing)
    result = dict(existing)
    first_row: dict[str, tuple[int, tuple]] = {}  # the details as a tuple: a dict each is ~4 times as big
    memberships: dict[tuple[str, str], tuple[int, tuple]] = {}
    for number, kk, details, code, joined, left in parsed:
        if kk in first_row:
            other_row, other = first_row[kk]
            for column, value, other_value in zip(DETAIL_COLUMNS, details.values(), other):
                if other_value != value:
                    check.error(sheet, number, column, _("Differs from row %(row)s for the same KK.") % {"row": other_row})
        else:
            first_row[kk] = (number, tuple(details.values()))
            household = existing.get(kk)
            if household is None:
                household = Household(kk_number=kk, **details)
                check.plan.households_new.append(household)
                result[kk] = household
            elif _differs(household, details):
                if household.pk not in visible:
                    check.error(sheet, number, "No KK", _(
                        "This family is registered in another group; only DPPKB or that group's "
                        "fosterers can change its details."))
                else:
                    _assign(household, details)
                    check.plan.households_changed.append(household)
            else:
                check.plan.unchanged += 1
        key = (kk, code)
        if key in memberships:
            if memberships[key][1] != (joined, left):
                check.error(sheet, number, "Kode Kelompok", _("This KK is already in this group on row %(row)s with other dates.") % {"row": memberships[key][0]})
            continue
        memberships[key] = (number, (joined, left))
    _plan_memberships(memberships, existing, scope, check)
    methods = {kk: (number, details[-1]) for kk, (number, details) in first_row.items()}
    return result, memberships, methods


def _plan_memberships(memberships, existing, scope: Scope, check: Checker):
    """New and changed memberships. A family also in groups outside the importer's may not
    be dated into them earlier than a cadre may (``services.earliest_shared_join``)."""
    plan = check.plan
    ids = [h.pk for h in existing.values()]
    kk_of = {h.pk: kk for kk, h in existing.items()}
    by_key = {}  # plain values: a model object (and its group's) for each membership is ~2 KB
    for start in range(0, len(ids), CHUNK):
        for pk, household_id, code, joined, left in Membership.objects.filter(
                household_id__in=ids[start:start + CHUNK]).values_list("id", "household_id", "group__code", "joined_on", "left_on"):
            by_key[(kk_of[household_id], code)] = _Span(pk, joined, left)
    shared = set() if scope.city_wide else {kk for kk, code in by_key if code not in scope.visible_groups}
    earliest = earliest_shared_join()
    changed = {}  # id → (joined, left)
    for (kk, code), (number, (joined, left)) in memberships.items():
        membership = by_key.get((kk, code))
        if kk in shared and joined < earliest and (membership is None or joined < membership.joined_on):
            check.error("Keluarga", number, "Tanggal Bergabung", too_early_to_join(earliest))
            continue
        if _dated_into_a_closed_month(membership, joined, left, scope, check, number):
            continue
        if membership is None:
            plan.memberships_new.append((kk, code, joined, left))
        elif (membership.joined_on, membership.left_on) != (joined, left):
            changed[membership.pk] = (joined, left)
        else:
            plan.unchanged += 1
    changed_ids = list(changed)
    for start in range(0, len(changed_ids), CHUNK):
        for membership in Membership.objects.filter(pk__in=changed_ids[start:start + CHUNK]):
            membership.joined_on, membership.left_on = changed[membership.pk]
            plan.memberships_changed.append(membership)


class _Span(NamedTuple):
    """A membership in the database, as far as the import compares it (a tuple: ~70 bytes)."""

    pk: int
    joined_on: dt.date
    left_on: dt.date | None


def _dated_into_a_closed_month(membership, joined, left, scope: Scope, check: Checker, number) -> bool:
    """A new or moved joining or leaving date on or before the last day of a closed month
    would change that month's register: refused, as on the registration form."""
    was_joined, was_left = (None, None) if membership is None else (membership.joined_on, membership.left_on)
    refused = False
    for column, new, old in [("Tanggal Bergabung", joined, was_joined), ("Tanggal Keluar", left, was_left)]:
        if membership is not None and new == old:
            continue
        closed = max(filter(None, [scope.closed_from(new), scope.closed_from(old)]), default=None)
        if closed:
            check.error("Keluarga", number, column, closed_by_date(closed))
            refused = True
    return refused


def _closed_for(scope: Scope, households, kk: str, period: dt.date) -> bool:
    """A month's reading or status may not change when the month is closed to the importer,
    except the past of a family this import adds (its joining is after every closed month)."""
    return scope.closed_month(period) and households[kk].pk is not None


class NewReadings:
    """The readings a plan inserts, compact (a city's are millions): each one's family as an
    index into ``kks``, its month (``workbook.month_number``) and amount, in numpy arrays.
    Iterating gives (KK, period, amount) tuples, as the plan's other lists."""

    def __init__(self, kks=(), kk_index=None, months=None, amounts=None):
        self.kks = list(kks)
        self.kk_index = np.zeros(0, np.int32) if kk_index is None else kk_index
        self.months = np.zeros(0, np.int32) if months is None else months
        self.amounts = np.zeros(0, np.int32) if amounts is None else amounts

    def __len__(self) -> int:
        return len(self.amounts)

    def __iter__(self):
        for index, month, amount in zip(self.kk_index.tolist(), self.months.tolist(), self.amounts.tolist()):
            yield self.kks[index], month_of(month), amount

    def families(self) -> set[str]:
        return {self.kks[index] for index in np.unique(self.kk_index).tolist()}


MONTH_KEY = 1 << 16  # a reading's key: family index × MONTH_KEY + month_number (months stay below 65,536)


def _plan_readings(incomes: list[IncomeSheet], households: dict[str, Household], scope: Scope, check: Checker):
    """Every Pendapatan… sheet → new and changed readings, in arrays: one check per family row
    and per cell off the fast path (``IncomeSheet.odd``), the rest in numpy. Keyed by (KK,
    month): the same key twice in a sheet with another amount is an error, and in two sheets
    is an error whatever the amounts. A reading is found again by its place: the cell's index
    over all the sheets (``Places``)."""
    if not incomes:
        return
    kk_ids: dict[str, int] = {}
    row_kks = [_family_rows(sheet, kk_ids, check) for sheet in incomes]
    kks = list(kk_ids)
    del kk_ids
    # Families on the Keluarga sheet passed its scope checks; others must already be in the
    # database and in the user's groups.
    on_sheet = set(households)
    households = {**_households_by_kk(set(kks) - on_sheet), **households}
    visible = _visible_household_ids(scope, households)
    known = np.array([kk in households and (kk in on_sheet or households[kk].pk in visible) for kk in kks] + [False])
    places = Places(incomes)
    # The good cells of every sheet, one after the other: (family, month) as one key, amount, place.
    keys, amount, place, count = (np.empty(places.offsets[-1], np.int64), np.empty(places.offsets[-1], np.int32),
                                  np.empty(places.offsets[-1], np.int32), 0)
    for index, (sheet, row_kk) in enumerate(zip(incomes, row_kks)):
        _refuse_unknown_families(sheet, row_kk, kks, households, on_sheet, visible, check)
        kk_of, month, value, at = _good_cells(sheet, row_kk, known, check, places.offsets[index])
        end = count + len(at)
        np.multiply(kk_of, MONTH_KEY, out=keys[count:end], dtype=np.int64)
        keys[count:end] += month
        amount[count:end], place[count:end], count = value, at, end
        del kk_of, month, value, at
    del row_kks, known
    keys, amount, place = keys[:count], amount[:count], place[:count]
    keep = _drop_repeats(places, keys, amount, place, check)
    if keep is not None:
        keys, amount, place = keys[keep], amount[keep], place[keep]
    del keep
    db_key, db_amount = _readings_in_db(kks, households)
    position = np.searchsorted(db_key, keys)
    found = position < len(db_key)
    found[found] = db_key[position[found]] == keys[found]
    position[~found] = 0
    same = found & (db_amount[position] == amount) if len(db_key) else np.zeros(len(amount), bool)
    del db_key, db_amount, position
    check.plan.unchanged += int(same.sum())
    wanted = ~same
    del same
    pks = np.array([(households[kk].pk or 0) if kk in households else 0 for kk in kks], np.int64)
    if scope.closed:
        closed = np.isin(keys % MONTH_KEY, [month_number(period) for period in scope.closed]) & wanted
        closed &= pks[keys // MONTH_KEY] > 0
        for index in np.flatnonzero(closed).tolist():
            sheet, at = places.find(int(place[index]))
            check.error(sheet.title, _row_of(sheet, at), sheet.column(at, of_period=True),
                        closed_month(month_of(int(keys[index] % MONTH_KEY))))
        wanted &= ~closed
    changed = {}  # (household id, period) → (amount, place)
    for index in np.flatnonzero(wanted & found).tolist():
        household_id, (sheet, at) = int(pks[keys[index] // MONTH_KEY]), places.find(int(place[index]))
        if household_id not in visible:
            # A family that joins the user's groups with this file brings its past, but the
            # income another group recorded stays theirs (as on the cadre's entry sheet).
            check.error(sheet.title, _row_of(sheet, at), sheet.column(at), _(
                "Another group recorded a different income for this family and month; only DPPKB can change it."))
        else:
            changed[(household_id, month_of(int(keys[index] % MONTH_KEY)))] = int(amount[index])
    check.plan.readings_changed = _changed_readings(changed)
    new = wanted & ~found
    del found, wanted
    keys = keys[new]
    check.plan.readings_new = NewReadings(kks, (keys // MONTH_KEY).astype(np.int32),
                                          (keys % MONTH_KEY).astype(np.int32), amount[new])


def _changed_readings(changed: dict[tuple[int, dt.date], int]) -> list[IncomeReading]:
    """The readings in the database to change (their ids fetched now: only these need one)."""
    households, found = sorted({household_id for household_id, _period in changed}), []
    for start in range(0, len(households), CHUNK):
        rows = IncomeReading.objects.filter(household_id__in=households[start:start + CHUNK]).values_list(
            "id", "household_id", "period")
        for pk, household_id, period in rows.iterator(chunk_size=CHUNK):
            amount = changed.get((household_id, period))
            if amount is not None:
                found.append(IncomeReading(id=pk, household_id=household_id, period=period, amount=amount))
    return found


class Places:
    """A reading's place over all the Pendapatan sheets: its sheet's offset plus its cell index."""

    def __init__(self, incomes: list[IncomeSheet]):
        self.incomes = incomes
        self.offsets = [0]
        for sheet in incomes:
            self.offsets.append(self.offsets[-1] + len(sheet))

    def find(self, place: int) -> tuple[IncomeSheet, int]:
        index = bisect.bisect_right(self.offsets, place) - 1
        return self.incomes[index], place - self.offsets[index]


def _row_of(sheet: IncomeSheet, cell: int) -> int:
    return sheet.numbers[sheet.cell_rows[cell]]


def _family_rows(sheet: IncomeSheet, kk_ids: dict[str, int], check: Checker) -> np.ndarray:
    """Each family row's KK as an index into ``kk_ids`` (which grows), or -1 when refused."""
    found = np.full(len(sheet.numbers), -1, np.int32)
    for row, raw in enumerate(sheet.kks):
        kk = check.value(sheet.title, sheet.numbers[row], "No KK", check_kk, raw)
        if kk is not None:
            found[row] = kk_ids.setdefault(kk, len(kk_ids))
    return found


def _refuse_unknown_families(sheet: IncomeSheet, row_kk, kks, households, on_sheet, visible, check: Checker):
    for row, index in enumerate(row_kk.tolist()):
        if index < 0:
            continue
        kk = kks[index]
        if kk not in households:
            check.failed_row(sheet.title, sheet.numbers[row], "No KK", _("Unknown KK: add the family on the Keluarga sheet."),
                             table=check.failed_families, key=kk)
        elif kk not in on_sheet and households[kk].pk not in visible:
            check.error(sheet.title, sheet.numbers[row], "No KK", _("This family is not a member of your groups."))


def _good_cells(sheet: IncomeSheet, row_kk, known, check: Checker, offset: int):
    """(kk index, month, amount, place) of the sheet's readings without problems; the cells
    off the fast path are converted (or refused) one by one, months in the future refused."""
    months = np.frombuffer(sheet.months, np.int32).copy() if len(sheet) else np.zeros(0, np.int32)
    amounts = np.frombuffer(sheet.amounts, np.int32).copy() if len(sheet) else np.zeros(0, np.int32)
    good = np.ones(len(amounts), bool)
    for at, (period, amount) in sheet.odd.items():
        number = _row_of(sheet, at)
        if months[at] == NO_VALUE:
            day = check.value(sheet.title, number, sheet.column(at, of_period=True), period_cell, period)
            months[at] = NO_VALUE if day is None else month_number(day)
        if amounts[at] == NO_VALUE:
            value = check.value(sheet.title, number, sheet.column(at), amount_cell, amount)
            amounts[at] = NO_VALUE if value is None else value
        good[at] = months[at] != NO_VALUE and amounts[at] != NO_VALUE
    future = good & (months > month_number(this_month()))
    for at in np.flatnonzero(future).tolist():
        check.error(sheet.title, _row_of(sheet, at), sheet.column(at, of_period=True), _("The period cannot be in the future."))
    kk_of = row_kk[np.frombuffer(sheet.cell_rows, np.int32)] if len(sheet) else np.zeros(0, np.int32)
    good &= ~future & known[kk_of]  # -1 (a refused KK) picks the last entry of ``known``: False
    at = np.flatnonzero(good)
    return kk_of[at], months[at], amounts[at], (at + offset).astype(np.int32)


def _drop_repeats(places: Places, keys, amount, place, check: Checker) -> np.ndarray | None:
    """The first cell of each (KK, month), in the order of the workbook (None: every cell);
    a repeat is an error when it is on another sheet or has another amount (an identical
    repeat is harmless)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    repeat = np.zeros(len(keys), bool)
    np.equal(ordered[1:], ordered[:-1], out=repeat[1:])
    del ordered
    if not repeat.any():
        return None
    starts = np.flatnonzero(~repeat)
    for index in np.flatnonzero(repeat).tolist():
        earlier = order[starts[np.searchsorted(starts, index, side="right") - 1]]
        later = order[index]
        (before, first), (sheet, at) = places.find(int(place[earlier])), places.find(int(place[later]))
        if sheet is not before:
            check.error(sheet.title, _row_of(sheet, at), sheet.column(at, of_period=True), _(
                "This family and month are already on the sheet %(sheet)s at row %(row)s.")
                % {"sheet": before.title, "row": _row_of(before, first)})
        elif amount[earlier] != amount[later]:
            check.error(sheet.title, _row_of(sheet, at), sheet.column(at), _(
                "This period is already on row %(row)s with another amount.") % {"row": _row_of(before, first)})
    keep = np.zeros(len(keys), bool)
    keep[order[starts]] = True
    return keep


def _readings_in_db(kks: list[str], households: dict[str, Household]):
    """The readings in the database of these families: sorted keys (as ``_plan_readings``'s)
    and amounts, in arrays (a tuple per reading would cost ~100 bytes)."""
    index_of = {households[kk].pk: index for index, kk in enumerate(kks) if kk in households and households[kk].pk}
    keys, amounts = array("q"), array("i")
    id_list = list(index_of)
    for start in range(0, len(id_list), CHUNK):
        readings = IncomeReading.objects.filter(household_id__in=id_list[start:start + CHUNK])
        for household_id, period, amount in readings.values_list("household_id", "period", "amount").iterator(
                chunk_size=CHUNK):
            keys.append(index_of[household_id] * MONTH_KEY + period.year * 12 + period.month - 1)
            amounts.append(amount)
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    order = np.argsort(np.frombuffer(keys, np.int64))
    sorted_keys = np.frombuffer(keys, np.int64)[order]
    del keys
    return sorted_keys, np.frombuffer(amounts, np.int32)[order]


def _groups_with(groups: dict[str, Group], codes) -> dict[str, Group]:
    """The groups of the Kelompok sheet and those of ``codes`` already in the database."""
    missing = {code for code in codes if code and "\x00" not in code} - groups.keys()
    return {**{g.code: g for g in Group.objects.filter(code__in=missing)}, **groups}


def _group_code(sheet, number, value, groups: dict[str, Group], scope: Scope, check: Checker) -> str | None:
    code = as_text(value)
    if not code:
        check.error(sheet, number, "Kode Kelompok", _("Required."))
    elif code not in groups:
        check.failed_row(sheet, number, "Kode Kelompok", _("Unknown group: add it on the Kelompok sheet."),
                         table=check.failed_groups, key=code)
    elif groups[code].pk is not None and not scope.may_use_group(code):
        check.error(sheet, number, "Kode Kelompok", _("This group is not one of yours."))
    else:
        return code
    return None


def _meeting_day(sheet, number, value, check: Checker) -> dt.date | None:
    day = check.value(sheet, number, "Tanggal", date_cell, value)
    if day:
        check.value(sheet, number, "Tanggal", not_in_future, day)
    return day


def _meetings_in_db(groups: dict[str, Group], keys) -> dict[tuple[str, dt.date], Meeting]:
    """The meetings in the database among ``keys`` ((code, day) pairs): a query per CHUNK groups."""
    named = {code for code, _ in keys}
    codes = {g.pk: code for code, g in groups.items() if g.pk and code in named}
    if not codes:
        return {}
    days = [day for _, day in keys]
    ids, found = list(codes), {}
    for start in range(0, len(ids), CHUNK):
        meetings = Meeting.objects.filter(group_id__in=ids[start:start + CHUNK], held_on__gte=min(days), held_on__lte=max(days))
        for meeting in meetings:
            key = (codes[meeting.group_id], meeting.held_on)
            if key in keys:
                found[key] = meeting
    return found


def _plan_meetings(rows, groups: dict[str, Group], scope: Scope, check: Checker) -> set[tuple[str, dt.date]]:
    """Pertemuan rows → new and changed meetings, one per group and date. Returns every
    (code, date) the sheet names, so that Kehadiran rows are not refused twice over a
    Pertemuan row with another problem."""
    sheet = "Pertemuan"
    groups = _groups_with(groups, {as_text(values["Kode Kelompok"]) for _, values in rows})
    named, parsed = set(), {}
    for number, values in rows:
        check.start()
        code = _group_code(sheet, number, values["Kode Kelompok"], groups, scope, check)
        day = _meeting_day(sheet, number, values["Tanggal"], check)
        mode = check.value(sheet, number, "Cara", meeting_mode_cell, values["Cara"])
        topic = check.value(sheet, number, "Topik", text_cell, values["Topik"], max_length=200)
        if code and day:
            named.add((code, day))
        if check.failed:
            continue
        key = (code, day)
        if key in parsed:
            if parsed[key][1] != (mode, topic):
                check.error(sheet, number, "Tanggal", _(
                    "This group's meeting on this date is already on row %(row)s with other values.") % {"row": parsed[key][0]})
            continue
        parsed[key] = (number, (mode, topic))
    current = _meetings_in_db(groups, set(parsed))
    for key, (number, (mode, topic)) in parsed.items():
        meeting = current.get(key)
        if (meeting is None or (meeting.mode, meeting.topic) != (mode, topic)) and scope.closed_month(key[1]):
            check.error(sheet, number, "Tanggal", closed_month(key[1].replace(day=1)))
        elif meeting is None:
            check.plan.meetings_new.append((*key, mode, topic))
        elif (meeting.mode, meeting.topic) != (mode, topic):
            meeting.mode, meeting.topic = mode, topic
            check.plan.meetings_changed.append(meeting)
        else:
            check.plan.unchanged += 1
    return named


def _plan_attendance(rows, groups, households, memberships, meetings_on_sheet, scope: Scope, check: Checker):
    """Kehadiran rows → families present at a meeting (of the database or the Pertemuan
    sheet), each an active member of the group on that day (after this import's Keluarga rows)."""
    sheet = "Kehadiran"
    groups = _groups_with(groups, {as_text(values["Kode Kelompok"]) for _, values in rows})
    checked = []
    for number, values in rows:
        check.start()
        code = _group_code(sheet, number, values["Kode Kelompok"], groups, scope, check)
        day = _meeting_day(sheet, number, values["Tanggal"], check)
        kk = check.value(sheet, number, "No KK", check_kk, values["No KK"])
        if not check.failed:
            checked.append((number, code, day, kk))
    if not checked:
        return
    households = {**_households_by_kk({kk for *_, kk in checked} - set(households)), **households}
    in_db = _meetings_in_db(groups, {(code, day) for _, code, day, _ in checked})
    spans = _membership_spans(households, {code for _, code, _, _ in checked})
    spans.update({key: dates for key, (_, dates) in memberships.items()})
    present = _attendees(m.pk for m in in_db.values())
    seen = set()
    for number, code, day, kk in checked:
        if (code, day) not in in_db and (code, day) not in meetings_on_sheet:
            check.error(sheet, number, "Tanggal", _("This group has no meeting on this date: add it on the Pertemuan sheet."))
            continue
        if kk not in households:
            check.failed_row(sheet, number, "No KK", _("Unknown KK: add the family on the Keluarga sheet."),
                             table=check.failed_families, key=kk)
            continue
        joined, left = spans.get((kk, code), (None, None))
        if joined is None or joined > day or (left is not None and left <= day):
            check.error(sheet, number, "No KK", _("This family is not an active member of this group on this date."))
            continue
        if (code, day, kk) in seen:
            continue
        seen.add((code, day, kk))
        meeting, household = in_db.get((code, day)), households[kk]
        if meeting and household.pk and (meeting.pk, household.pk) in present:
            check.plan.unchanged += 1
        elif scope.closed_month(day):
            check.error(sheet, number, "Tanggal", closed_month(day.replace(day=1)))
        else:
            check.plan.attendance_new.append((code, day, kk))


def _membership_spans(households: dict[str, Household], codes) -> dict[tuple[str, str], tuple]:
    """(KK, code) → (joined, left) of the memberships in the database in these groups."""
    kk_of = {h.pk: kk for kk, h in households.items() if h.pk}
    ids, spans = list(kk_of), {}
    for start in range(0, len(ids), CHUNK):
        rows = Membership.objects.filter(household_id__in=ids[start:start + CHUNK], group__code__in=codes).values_list(
            "household_id", "group__code", "joined_on", "left_on")
        for household_id, code, joined, left in rows:
            spans[(kk_of[household_id], code)] = (joined, left)
    return spans


def _attendees(meeting_ids) -> set[tuple[int, int]]:
    """(meeting id, household id) of those meetings' attendance."""
    through, ids, found = Meeting.attendees.through, list(meeting_ids), set()
    for start in range(0, len(ids), CHUNK):
        found.update(through.objects.filter(meeting_id__in=ids[start:start + CHUNK]).values_list("meeting_id", "household_id"))
    return found


def _plan_statuses(rows, households, methods, scope: Scope, check: Checker):
    """Status KB rows → each family's KB history (one status per month). The method in force
    after the import (its latest status, of the sheet or the database) must be the Metode KB
    of its Keluarga rows; a family not on that sheet takes it."""
    sheet = "Status KB"
    checked = []
    for number, values in rows:
        check.start()
        kk = check.value(sheet, number, "No KK", check_kk, values["No KK"])
        period = check.value(sheet, number, "Periode", period_cell, values["Periode"])
        if period:
            check.value(sheet, number, "Periode", month_not_in_future, period,
                        message=_("The period cannot be in the future."))
        method = check.value(sheet, number, "Metode KB", kb_method_cell, values["Metode KB"])
        reason = check.value(sheet, number, "Alasan", kb_reason_cell, values["Alasan"], method=method) if method else None
        if not check.failed:
            checked.append((number, kk, period, (method, reason)))
    if not checked:
        return
    on_sheet = set(households)
    households = {**_households_by_kk({kk for _, kk, _, _ in checked} - on_sheet), **households}
    visible = _visible_household_ids(scope, households)
    parsed: dict[tuple[str, dt.date], tuple[int, tuple]] = {}
    for number, kk, period, status in checked:
        if kk not in households:
            check.failed_row(sheet, number, "No KK", _("Unknown KK: add the family on the Keluarga sheet."),
                             table=check.failed_families, key=kk)
        elif kk not in on_sheet and households[kk].pk not in visible:
            check.error(sheet, number, "No KK", _("This family is not a member of your groups."))
        elif (kk, period) in parsed and parsed[(kk, period)][1] != status:
            check.error(sheet, number, "Metode KB", _("This period is already on row %(row)s with another method or reason.")
                        % {"row": parsed[(kk, period)][0]})
        elif (kk, period) not in parsed:
            parsed[(kk, period)] = (number, status)
    history = _status_history(households, {kk for kk, _ in parsed})
    for (kk, period), (number, status) in parsed.items():
        found = history.setdefault(kk, {}).get(period)
        if (found is None or found[1:] != status) and _closed_for(scope, households, kk, period):
            check.error(sheet, number, "Periode", closed_month(period))
            continue
        later = scope.first_closed_after(period)
        if (found is None or found[1:] != status) and later and households[kk].pk is not None:
            check.error(sheet, number, "Periode", closed_by_method(later))  # it holds into that month
            continue
        if found is None:
            check.plan.statuses_new.append((kk, period, *status))
        elif found[1:] == status:
            check.plan.unchanged += 1
        else:
            check.plan.statuses_changed.append(KbStatus(
                id=found[0], household_id=households[kk].pk, period=period, method=status[0], reason=status[1]))
        history[kk][period] = (found[0] if found else None, *status)
    _check_methods_in_force(history, households, methods, check)


def _warn_of_reasons_not_given(methods, status_rows, check: Checker):
    """A Keluarga row that makes a family's method TIDAK records the reason LAINNYA unless
    the Status KB sheet gives one: the registration form asks, so the import says so."""
    on_sheet = {as_text(values["No KK"]) for _number, values in status_rows}
    wanted = [kk for kk, (_number, method) in methods.items() if method == KbMethod.TIDAK and kk not in on_sheet]
    already = set()  # families recorded without a method already: their reason stays
    for start in range(0, len(wanted), CHUNK):
        already |= set(Household.objects.filter(kk_number__in=wanted[start:start + CHUNK], kb_method=KbMethod.TIDAK)
                       .values_list("kk_number", flat=True))
    for kk in wanted:
        if kk in already:
            continue
        check.warn("Keluarga", methods[kk][0], "Metode KB", _(
            "No reason is given for using no method, so it is recorded as Lainnya. To record the reason, "
            "add the family's row to the Status KB sheet (column Alasan)."))


def _status_history(households, kks) -> dict[str, dict[dt.date, tuple]]:
    """KK → period → (id, method, reason) of the statuses in the database."""
    kk_of = {households[kk].pk: kk for kk in kks if households[kk].pk}
    ids, history = list(kk_of), {}
    for start in range(0, len(ids), CHUNK):
        statuses = KbStatus.objects.filter(household_id__in=ids[start:start + CHUNK]).values_list(
            "id", "household_id", "period", "method", "reason")
        for pk, household_id, period, method, reason in statuses:
            history.setdefault(kk_of[household_id], {})[period] = (pk, method, reason)
    return history


def _check_methods_in_force(history, households, methods, check: Checker):
    for kk, statuses in history.items():
        if not statuses:
            continue
        latest = max(statuses)
        method = statuses[latest][1]
        if kk in methods:
            number, family_method = methods[kk]
            if family_method != method:
                check.error("Keluarga", number, "Metode KB", _(
                    "Must be the family's latest KB status (%(month)s: %(method)s, from the Status KB sheet or "
                    "recorded before).") % {"month": f"{latest:%Y-%m}", "method": method})
        elif households[kk].kb_method != method:
            households[kk].kb_method = method
            check.plan.households_changed.append(households[kk])


class _Known:
    """A household already in the database, as the planner reads and changes it: its id, KK
    and the details an import may change, in slots. A model object is about 1.4 KB, this a
    third of it: a re-import of a city's 100,000 families holds them all at once. The rows
    that change become model objects when the plan is applied (``_changed_households``)."""

    __slots__ = ("pk", "kk_number", *HOUSEHOLD_FIELDS)

    def __init__(self, pk, kk_number, *details):
        self.pk, self.kk_number = pk, kk_number
        for name, value in zip(HOUSEHOLD_FIELDS, details):
            setattr(self, name, value)


def _households_by_kk(kks) -> dict[str, "_Known"]:
    kks = list(kks)
    found = {}
    for start in range(0, len(kks), CHUNK):
        rows = Household.objects.filter(kk_number__in=kks[start:start + CHUNK]).values_list(
            "pk", "kk_number", *HOUSEHOLD_FIELDS)
        found.update({row[1]: _Known(*row) for row in rows})
    return found


def _changed_households(changed: list) -> list[Household]:
    """The households the plan changes, as model objects with the plan's values (each once,
    however many sheets changed it), for the update and its history."""
    known = {h.pk: h for h in changed}
    ids, models = list(known), []
    for start in range(0, len(ids), CHUNK):
        for household in Household.objects.filter(pk__in=ids[start:start + CHUNK]):
            for name in HOUSEHOLD_FIELDS:
                setattr(household, name, getattr(known[household.pk], name))
            models.append(household)
    return models


def _visible_household_ids(scope: Scope, households: dict[str, Household]) -> set[int]:
    ids = [h.pk for h in households.values() if h.pk]
    if scope.city_wide:
        return set(ids)
    visible = set()
    for start in range(0, len(ids), CHUNK):
        visible.update(
            Membership.objects.filter(household_id__in=ids[start:start + CHUNK], group__code__in=scope.visible_groups)
            .values_list("household_id", flat=True)
        )
    return visible


def _differs(obj, values: dict) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def _assign(obj, values: dict):
    for name, value in values.items():
        setattr(obj, name, value)


def _ids_by_kk(kks) -> dict[str, int]:
    kks, found = list(kks), {}
    for start in range(0, len(kks), CHUNK):
        found.update(Household.objects.filter(kk_number__in=kks[start:start + CHUNK]).values_list("kk_number", "pk"))
    return found


READING_BATCH = 100_000  # readings a statement inserts: a DataFrame of them is ~10 MB


def _insert_readings(readings: NewReadings, ids: dict[str, int], *, user, now, progress=None):
    """New readings, then their history ("created", by the importing user), in bulk
    statements of READING_BATCH rows: millions of rows are too many for the ORM's bulk_create."""
    stamp = db_timestamp(now)
    user_id = user.pk if user else None
    household_ids = np.array([ids[kk] if kk in ids else 0 for kk in readings.kks], np.int64)
    total = len(readings)
    for start in range(0, total, READING_BATCH):
        end = min(start + READING_BATCH, total)
        months = readings.months[start:end]
        bulk_insert(IncomeReading, pd.DataFrame({
            "household_id": household_ids[readings.kk_index[start:end]],
            "period": [f"{m // 12:04d}-{m % 12 + 1:02d}-01" for m in months.tolist()],
            "amount": readings.amounts[start:end],
            "recorded_by_id": pd.array([user_id] * (end - start), dtype="Int64"),
            "recorded_at": [stamp] * (end - start),
        }))
        if progress:
            progress("write", end, total)
    # Every reading stamped with this import's exact time is one it just inserted (changed
    # readings get the same stamp later, through bulk_update_with_history).
    quote = connection.ops.quote_name
    columns = "id, household_id, period, amount, recorded_by_id, recorded_at"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(IncomeReading.history.model._meta.db_table)} "
            f"({columns}, history_date, history_change_reason, history_type, history_user_id) "
            f"SELECT {columns}, %s, NULL, '+', %s FROM {quote(IncomeReading._meta.db_table)} WHERE recorded_at = %s",
            [stamp, user_id, stamp],
        )


@transaction.atomic
def apply_plan(plan: Plan, *, user=None, progress=None) -> dict[str, int]:
    """Write a plan without errors; every change is kept in the history with the user.
    ``progress(stage, done, total)``, when given, hears of the readings written."""
    if plan.error_count:
        raise ValueError("A plan with errors is never applied.")
    now = timezone.now()
    for team in plan.teams:
        team.save()
    for group in plan.groups_new + plan.groups_changed:
        group.team = group.pending_team
        group._history_user = user
        group.save()
    history = {"default_user": user, "default_date": now}
    # In chunks: simple-history builds a record object for each row it is given at once.
    for start in range(0, len(plan.households_new), CHUNK):
        bulk_create_with_history(plan.households_new[start:start + CHUNK], Household, batch_size=CHUNK, **history)
    if plan.households_changed:
        bulk_update_with_history(_changed_households(plan.households_changed), Household, HOUSEHOLD_FIELDS,
                                 batch_size=CHUNK, **history)
    kks = {kk for kk, *_ in plan.memberships_new} | plan.readings_new.families() | {
        kk for kk, *_ in plan.statuses_new} | {kk for *_, kk in plan.attendance_new}
    ids = _ids_by_kk(kks)
    group_ids = dict(Group.objects.filter(code__in={code for _, code, *_ in plan.memberships_new}).values_list("code", "id"))
    for start in range(0, len(plan.memberships_new), CHUNK):
        bulk_create_with_history(
            [Membership(household_id=ids[kk], group_id=group_ids[code], joined_on=joined, left_on=left)
             for kk, code, joined, left in plan.memberships_new[start:start + CHUNK]],
            Membership, batch_size=CHUNK, **history,
        )
    if plan.memberships_changed:
        bulk_update_with_history(plan.memberships_changed, Membership, ["joined_on", "left_on"], batch_size=CHUNK, **history)
    if plan.readings_new:
        _insert_readings(plan.readings_new, ids, user=user, now=now, progress=progress)
    for reading in plan.readings_changed:
        reading.recorded_by, reading.recorded_at = user, now
    if plan.readings_changed:
        bulk_update_with_history(
            plan.readings_changed, IncomeReading, ["amount", "recorded_by", "recorded_at"], batch_size=CHUNK, **history
        )
    _apply_meetings(plan, ids, user=user, now=now)
    _apply_statuses(plan, ids, history)
    profile_sheet.apply_profiles(plan, user=user)
    touched = (
        {h.pk for h in plan.households_changed}
        | {ids[kk] for kk, *_ in plan.memberships_new}
        | {m.household_id for m in plan.memberships_changed}
        | {ids[kk] for kk in plan.readings_new.families()}
        | {r.household_id for r in plan.readings_changed}
    )
    figures.refresh(touched)
    register.follow_methods(touched, by=user)
    return plan.counts()


def _apply_meetings(plan: Plan, ids: dict[str, int], *, user, now):
    """Meetings and attendance in bulk; each meeting touched gets one history record with
    its attendees (what simple-history keeps for a tick on the entry sheet)."""
    if not (plan.meetings_new or plan.meetings_changed or plan.attendance_new):
        return
    codes = {code for code, *_ in plan.meetings_new} | {code for code, *_ in plan.attendance_new}
    group_ids = dict(Group.objects.filter(code__in=codes).values_list("code", "id"))
    Meeting.objects.bulk_create(
        [Meeting(group_id=group_ids[code], held_on=day, mode=mode, topic=topic, recorded_by=user)
         for code, day, mode, topic in plan.meetings_new], batch_size=CHUNK)
    for meeting in plan.meetings_changed:
        meeting.recorded_by, meeting.recorded_at = user, now
    Meeting.objects.bulk_update(plan.meetings_changed, ["mode", "topic", "recorded_by", "recorded_at"], batch_size=CHUNK)
    wanted = {(group_ids[code], day) for code, day, *_ in plan.meetings_new + plan.attendance_new}
    meeting_ids = {}
    if wanted:
        days, gids = [day for _, day in wanted], sorted({gid for gid, _ in wanted})
        for start in range(0, len(gids), CHUNK):
            for pk, gid, day in Meeting.objects.filter(
                group_id__in=gids[start:start + CHUNK], held_on__gte=min(days), held_on__lte=max(days)
            ).values_list("id", "group_id", "held_on"):
                meeting_ids[(gid, day)] = pk
    through = Meeting.attendees.through
    through.objects.bulk_create(
        [through(meeting_id=meeting_ids[(group_ids[code], day)], household_id=ids[kk]) for code, day, kk in plan.attendance_new],
        batch_size=CHUNK,
    )
    new = {meeting_ids[(group_ids[code], day)] for code, day, *_ in plan.meetings_new}
    touched = new | {m.pk for m in plan.meetings_changed} | {
        meeting_ids[(group_ids[code], day)] for code, day, _ in plan.attendance_new}
    _meeting_history(sorted(touched), new, user=user, now=now)


def _meeting_history(meeting_ids: list[int], new: set[int], *, user, now):
    records_model = Meeting.history.model
    attendees_model = records_model.attendees.model
    through = Meeting.attendees.through
    for start in range(0, len(meeting_ids), CHUNK):
        chunk = meeting_ids[start:start + CHUNK]
        meetings = list(Meeting.objects.filter(pk__in=chunk))
        records = []
        for update in (False, True):
            records += Meeting.history.bulk_history_create(
                [m for m in meetings if (m.pk not in new) == update], update=update, default_user=user, default_date=now)
        record_of = {record.id: record for record in records}
        attendees_model.objects.bulk_create(
            [attendees_model(id=pk, meeting_id=meeting_id, household_id=household_id, history=record_of[meeting_id])
             for pk, meeting_id, household_id in through.objects.filter(meeting_id__in=chunk).values_list(
                 "id", "meeting_id", "household_id")],
            batch_size=CHUNK,
        )


def _apply_statuses(plan: Plan, ids: dict[str, int], history: dict):
    user, now = history["default_user"], history["default_date"]
    if plan.statuses_new:
        bulk_create_with_history(
            [KbStatus(household_id=ids[kk], period=period, method=method, reason=reason, recorded_by=user, recorded_at=now)
             for kk, period, method, reason in plan.statuses_new], KbStatus, batch_size=CHUNK, **history)
    for status in plan.statuses_changed:
        status.recorded_by, status.recorded_at = user, now
    if plan.statuses_changed:
        bulk_update_with_history(
            plan.statuses_changed, KbStatus, ["method", "reason", "recorded_by", "recorded_at"], batch_size=CHUNK, **history)
