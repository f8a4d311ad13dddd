"""Rounding and Indonesian number formats, shared by pages, exports and the metrics.

Half-up rounding means half away from zero (−0.5 → −1), as SPEC section 4 asks.
"""

import datetime as dt
import math
from fractions import Fraction

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext


def round_half_up(value) -> int | None:
    """Round to a whole number, half away from zero.

    >>> round_half_up(Fraction(5, 2)), round_half_up(-0.5), round_half_up("999.5")
    (3, -1, 1000)
    """
    if value is None or value == "":
        return None
    exact = Fraction(value) if not isinstance(value, float) else Fraction(str(value))
    rounded = math.floor(abs(exact) + Fraction(1, 2))
    return rounded if exact >= 0 else -rounded


def round_percent(value) -> float | None:
    """A percentage with one decimal, half away from zero (94.64 → 94.6, 0.05 → 0.1)."""
    if value is None or value == "":
        return None
    exact = Fraction(value) if not isinstance(value, float) else Fraction(str(value))
    return round_half_up(exact * 10) / 10


def format_number(value) -> str:
    """``10000`` → ``10.000`` (Indonesian thousands separator)."""
    rounded = round_half_up(value)
    return "" if rounded is None else f"{rounded:,}".replace(",", ".")


def format_rupiah(value) -> str:
    """``1250000`` → ``Rp 1.250.000``; ``-50000`` → ``-Rp 50.000``; None → empty."""
    rounded = round_half_up(value)
    if rounded is None:
        return ""
    digits = format_number(abs(rounded))
    return f"-Rp {digits}" if rounded < 0 else f"Rp {digits}"


def format_percent(value) -> str:
    """``94.64`` → ``94,6%`` (Indonesian decimal comma); None → empty."""
    rounded = round_percent(value)
    return "" if rounded is None else f"{rounded:.1f}".replace(".", ",") + "%"


def display_value(name: str, value) -> str:
    """A stored value as the histories show it, in the reader's language: a month by its
    name (``period``), a date or moment in words (Asia/Makassar), yes or no; else as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "j F Y H:i")
    if isinstance(value, dt.date):
        return date_format(value, "F Y" if name == "period" else "j F Y")
    return str(value)
