"""Display helpers: Rupiah as ``Rp 1.250.000`` and percentages with one decimal."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


def round_half_up(value) -> int:
    """Round to whole Rupiah, half away from zero (−0.5 → −1), as SPEC section 4 asks."""
    d = Decimal(str(value))
    return int(d.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_rupiah(value) -> str:
    """``1250000`` → ``Rp 1.250.000``; ``-50000`` → ``-Rp 50.000``; None → empty."""
    if value is None or value == "":
        return ""
    amount = round_half_up(value)
    digits = format_number(abs(amount))
    return f"-Rp {digits}" if amount < 0 else f"Rp {digits}"


def format_number(value) -> str:
    """``10000`` → ``10.000`` (Indonesian thousands separator)."""
    if value is None or value == "":
        return ""
    return f"{round_half_up(value):,}".replace(",", ".")


def format_percent(value) -> str:
    """``94.64`` → ``94,6%`` (Indonesian decimal comma); None → empty."""
    if value is None or value == "":
        return ""
    d = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{d}".replace(".", ",") + "%"


register.filter("rupiah", format_rupiah)
register.filter("percent", format_percent)
register.filter("number", format_number)
