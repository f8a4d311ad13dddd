"""The monthly group register (SPEC section 8): each household's family-planning method over
time. ``Household.kb_method`` is the method in force now; the statuses are its history.

One rule keeps the two together, whatever wrote the household (a form, the admin, an
import, seed_demo): ``follow_methods`` gives every household a first status (from the month
of its earliest join) and records a status for this month when its method changed."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from households import figures
from households.models import Household, KbMethod, KbReason, KbStatus, Meeting, MonthlyReport
from uppka.months import month_after, this_month

CHUNK = 5000


def method_in_force(statuses, period: dt.date) -> str | None:
    """The method in force in ``period`` among ``(period, method)`` pairs: the latest from that
    month or before; None when the household had no status yet (it then counts in no KB
    column of SPEC section 8). The readable rule the database queries are held to."""
    earlier = [(since, method) for since, method in statuses if since <= period]
    return max(earlier)[1] if earlier else None


def _month_sql(expression: str, using=connection) -> str:
    if using.vendor == "sqlite":
        return f"date({expression}, 'start of month')"
    return f"CAST(date_trunc('month', {expression}) AS date)"


@transaction.atomic
def follow_methods(household_ids=None, *, by=None, reasons=None) -> None:
    """Bring the statuses of these households (all when None) in line with their method:
    a first status where there is none, and this month's status where the method in force
    differs from ``Household.kb_method``. ``reasons`` (household id → reason) gives a new
    first status of TIDAK its reason."""
    if household_ids is not None:
        ids = sorted(set(household_ids))
        for start in range(0, len(ids), CHUNK):
            _follow(ids[start:start + CHUNK], by, reasons)
    else:
        _follow(None, by, reasons)


def insert_first_statuses(ids=None, by=None, *, reasons=None, using=connection) -> None:
    """A first status for each household without one (all when ``ids`` is None): its method,
    from the month of its earliest join (or of its registration). TIDAK gets its reason from
    ``reasons`` (household id → reason), else LAINNYA: nobody asked why. Also the data
    migration that introduced the statuses."""
    only = "" if ids is None else f"AND h.id IN ({', '.join(['%s'] * len(ids))})"
    params = [] if ids is None else list(ids)
    first_join = "(SELECT MIN(m.joined_on) FROM households_membership m WHERE m.household_id = h.id)"
    since = _month_sql(f"COALESCE({first_join}, {_month_sql('h.created_at', using)})", using)
    reason = f"CASE WHEN h.kb_method = '{KbMethod.TIDAK}' THEN '{KbReason.LAINNYA}' ELSE '' END"
    user = getattr(by, "pk", None)
    # One moment stamps the new rows, so that their history ("added") can be written from them.
    stamp = using.ops.adapt_datetimefield_value(timezone.now())
    columns = "id, household_id, period, method, reason, recorded_at, recorded_by_id"
    with using.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO households_kbstatus (household_id, period, method, reason, recorded_at, recorded_by_id)
            SELECT h.id, {since}, h.kb_method, {reason}, %s, %s
            FROM households_household h
            WHERE NOT EXISTS (SELECT 1 FROM households_kbstatus s WHERE s.household_id = h.id) {only}
            """,
            [stamp, user, *params],
        )
        for household_id, why in (reasons or {}).items():
            if why:
                cursor.execute(
                    "UPDATE households_kbstatus SET reason = %s WHERE household_id = %s AND recorded_at = %s AND method = %s",
                    [why, household_id, stamp, KbMethod.TIDAK],
                )
        cursor.execute(
            f"""
            INSERT INTO households_historicalkbstatus
                ({columns}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {columns}, %s, NULL, '+', %s FROM households_kbstatus WHERE recorded_at = %s
            """,
            [stamp, user, stamp],
        )


def _follow(ids, by, reasons=None) -> None:
    insert_first_statuses(ids, by, reasons=reasons)
    month = this_month()
    changed = list(
        Household.objects.filter(**({} if ids is None else {"pk__in": ids}))
        .exclude(kb_method=_latest_method())
        .values_list("pk", "kb_method")
    )
    record_kb_statuses({household_id: (method, None) for household_id, method in changed}, period=month, by=by, sync=False)


def _latest_method():
    return Subquery(
        KbStatus.objects.filter(household=OuterRef("pk")).order_by("-period").values("method")[:1]
    )


def record_kb_status(*, household_id: int, period: dt.date, method: str, reason: str | None, by, sync=True) -> None:
    """Record one household's method from ``period`` on; see ``record_kb_statuses``."""
    record_kb_statuses({household_id: (method, reason)}, period=period, by=by, sync=sync)


def record_kb_statuses(changes: dict, *, period: dt.date, by, sync=True) -> None:
    """Record methods from ``period`` on: ``changes`` maps household id → (method, reason).
    One status per household and month: a second change in the same month corrects the
    first. TIDAK without a reason gets LAINNYA. With ``sync``, ``Household.kb_method``
    follows each household's latest status. A fixed number of queries for any number of
    households; the history keeps who and when."""

    if not changes:
        return
    now = timezone.now()
    existing = {s.household_id: s for s in KbStatus.objects.filter(household_id__in=changes, period=period)}
    new, changed = [], []
    for household_id, (method, reason) in changes.items():
        reason = (reason or KbReason.LAINNYA) if method == KbMethod.TIDAK else ""
        status = existing.get(household_id)
        if status is None:
            new.append(KbStatus(household_id=household_id, period=period, method=method, reason=reason,
                                recorded_by=by, recorded_at=now))
        elif (status.method, status.reason) != (method, reason):
            status.method, status.reason, status.recorded_by, status.recorded_at = method, reason, by, now
            changed.append(status)
    history = {"default_user": by, "default_date": now}
    if new:
        bulk_create_with_history(new, KbStatus, **history)
    if changed:
        bulk_update_with_history(changed, KbStatus, ["method", "reason", "recorded_by", "recorded_at"], **history)
    if sync:
        latest = dict(
            Household.objects.filter(pk__in=changes).annotate(latest=_latest_method()).values_list("pk", "latest")
        )
        households = [h for h in Household.objects.filter(pk__in=changes) if h.kb_method != latest[h.pk]]
        for household in households:
            household.kb_method = latest[household.pk]
        if households:
            bulk_update_with_history(households, Household, ["kb_method"], **history)
            figures.refresh([h.pk for h in households])  # "acceptor" is a kept figure


def _household_saved(sender, instance, created, raw=False, **kwargs):
    # A new household gets its first status with its first membership (the join month).
    if not raw and not created:
        follow_methods([instance.pk])


def _membership_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        reason = getattr(instance, "first_kb_reason", "")
        follow_methods([instance.household_id], by=getattr(instance, "recorded_by", None),
                       reasons={instance.household_id: reason} if reason else None)


def connect_signals() -> None:
    """Writes one household at a time (forms, the admin, services) keep the statuses in line
    here; bulk writers (import, seed_demo, restore) call follow_methods themselves."""
    from django.db.models.signals import post_save

    from households.models import Membership

    post_save.connect(_household_saved, sender=Household, dispatch_uid="register_household_saved")
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="register_membership_saved")


@transaction.atomic
def record_register(*, group, period: dt.date, kb_changes: dict, present: dict, household_ids, by) -> int:
    """The month's register from the entry sheet: each changed method becomes the month's
    status; ``present`` maps each shown meeting to the ticks (added, removed) on the page,
    among the sheet's households. Returns the number of method changes."""

    record_kb_statuses(kb_changes, period=period, by=by)
    meetings = {m.pk: m for m in Meeting.objects.filter(group=group, pk__in=present)}
    sheet = set(household_ids)
    for meeting_id, (added, removed) in present.items():
        meeting = meetings[meeting_id]
        if removed & sheet:
            meeting.attendees.remove(*(removed & sheet))
        if added & sheet:
            meeting.attendees.add(*(added & sheet))
    return len(kb_changes)


def submit_month(*, group, period: dt.date, by):
    """The group's report for the month (SPEC section 8): the first submission stands."""
    report, _ = MonthlyReport.objects.get_or_create(
        group=group, period=period, defaults={"submitted_by": by, "submitted_at": timezone.now()}
    )
    return report


def is_late(report) -> bool:
    """Submitted after the 3rd of the month after (in Palopo's time)."""
    return timezone.localtime(report.submitted_at).date() > month_after(report.period).replace(day=3)
