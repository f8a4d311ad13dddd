"""The monthly entry sheet: one group, one month, every active member on one page."""

import datetime as dt
import statistics
from dataclasses import dataclass


from groups.models import Group
from households.models import Household, IncomeReading, KbStatus, Meeting, Membership
from uppka.months import end_of_month, month_before, this_month

HISTORY_MONTHS = 12  # readings that define a household's "usual" income


def reporting_month() -> dt.date:
    """Last month: BKKBN's monthly register is due by the 3rd of the next month."""
    return month_before(this_month())


def register_month(as_of: dt.date) -> dt.date:
    """The register month shown beside figures as of ``as_of``: that month, or the reporting
    month when ``as_of`` is the current month (whose register is not due yet)."""
    return min(as_of, reporting_month())


@dataclass(frozen=True)
class SheetRow:
    household: Household
    membership: Membership
    amount: int | None  # stored for the sheet's month
    previous_period: dt.date | None
    previous_amount: int | None
    usual: int | None  # median of earlier readings, None when too few to judge
    kb_method: str = ""  # the family-planning method in force in the month ("" when none yet)
    kb_reason: str = ""
    present: frozenset = frozenset()  # ids of the month's meetings the household attended

    def is_outlier(self, amount: int) -> bool:
        """More than 3× or less than a third of the household's usual income, and of its
        latest earlier reading too: once an unusual amount has been saved (confirmed), the
        next month near it is the household's new level, not a typing error."""
        if not self.usual or amount == self.amount:
            return False
        return _far(amount, self.usual) and (self.previous_amount is None or _far(amount, self.previous_amount))


def _far(amount: int, reference: int) -> bool:
    return amount > 3 * reference or amount * 3 < reference


def active_members(group_ids, period: dt.date):
    """Memberships active at the end of the month (SPEC section 4). A deactivated household
    left its groups on the day it was deactivated, so it drops out from then on."""
    return Membership.objects.active_on(end_of_month(period)).filter(group_id__in=group_ids).select_related("household")


def month_meetings(group: Group, period: dt.date) -> list[Meeting]:
    return list(Meeting.objects.filter(group=group, held_on__gte=period, held_on__lte=end_of_month(period)).order_by("held_on"))


def sheet_rows(group: Group, period: dt.date) -> list[SheetRow]:
    """The rows of the entry sheet, in four queries whatever the size of the group."""
    memberships = list(active_members([group.id], period).order_by("household__head_name", "household_id"))
    ids = [m.household_id for m in memberships]
    first = period.replace(year=period.year - HISTORY_MONTHS // 12)
    readings: dict[int, list[IncomeReading]] = {hid: [] for hid in ids}
    for reading in IncomeReading.objects.filter(household_id__in=ids).between(first, period).order_by("period"):
        readings[reading.household_id].append(reading)
    in_force = {}
    for status in KbStatus.objects.filter(household_id__in=ids, period__lte=period).order_by("period"):
        in_force[status.household_id] = status  # the latest from the month or before wins
    present: dict[int, set[int]] = {hid: set() for hid in ids}
    attendance = Meeting.attendees.through.objects.filter(
        meeting__group=group, meeting__held_on__gte=period, meeting__held_on__lte=end_of_month(period),
        household_id__in=ids,
    ).values_list("household_id", "meeting_id")
    for household_id, meeting_id in attendance:
        present[household_id].add(meeting_id)
    rows = []
    for m in memberships:
        own = readings[m.household_id]
        current = next((r.amount for r in own if r.period == period), None)
        earlier = [r for r in own if r.period < period]
        usual = statistics.median(r.amount for r in earlier) if len(earlier) >= 2 else None
        rows.append(
            SheetRow(
                household=m.household,
                membership=m,
                amount=current,
                previous_period=earlier[-1].period if earlier else None,
                previous_amount=earlier[-1].amount if earlier else None,
                usual=int(usual) if usual is not None else None,
                kb_method=in_force[m.household_id].method if m.household_id in in_force else "",
                kb_reason=in_force[m.household_id].reason if m.household_id in in_force else "",
                present=frozenset(present[m.household_id]),
            )
        )
    return rows
