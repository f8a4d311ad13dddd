"""Checks for Indonesian identity numbers: the family card (KK) and the NIK.

A NIK is ``PPKKCC DDMMYY SSSS``: province, regency, district, birth date (women add 40 to
the day) and a serial. Structure errors block; a regency code that is unknown or outside
Palopo only warns, since people move.
"""

import calendar
import csv
import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PALOPO_REGENCY = "7373"
SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")
REGENCY_CSV = Path(__file__).parent / "data" / "kabupaten_kota.csv"


@cache
def regency_names() -> dict[str, str]:
    """Regency code without the dot (``"7373"``) → name, from the Kemendagri list."""
    with REGENCY_CSV.open(encoding="utf-8") as f:
        return {row["kode_kabupaten_kota"].replace(".", ""): row["nama_kabupaten_kota"] for row in csv.DictReader(f)}


def normalize_number(value) -> str:
    """Strip the spaces, dots and dashes people type inside long numbers."""
    return re.sub(r"[\s.\-]", "", str(value or ""))


def validate_kk(value: str) -> None:
    if not SIXTEEN_DIGITS.match(value or ""):
        raise ValidationError(
            _("A KK number is exactly 16 digits (got %(count)s characters).") % {"count": len(value or "")},
            code="kk_format",
        )


def validate_nik(value: str) -> None:
    """Raise ValidationError when the NIK cannot be real."""
    if not SIXTEEN_DIGITS.match(value or ""):
        raise ValidationError(
            _("A NIK is exactly 16 digits (got %(count)s characters).") % {"count": len(value or "")},
            code="nik_format",
        )
    day, month = int(value[6:8]), int(value[8:10])
    if day > 40:
        day -= 40
    if not 1 <= month <= 12:
        raise ValidationError(_("Digits 9–10 of a NIK are the birth month, 01–12."), code="nik_month")
    # Leap years cannot be told from two digits, so 29 February is always allowed.
    last_day = 29 if month == 2 else calendar.monthrange(2001, month)[1]
    if not 1 <= day <= last_day:
        raise ValidationError(
            _("Digits 7–8 of a NIK are the birth day (01–31, or 41–71 for women) and must exist in the month."),
            code="nik_day",
        )
    if value[12:] == "0000":
        raise ValidationError(_("The last four digits of a NIK (the serial) cannot be 0000."), code="nik_serial")


def nik_warnings(value: str) -> list[str]:
    """Non-blocking remarks on a structurally valid NIK."""
    regency = value[:4]
    names = regency_names()
    if regency not in names:
        return [_("The first four digits %(code)s are not a known regency code.") % {"code": regency}]
    if regency != PALOPO_REGENCY:
        return [
            _("This NIK was first issued outside Palopo (%(name)s).") % {"name": names[regency]}
        ]
    return []


def mask_nik(value: str) -> str:
    """Show only the last four digits, as the personal-data law asks for anyone but DPPKB."""
    if not value:
        return ""
    return "•" * (len(value) - 4) + value[-4:]
