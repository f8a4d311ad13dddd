"""Writes that touch several rows or must be audited (STYLE: services.py)."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from groups.models import Group
from households import figures
from households.models import ClosedMonth, Household, IncomeReading, Membership
from uppka.months import end_of_month, month_before, month_of, not_in_future, this_month


class ConflictError(Exception):
    """Someone else saved the same readings after this user loaded them."""

    def __init__(self, household_ids):
        super().__init__(household_ids)
        self.household_ids = set(household_ids)


@dataclass(frozen=True)
class SaveResult:
    created: int
    updated: int
    unchanged: int


def may_change_closed_months(user) -> bool:
    """A closed month is read-only for cadres; DPPKB (and administrators) can still correct it."""
    return user.sees_whole_city


def check_open_from(*, user, day: dt.date, field: str) -> None:
    """A membership starting or ending on ``day`` counts in the register of that month and of
    every month after it: a cadre may not date it into a closed month's register."""
    if may_change_closed_months(user):
        return
    closed = ClosedMonth.objects.filter(period__gte=month_of(day)).order_by("-period").first()
    if closed:
        raise ValidationError({field: closed_by_date(closed.period)})


def closed_by_date(closed: dt.date) -> str:
    """Why a date may not fall on or before the last day of the closed month ``closed``."""
    return _(
        "%(month)s is closed: a date on or before its last day would change its register. "
        "Choose a later date, or ask DPPKB."
    ) % {"month": date_format(closed, "F Y")}


def closed_month(period: dt.date) -> str:
    """Why a closed month's register may not be changed (by anyone but DPPKB)."""
    return _("%(month)s is closed: only DPPKB can change its register.") % {"month": date_format(period, "F Y")}


def check_may_record(*, user, period: dt.date, household_ids) -> None:
    """A cadre records or corrects a month's income only for households that are active
    members of one of their groups at the end of that month (the registration's baseline
    month is the one other case, handled by ``register_household``). Everything else is
    DPPKB's. Raises PermissionDenied naming nothing."""
    if user.sees_whole_city:
        return
    allowed = set(
        Membership.objects.active_on(end_of_month(period))
        .filter(group__in=Group.objects.editable_by(user), household_id__in=household_ids)
        .values_list("household_id", flat=True)
    )
    if set(household_ids) - allowed:
        raise PermissionDenied


def may_deactivate(*, user, household: Household) -> bool:
    """Deactivating ends every open membership of the household, so a user may do it only
    when all of them are in groups they may change (DPPKB always)."""
    if user.sees_whole_city:
        return True
    return not (
        household.memberships.filter(left_on__isnull=True).exclude(group__in=Group.objects.editable_by(user)).exists()
    )


@transaction.atomic
def record_incomes(
    *,
    period: dt.date,
    amounts: dict[int, int],
    expected: dict[int, int | None],
    by,
) -> SaveResult:
    """Write one month's income for several households at once.

    ``amounts`` maps household id → amount; ``expected`` maps the same ids to the amount the
    user saw when the sheet was loaded (None: no reading). If any stored value differs from
    what the user saw (and from what is being saved), nothing is written and ConflictError
    names the households: a second saver never silently overwrites the first. The caller has checked closure; the scope
    (``check_may_record``) is checked here too.
    """
    check_may_record(user=by, period=period, household_ids=list(amounts))
    current = {
        r.household_id: r
        for r in IncomeReading.objects.select_for_update().filter(period=period, household_id__in=amounts)
    }
    stored = {hid: current[hid].amount if hid in current else None for hid in amounts}
    # Someone saved since the page was opened, and something else than this save: a save
    # whose answer was lost on the way (weak signal) and is sent again is no conflict.
    conflicts = [hid for hid in amounts if stored[hid] != expected.get(hid) and stored[hid] != amounts[hid]]
    if conflicts:
        raise ConflictError(conflicts)
    now = timezone.now()
    new, changed, unchanged = [], [], 0
    for household_id, amount in amounts.items():
        reading = current.get(household_id)
        if reading is None:
            new.append(IncomeReading(household_id=household_id, period=period, amount=amount, recorded_by=by))
        elif reading.amount != amount:
            reading.amount, reading.recorded_by, reading.recorded_at = amount, by, now
            changed.append(reading)
        else:
            unchanged += 1
    try:
        with transaction.atomic():
            if new:
                bulk_create_with_history(new, IncomeReading, default_user=by, default_date=now)
            if changed:
                bulk_update_with_history(
                    changed, IncomeReading, ["amount", "recorded_by", "recorded_at"], default_user=by, default_date=now
                )
    except IntegrityError as e:  # another saver inserted the same month in between
        raise ConflictError([r.household_id for r in new]) from e
    figures.refresh([r.household_id for r in new + changed])
    return SaveResult(created=len(new), updated=len(changed), unchanged=unchanged)


NIK_MISSES_ALLOWED = 5  # wrong NIKs for known KK numbers, per user and hour
NIK_MISS_SECONDS = 60 * 60


def _check_family_card(user, household: Household, head_nik: str | None) -> None:
    """The head's NIK typed must be the one on record. Wrong guesses are counted per user: a
    NIK is a region, a birth date and a short serial, so unlimited guessing would find it.
    (Django's default cache is per process: with N workers, up to N × the allowance.)"""
    key = f"uppka:nik-misses:{user.pk}"
    if cache.get(key, 0) >= NIK_MISSES_ALLOWED:
        raise ValidationError({"head_nik": _(
            "Too many wrong NIKs for family cards on record. Try again in an hour, or ask DPPKB.")})
    if head_nik != household.head_nik:
        if not cache.add(key, 1, NIK_MISS_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired in between
                cache.add(key, 1, NIK_MISS_SECONDS)
        raise ValidationError({"head_nik": _(
            "This KK number is registered with another head's NIK. Check both numbers against the "
            "family card; if the card has changed, ask DPPKB to correct it."
        )})


def earliest_shared_join() -> dt.date:
    """The earliest join date anyone but DPPKB may give a family that is, or was, also in
    groups outside theirs: the first day of the reporting month. An earlier join would open
    the months another group recorded to this group's entry sheet."""
    return month_before(this_month())


def too_early_to_join(earliest: dt.date) -> str:
    """What a user is told when a join date is before ``earliest_shared_join``."""
    return _(
        "This family is also in other groups, so it can join from %(day)s at the earliest. "
        "For an earlier date, ask DPPKB."
    ) % {"day": date_format(earliest, "j F Y")}


def earliest_join_for(user, household: Household | None) -> dt.date | None:
    """The earliest date from which ``user`` may register an existing family into a group of
    theirs (None: any date). See ``register_household``; the import applies the same rule."""
    if household is None or user.sees_whole_city:
        return None
    outside = household.memberships.exclude(group__in=Group.objects.editable_by(user)).exists()
    return earliest_shared_join() if outside else None


@dataclass(frozen=True)
class Registration:
    household: Household
    membership: Membership
    created_household: bool
    baseline: IncomeReading | None


@transaction.atomic
def register_household(
    *,
    group: Group,
    joined_on: dt.date,
    baseline_amount: int | None,
    by,
    household: Household | None = None,
    details: dict | None = None,
    head_nik: str | None = None,
    kb_reason: str = "",
) -> Registration:
    """Add a family to a group, creating the household when it is new, and record its
    income in the month before joining (its baseline) unless that month already has one.

    Pass an existing ``household`` (found by KK number) or the ``details`` of a new one.
    A family already registered outside the user's groups is added only with proof that
    the user holds its family card: ``head_nik`` must be the head's NIK on record. Its
    recorded details are kept as they are. ``kb_reason`` is why a new family uses no
    method (its first status's reason).

    A family that is, or was, in groups outside the user's has a past that other groups
    recorded: a cadre may date its joining from the reporting month (last month) on, never
    earlier, since joining opens the months from then on to the cadre's entry sheet. DPPKB
    may date it any time.
    """
    created = household is None
    if not created and not Household.objects.visible_to(by).filter(pk=household.pk).exists():
        _check_family_card(by, household, head_nik)
    earliest = earliest_join_for(by, household)
    if earliest and joined_on < earliest:
        raise ValidationError({"joined_on": too_early_to_join(earliest)})
    check_open_from(user=by, day=joined_on, field="joined_on")
    if created:
        household = Household(**details)
        household.full_clean()
        household.save()
    if Membership.objects.filter(household=household, group=group).exists():
        raise ValidationError(_("This household is already a member of this group."))
    membership = Membership(household=household, group=group, joined_on=joined_on)
    membership.full_clean()
    membership.recorded_by = by  # a new family's first KB status is recorded by the registering user
    membership.first_kb_reason = kb_reason if created else ""
    membership.save()
    baseline_period = month_before(joined_on)
    baseline = None
    if not IncomeReading.objects.filter(household=household, period=baseline_period).exists():
        if baseline_amount is None:
            raise ValidationError(_("Enter the income in the month before joining."))
        baseline = IncomeReading(household=household, period=baseline_period, amount=baseline_amount, recorded_by=by)
        baseline.save()
    return Registration(household, membership, created, baseline)


@transaction.atomic
def record_leaving(*, membership: Membership, left_on: dt.date, by) -> Membership:
    """Record that a household left a group on a date (history keeps who and when)."""
    if left_on < membership.joined_on:
        raise ValidationError(_("A household cannot leave before it joined."))
    not_in_future(left_on)
    check_open_from(user=by, day=left_on, field="left_on")
    membership.left_on = left_on
    membership.save(update_fields=["left_on"])
    return membership


@transaction.atomic
def set_household_active(*, household: Household, active: bool, by) -> Household:
    """Deactivate (never delete) a household, or activate it again.

    Deactivating also ends its open memberships today, so it leaves the entry sheets and
    the active-member counts while its history stays in the before/after figures.
    Activating does not restore memberships: the family is registered into a group again.
    A household that also belongs to groups outside the user's is DPPKB's to deactivate.
    """
    if not active and not may_deactivate(user=by, household=household):
        raise ValidationError(_(
            "This family also belongs to groups that are not yours, so only DPPKB can deactivate it. "
            "To take it out of your group, record its leaving."
        ))
    household.is_active = active
    household.save(update_fields=["is_active"])
    if not active:
        today = timezone.localdate()
        for membership in household.memberships.filter(left_on__isnull=True):
            membership.left_on = max(today, membership.joined_on)
            membership.save(update_fields=["left_on"])
    return household


def close_month(*, period: dt.date, by) -> ClosedMonth:
    if period >= this_month():
        raise ValidationError(_("Only a month that has ended can be closed."))
    closure, _created = ClosedMonth.objects.get_or_create(period=period, defaults={"closed_by": by})
    return closure


def reopen_month(*, period: dt.date, by) -> None:
    for closure in ClosedMonth.objects.filter(period=period):
        closure._history_user = by  # the history's deletion record names who reopened it
        closure.delete()
