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
    raise _why_not_a_number(compact)


# Letters that people (or a phone's autocorrect) put where a digit belongs.
_LOOKALIKES = {"o": "0", "l": "1", "i": "1"}


def _why_not_a_number(compact: str) -> ValidationError:
    """Say what is wrong with an amount that is not a number, as precisely as we can."""
    if not compact:
        return _invalid()
    without_unit = re.sub(r"(jt|juta|rb|ribu|k)$", "", compact)
    if without_unit != compact and not re.search(r"[^0-9.,]", without_unit):
        return _invalid()  # a unit after a number that is not one: the general example helps most
    letters = set(re.sub(r"[0-9.,]", "", without_unit))
    if letters and letters <= _LOOKALIKES.keys() and re.search(r"[0-9]", compact):
        digits = "".join(_LOOKALIKES.get(c, c) for c in without_unit) + compact[len(without_unit):]
        try:
            _read_number(digits)
        except ValidationError:
            pass
        else:
            if "o" in letters:
                return ValidationError(
                    _("There is a letter O where a zero belongs; type the digit 0 instead."), code="invalid"
                )
            return ValidationError(
                _("There is a letter l or I where a one belongs; type the digit 1 instead."), code="invalid"
            )
    if letters:
        return ValidationError(
            _("Only digits belong in an amount (with dots between thousands), for example 1.250.000."),
            code="invalid",
        )
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)+", compact):
        return ValidationError(
            _("A dot separates thousands, so three digits follow each dot, for example 1.250.000."),
            code="invalid",
        )
    return _invalid()


def parse_period(text) -> dt.date:
    """``2021-02`` (or a date) → the first day of that month; ValidationError otherwise."""
    if isinstance(text, dt.date) and text.year >= 1900:  # a datetime is a date too
        return dt.date(text.year, text.month, 1)
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(text or ""))
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise ValidationError(_("Write the month as YYYY-MM, for example 2021-02."), code="period")
    return dt.date(int(match[1]), int(match[2]), 1)
