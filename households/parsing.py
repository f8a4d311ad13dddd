"""Turning what people type into whole Rupiah and calendar months."""

import datetime as dt
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from households.models import MAX_AMOUNT

MULTIPLIERS = {"jt": 1_000_000, "juta": 1_000_000, "rb": 1_000, "ribu": 1_000, "k": 1_000}
_WITH_UNIT = re.compile(r"^(?P<number>[0-9]+(?:[.,][0-9]+)?)(?P<unit>jt|juta|rb|ribu|k)$")
# Without a unit: plain digits, or thousands grouped by dots (Indonesian) or commas, each
# optionally followed by up to two decimals with the other mark ("1.250.000,00").
_PLAIN = [
    (re.compile(r"^[0-9]+$"), "", ""),
    (re.compile(r"^[0-9]+,[0-9]{1,2}$"), "", ","),
    (re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]{1,2})?$"), ".", ","),
    (re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?$"), ",", "."),
]


def _invalid() -> ValidationError:
    return ValidationError(
        _("Write the amount in Rupiah, for example 1250000, 1.250.000 or 1,25 jt."), code="invalid"
    )


def parse_amount(text) -> int:
    """Read an amount of Rupiah as people write it; raise ValidationError otherwise.

    >>> [parse_amount(t) for t in ["1250000", "1.250.000", "Rp 1.250.000", "1,25 jt", "750rb"]]
    [1250000, 1250000, 1250000, 1250000, 750000]

    Without a unit, dots (or commas) group thousands and a final ``,00`` is cents; with a
    unit (``jt``, ``juta``, ``rb``, ``ribu``, ``k``) a comma or dot is the decimal point.
    """
    if isinstance(text, bool):
        raise _invalid()
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, (float, Decimal)):
        value = Decimal(str(text))
    else:
        compact = re.sub(r"\s+", "", str(text or "").lower())
        compact = re.sub(r"^rp\.?", "", compact)
        if compact.startswith(("-", "\u2212")):
            raise ValidationError(_("Income cannot be negative."), code="negative")
        value = _read_number(compact)
    if not value.is_finite():
        raise _invalid()
    if value < 0:
        raise ValidationError(_("Income cannot be negative."), code="negative")
    if value != value.to_integral_value():
        raise ValidationError(_("Income is in whole Rupiah."), code="fraction")
    if value > MAX_AMOUNT:
        raise ValidationError(_("Income cannot be more than Rp 1.000.000.000 a month."), code="too_large")
    return int(value)


def _read_number(compact: str) -> Decimal:
    match = _WITH_UNIT.match(compact)
    if match:
        return Decimal(match["number"].replace(",", ".")) * MULTIPLIERS[match["unit"]]
    for pattern, thousands, decimal in _PLAIN:
        if pattern.match(compact):
            number = compact.replace(thousands, "") if thousands else compact
            return Decimal(number.replace(decimal, ".") if decimal else number)
    raise _invalid()


def parse_period(text) -> dt.date:
    """``2021-02`` (or a date) → the first day of that month; ValidationError otherwise."""
    if isinstance(text, dt.datetime):
        return text.date().replace(day=1)
    if isinstance(text, dt.date):
        return text.replace(day=1)
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(text or ""))
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise ValidationError(_("Write the month as YYYY-MM, for example 2021-02."), code="period")
    return dt.date(int(match[1]), int(match[2]), 1)
