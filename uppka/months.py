"""Calendar months, the one place for the rules about them. No ORM: the pure figures in
``reports/compute.py`` use these too.

A month is a ``datetime.date`` on its first day. "Today" is Palopo's (``Asia/Makassar``).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_before(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_after(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def end_of_month(month: dt.date) -> dt.date:
    """The month's last day: what "as of a month" and "active in a month" are measured on."""
    return month_after(month) - dt.timedelta(days=1)


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def last_day_seen(month: dt.date) -> dt.date:
    """The day a month's standing is read on: its last day, or today for the current month."""
    return min(timezone.localdate(), end_of_month(month))


def months_back(month: dt.date, count: int) -> list[dt.date]:
    """``count`` months ending with ``month``, newest first."""
    months = [month.replace(day=1)]
    while len(months) < count:
        months.append(month_before(months[-1]))
    return months


def not_in_future(value: dt.date, *, message: str | None = None) -> dt.date:
    """A day up to today; ValidationError otherwise."""
    if value > timezone.localdate():
        raise ValidationError(message or _("The date cannot be in the future."))
    return value


def month_not_in_future(month: dt.date, *, message: str | None = None) -> dt.date:
    if month > this_month():
        raise ValidationError(message or _("The month cannot be in the future."))
    return month
