"""The group's monthly register as a signed A4 PDF (BKKBN's R/I/UPPKA on paper): the month's
members with their income, attendance and KB method, the totals, the meetings and the
signature blocks. WeasyPrint renders an ordinary template with a print stylesheet."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from groups.models import Group
from households.identity import mask_nik
from households.models import KbMethod, KbReason, MonthlyReport
from households.sheet import SheetRow, month_meetings, sheet_rows

STYLESHEET = "css/print.css"


@dataclass(frozen=True)
class PrintedRow:
    number: int
    row: SheetRow
    nik: str  # masked: a printed page travels
    ticks: list[bool]  # one per meeting of the month, in date order
    method: str  # the KB method in force in the month, in words (with the reason when none)


def register_context(group: Group, period: dt.date) -> dict:
    """What the printed register shows (a fixed number of queries whatever the group size)."""
    rows = sheet_rows(group, period)
    meetings = month_meetings(group, period)
    printed = [
        PrintedRow(i, row, mask_nik(row.household.head_nik), [m.pk in row.present for m in meetings], _method(row))
        for i, row in enumerate(rows, 1)
    ]
    amounts = [row.amount for row in rows if row.amount is not None]
    report = MonthlyReport.objects.filter(group=group, period=period).select_related("submitted_by").first()
    by = report and report.submitted_by
    return {
        "group": group,
        "period": period,
        "rows": printed,
        "meetings": [(m, sum(m.pk in row.present for row in rows)) for m in meetings],
        "total_income": sum(amounts),
        "with_income": len(amounts),
        "acceptors": sum(1 for row in rows if row.kb_method and row.kb_method != KbMethod.TIDAK),
        "report": report,
        "submitted_by": (by.get_full_name() or by.get_username()) if by else "",
        "cadres": [u.get_full_name() or u.get_username() for u in group.cadres.order_by("first_name", "username")],
        "printed_on": timezone.localdate(),
    }


def _method(row: SheetRow) -> str:
    if not row.kb_method:
        return "–"
    label = str(KbMethod(row.kb_method).label)
    if row.kb_method == KbMethod.TIDAK and row.kb_reason:
        label += f" ({KbReason(row.kb_reason).label})"
    return label


def register_pdf(group: Group, period: dt.date) -> bytes:
    from weasyprint import CSS, HTML  # heavy: only when a PDF is asked for

    html = render_to_string("print/register.html", register_context(group, period))
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find(STYLESHEET))])
