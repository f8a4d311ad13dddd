"""The monthly group register (SPEC section 8): each household's family-planning method over
time. ``Household.kb_method`` is the method in force now; the statuses are its history.

One rule keeps the two together, whatever wrote the household (a form, the admin, an
import, seed_demo): ``follow_methods`` gives every household a first status (from the month
of its earliest join) and records a status for this month when its method changed."""

import datetime as dt

from django.db import connection, transaction

from households.models import Household, KbMethod, KbReason, KbStatus
from uppka.months import this_month

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
def follow_methods(household_ids=None, *, by=None) -> None:
    """Bring the statuses of these households (all when None) in line with their method:
    a first status where there is none, and this month's status where the method in force
    differs from ``Household.kb_method``."""
    if household_ids is not None:
        ids = sorted(set(household_ids))
        for start in range(0, len(ids), CHUNK):
            _follow(ids[start:start + CHUNK], by)
    else:
        _follow(None, by)


def insert_first_statuses(ids=None, by=None, *, using=connection) -> None:
    """A first status for each household without one (all when ``ids`` is None): its method,
    from the month of its earliest join (or of its registration). TIDAK gets LAINNYA as its
    reason: nobody asked why. Also the data migration that introduced the statuses."""
    only = "" if ids is None else f"AND h.id IN ({', '.join(['%s'] * len(ids))})"
    params = [] if ids is None else list(ids)
    first_join = "(SELECT MIN(m.joined_on) FROM households_membership m WHERE m.household_id = h.id)"
    since = _month_sql(f"COALESCE({first_join}, {_month_sql('h.created_at', using)})", using)
    reason = f"CASE WHEN h.kb_method = '{KbMethod.TIDAK}' THEN '{KbReason.LAINNYA}' ELSE '' END"
    with using.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO households_kbstatus (household_id, period, method, reason, recorded_at, recorded_by_id)
            SELECT h.id, {since}, h.kb_method, {reason}, CURRENT_TIMESTAMP, %s
            FROM households_household h
            WHERE NOT EXISTS (SELECT 1 FROM households_kbstatus s WHERE s.household_id = h.id) {only}
            """,
            [getattr(by, "pk", None), *params],
        )


def _follow(ids, by) -> None:
    insert_first_statuses(ids, by)
    month = this_month()
    changed = list(
        Household.objects.filter(**({} if ids is None else {"pk__in": ids}))
        .exclude(kb_method=_latest_method())
        .values_list("pk", "kb_method")
    )
    for household_id, method in changed:
        record_kb_status(household_id=household_id, period=month, method=method, reason=None, by=by, sync=False)


def _latest_method():
    from django.db.models import OuterRef, Subquery

    return Subquery(
        KbStatus.objects.filter(household=OuterRef("pk")).order_by("-period").values("method")[:1]
    )


def record_kb_status(*, household_id: int, period: dt.date, method: str, reason: str | None, by, sync=True) -> KbStatus:
    """Record the method from ``period`` on (one status per household and month: a second
    change in the same month corrects the first). TIDAK without a reason gets LAINNYA.
    With ``sync``, ``Household.kb_method`` follows the latest status."""
    if method == KbMethod.TIDAK:
        reason = reason or KbReason.LAINNYA
    else:
        reason = ""
    status, _ = KbStatus.objects.update_or_create(
        household_id=household_id, period=period,
        defaults={"method": method, "reason": reason, "recorded_by": by},
    )
    if sync:
        latest = KbStatus.objects.filter(household_id=household_id).order_by("-period").values_list("method", flat=True)[0]
        household = Household.objects.get(pk=household_id)
        if household.kb_method != latest:
            household.kb_method = latest
            household.save(update_fields=["kb_method"])
    return status


def _household_saved(sender, instance, created, raw=False, **kwargs):
    # A new household gets its first status with its first membership (the join month).
    if not raw and not created:
        follow_methods([instance.pk])


def _membership_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        follow_methods([instance.household_id], by=getattr(instance, "recorded_by", None))


def connect_signals() -> None:
    """Writes one household at a time (forms, the admin, services) keep the statuses in line
    here; bulk writers (import, seed_demo, restore) call follow_methods themselves."""
    from django.db.models.signals import post_save

    from households.models import Membership

    post_save.connect(_household_saved, sender=Household, dispatch_uid="register_household_saved")
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="register_membership_saved")
