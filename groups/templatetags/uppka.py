"""Display filters: Rupiah as ``Rp 1.250.000``, numbers as ``10.000``, percentages as ``94,6%``."""

from django import template

from uppka.formats import format_number, format_percent, format_rupiah

register = template.Library()
register.filter("rupiah", format_rupiah)
register.filter("percent", format_percent)
register.filter("number", format_number)
