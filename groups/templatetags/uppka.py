"""Display filters: Rupiah as ``Rp 1.250.000``, numbers as ``10.000``, percentages as ``94,6%``,
and a share of a whole as a percentage."""

from django import template

from uppka.formats import format_number, format_percent, format_rupiah

register = template.Library()
register.filter("rupiah", format_rupiah)
register.filter("percent", format_percent)
register.filter("number", format_number)


@register.filter
def share(part, whole):
    """``part`` as a percentage of ``whole`` (for ``|percent``); None when ``whole`` is 0."""
    return part * 100 / whole if whole else None
