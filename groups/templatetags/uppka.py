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


@register.inclusion_tag("includes/error_summary.html")
def error_summary(*forms, intro=""):
    """What is wrong with a page's forms, above them, announced (role="alert") and focused
    when the page opens (static/js/uppka.js): each field's label with its message, a link to
    the field. ``intro`` replaces the opening line."""
    items = []
    for form in forms:
        if not form or not form.is_bound:
            continue
        items += [(None, None, message) for message in form.non_field_errors()]
        items += [(field.label, field.id_for_label, message) for field in form for message in field.errors]
    return {"items": items, "intro": intro}


@register.filter
def breakable(value):
    """A long code such as a decree number ("800/123/SK-UPPKA/DPPKB/XII/2024") may wrap after
    its slashes, not inside a word, on a narrow screen."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    return mark_safe(escape(value).replace("/", "/<wbr>"))
