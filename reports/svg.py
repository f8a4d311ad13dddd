"""Small charts as SVG markup, for printed documents (WeasyPrint draws SVG; Chart.js needs a
browser). Plain shapes and text; every chart carries a title for screen readers."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from uppka.formats import format_number

GREEN, LIGHT_GREEN, GREY = "#198754", "#9fd3b5", "#555"


def _short_rupiah(value: int) -> str:
    """An axis label: 1.500.000 → "1,5 jt"; 250.000 → "250 rb"."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}".rstrip("0").rstrip(".").replace(".", ",") + " jt"
    if value >= 1_000:
        return format_number(value // 1_000) + " rb"
    return format_number(value)


def _nice_top(value: float, steps: int) -> float:
    """The smallest round number at or above ``value`` whose ``steps`` parts are round too."""
    magnitude = 10 ** (len(str(int(max(value, 1) / steps))) - 1)
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if factor * magnitude * steps >= value:
            return factor * magnitude * steps
    return value


def bars(labels: list[str], series: list[tuple[str, list, str]], *, title: str, width=700, height=260) -> SafeString:
    """Grouped vertical bars: ``series`` is (name, values, colour); None values draw nothing."""
    values = [v for _name, vs, _colour in series for v in vs if v is not None]
    steps = 4
    top = _nice_top(max(values, default=0) or 1, steps)
    left, right, upper, lower = 70, 10, 30, 40
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / max(len(labels), 1)
    bar = slot * 0.8 / max(len(series), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             '<g font-family="DejaVu Sans" font-size="10">']
    for i in range(steps + 1):
        value = top * i / steps
        y = upper + plot_h - plot_h * i / steps
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end" fill="{GREY}">{_short_rupiah(round(value))}</text>')
    for i, label in enumerate(labels):
        x0 = left + slot * i + slot * 0.1
        for j, (_name, vs, colour) in enumerate(series):
            value = vs[i]
            if value is None:
                continue
            h = plot_h * value / top
            parts.append(f'<rect x="{x0 + bar * j:.1f}" y="{upper + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{left + slot * i + slot / 2:.1f}" y="{height - lower + 14}" text-anchor="middle">{escape(label)}</text>')
    x = left
    for name, _vs, colour in series:
        parts.append(f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{height - 7}">{escape(name)}</text>')
        x += 14 + 7 * len(name) + 20
    parts.append("</g></svg>")
    return mark_safe("".join(parts))
