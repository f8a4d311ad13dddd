"""The import workbook's optional `Data Kelompok` sheet (SPEC section 9): each group's data
for a year, one row per group and year (an upsert), officers named by KK.

Same rules as the other sheets: every problem is found before anything is written, and a
plan with errors is never applied (``households/importer.py`` calls ``plan_profiles`` and
``apply_profiles``). Officers must be member families of the group in that year: members in
the database or on this workbook's Keluarga sheet.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from groups.models import Group
from households.models import CAPITAL_SOURCES, CHANNELS, OFFICERS, BusinessField, GroupProfile, Household, KbMethod, Membership
from households.profiles import FIRST_YEAR, current_year, parse_rupiah
from households.workbook import as_text, check_kk, date_cell, normalize_header, text_cell, whole_number
from uppka.months import not_in_future

SHEET = "Data Kelompok"
OFFICER_COLUMNS = {"chair": "No KK Ketua", "secretary": "No KK Sekretaris", "treasurer": "No KK Bendahara"}
CAPITAL_COLUMNS = dict(zip(
    (field for _code, field, _label in CAPITAL_SOURCES),
    ["Modal Sendiri (Rp)", "Modal KUR/Bank (Rp)", "Modal Bantuan Pemerintah (Rp)", "Modal BAZNAS (Rp)",
     "Modal Koperasi (Rp)", "Modal Lainnya (Rp)"],
))
BUSINESS = {normalize_header(code): code for code in BusinessField.values}
CHANNEL_CODES = {normalize_header(code): code for code, _name, _label in CHANNELS}
CHUNK = 5_000


def business_cell(value) -> str:
    code = BUSINESS.get(normalize_header(as_text(value)))
    if code is None:
        raise_choice(BusinessField.values)
    return code


def channels_cell(value) -> list[str]:
    """Codes joined by commas (or semicolons), matched like headers; empty: none."""
    chosen = set()
    for part in re.split(r"[,;]", as_text(value)):
        if not part.strip():
            continue
        code = CHANNEL_CODES.get(normalize_header(part))
        if code is None:
            raise_choice([c for c, _n, _l in CHANNELS])
        chosen.add(code)
    return [code for code, _name, _label in CHANNELS if code in chosen]


def money_cell(value, *, empty=0):
    return empty if value is None or value == "" else parse_rupiah(value)


def raise_choice(choices):
    raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})


def _parse_row(number, values, check) -> tuple | None:
    """A row's cells → (year, code, field values, officer KKs, channels), or None."""
    check.start()
    year = check.value(SHEET, number, "Tahun", whole_number, values["Tahun"], minimum=FIRST_YEAR, maximum=current_year())
    code = as_text(values["Kode Kelompok"])
    if not code:
        check.error(SHEET, number, "Kode Kelompok", _("Required."))
    fields = {
        "sk_number": check.value(SHEET, number, "Nomor SK", text_cell, values["Nomor SK"], max_length=100, required=False),
        "sk_date": check.value(SHEET, number, "Tanggal SK", date_cell, values["Tanggal SK"], required=False),
        "business_field": check.value(SHEET, number, "Bidang Usaha", business_cell, values["Bidang Usaha"]),
        "products": check.value(SHEET, number, "Produk", text_cell, values["Produk"], max_length=300, required=False),
        "turnover": check.value(SHEET, number, "Omzet per Bulan (Rp)", money_cell, values["Omzet per Bulan (Rp)"], empty=None),
    }
    if fields["sk_date"]:
        check.value(SHEET, number, "Tanggal SK", not_in_future, fields["sk_date"])
    for field, column in CAPITAL_COLUMNS.items():
        fields[field] = check.value(SHEET, number, column, money_cell, values[column])
    channels = check.value(SHEET, number, "Pemasaran", channels_cell, values["Pemasaran"])
    officers = {}
    for officer, column in OFFICER_COLUMNS.items():
        if values[column] not in (None, ""):
            officers[officer] = check.value(SHEET, number, column, check_kk, values[column])
    seen = {}
    for officer, kk in officers.items():
        if kk and kk in seen:
            check.error(SHEET, number, OFFICER_COLUMNS[officer], _("This family already holds another office: %(office)s.")
                        % {"office": OFFICER_COLUMNS[seen[kk]]})
        seen.setdefault(kk, officer)
    if check.failed:
        return None
    return year, code, fields, officers, channels


def plan_profiles(rows, groups: dict[str, Group], households: dict[str, Household], memberships: dict, scope, check) -> None:
    """Data Kelompok rows → new and changed profiles in ``check.plan`` (profiles_new,
    profiles_changed: (code, year, fields, officer KKs, channels)). ``groups``, ``households``
    and ``memberships`` are what the Kelompok and Keluarga sheets planned."""
    checked = []
    for number, values in rows:
        row = _parse_row(number, values, check)
        if row:
            checked.append((number, *row))
    if not checked:
        return
    codes = {code for _n, _y, code, *_ in checked}
    groups = {**{g.code: g for g in Group.objects.filter(code__in={c for c in codes - groups.keys() if "\x00" not in c})}, **groups}
    kks = {kk for *_x, officers, _c in checked for kk in officers.values()}
    households = {**_households_by_kk(kks - households.keys()), **households}
    spans = _membership_spans(households, kks, codes)
    spans.update({key: dates for key, (_row, dates) in memberships.items()})
    keys: dict[tuple[str, int], tuple[int, tuple]] = {}
    for number, year, code, fields, officers, channels in checked:
        if not _usable_group(number, code, groups, scope, check) or not _officers_are_members(
            number, year, code, officers, households, spans, check
        ):
            continue
        value = (fields, officers, channels)
        if (code, year) in keys:
            if keys[(code, year)][1] != value:
                check.error(SHEET, number, "Kode Kelompok", _("This group and year are already on row %(row)s with other data.")
                            % {"row": keys[(code, year)][0]})
            continue
        keys[(code, year)] = (number, value)
        chair = households.get(officers.get("chair"))
        if chair is not None and chair.kb_method == KbMethod.TIDAK:
            check.warn(SHEET, number, "No KK Ketua", _("The chair's family is not an acceptor: BKKBN expects the chair "
                                                         "of an UPPKA group to use a family-planning method."))
    _sort_into_plan(keys, groups, households, check)


def _usable_group(number, code, groups, scope, check) -> bool:
    if code not in groups:
        check.error(SHEET, number, "Kode Kelompok", _("Unknown group: add it on the Kelompok sheet."))
    elif groups[code].pk is not None and not scope.may_use_group(code):
        check.error(SHEET, number, "Kode Kelompok", _("This group is not one of yours."))
    else:
        return True
    return False


def _officers_are_members(number, year, code, officers, households, spans, check) -> bool:
    """Each officer a member of the group at some time in the year."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ok = True
    for officer, kk in officers.items():
        column = OFFICER_COLUMNS[officer]
        joined, left = spans.get((kk, code), (None, None))
        if kk not in households:
            check.error(SHEET, number, column, _("Unknown KK: add the family on the Keluarga sheet."))
            ok = False
        elif joined is None or joined > last or (left is not None and left < first):
            check.error(SHEET, number, column, _("This family is not a member of this group in that year."))
            ok = False
    return ok


def _sort_into_plan(keys, groups, households, check) -> None:
    group_ids = {code: groups[code].pk for code, _year in keys if groups[code].pk}
    existing = {
        (p.group_id, p.year): p
        for p in GroupProfile.objects.filter(group_id__in=group_ids.values(), year__in={y for _c, y in keys})
    }
    for (code, year), (_number, (fields, officers, channels)) in keys.items():
        profile = existing.get((group_ids.get(code), year))
        if profile is None:
            check.plan.profiles_new.append((code, year, fields, officers, channels))
            continue
        officer_ids = {o: households[officers[o]].pk if o in officers else None for o in OFFICERS}
        same = (
            all(getattr(profile, f) == v for f, v in fields.items())
            and all(getattr(profile, f"{o}_id") == officer_ids[o] for o in OFFICERS)
            and profile.channels == channels
        )
        if same:
            check.plan.unchanged += 1
        else:
            check.plan.profiles_changed.append((code, year, fields, officers, channels))


def apply_profiles(plan, *, user) -> None:
    """Write the planned profiles (after the groups, families and memberships), each save in
    the history with the importing user."""
    rows = plan.profiles_new + plan.profiles_changed
    if not rows:
        return
    group_ids = dict(Group.objects.filter(code__in={code for code, *_ in rows}).values_list("code", "id"))
    ids = {kk: h.pk for kk, h in _households_by_kk({kk for *_x, officers, _c in rows for kk in officers.values()}).items()}
    existing = {(p.group_id, p.year): p for p in GroupProfile.objects.filter(
        group_id__in=group_ids.values(), year__in={year for _c, year, *_ in rows})}
    for code, year, fields, officers, channels in rows:
        profile = existing.get((group_ids[code], year)) or GroupProfile(group_id=group_ids[code], year=year)
        for name, value in fields.items():
            setattr(profile, name, value)
        for officer in OFFICERS:
            setattr(profile, f"{officer}_id", ids[officers[officer]] if officer in officers else None)
        for channel, name, _label in CHANNELS:
            setattr(profile, name, channel in channels)
        profile.recorded_by = profile._history_user = user
        profile.save()


def _households_by_kk(kks) -> dict[str, Household]:
    kks, found = [kk for kk in kks if kk], {}
    for start in range(0, len(kks), CHUNK):
        found.update({h.kk_number: h for h in Household.objects.filter(kk_number__in=kks[start:start + CHUNK])})
    return found


def _membership_spans(households: dict[str, Household], kks, codes) -> dict[tuple[str, str], tuple]:
    """(KK, code) → (joined, left) of the officers' memberships in the database."""
    kk_of = {households[kk].pk: kk for kk in kks if kk in households and households[kk].pk}
    ids, spans = list(kk_of), {}
    for start in range(0, len(ids), CHUNK):
        for household_id, code, joined, left in Membership.objects.filter(
            household_id__in=ids[start:start + CHUNK], group__code__in=codes
        ).values_list("household_id", "group__code", "joined_on", "left_on"):
            spans[(kk_of[household_id], code)] = (joined, left)
    return spans
