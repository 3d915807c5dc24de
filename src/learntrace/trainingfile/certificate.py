"""The credit certificate (学分证明) of one person for one year, in Chinese or English: every
credit that counts (voided ones left out) with its project number, hours and certificate number,
and the totals per credit class, for the person to upload where a platform has no import.

Like the transcript, every text goes through `transcript.text()`, and the Chinese font is the
named CID font, so nothing has to be embedded."""

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from learntrace.core.months import local_zone, year_bounds
from learntrace.org.models import Employee, employers, inherited_employer
from learntrace.records import effective
from learntrace.trainingfile.transcript import CHINESE_FONT, text


def credits_of_year(employee: Employee, year: int):
    start, end = year_bounds(year)
    return list(effective.completions().filter(employee=employee, completed_at__gte=start, completed_at__lt=end,
                                               credits__gt=0)
                .select_related("course", "credit_class").order_by("completed_at", "pk"))


def certificate_pdf(employee: Employee, year: int, *, language: str, now: dt.datetime | None = None) -> bytes:
    with translation.override(language):
        return _build(employee, year, CHINESE_FONT if language.startswith("zh") else "Helvetica",
                      now or timezone.now())


def _build(employee: Employee, year: int, font: str, now: dt.datetime) -> bytes:
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11)
    credits = credits_of_year(employee, year)
    employer = inherited_employer(employee.department, employers())
    story = [
        Paragraph(text(_("Continuing-education credit certificate %(year)d") % {"year": year}), title),
        Paragraph(text(f"{_('name')}: {employee.name}    {_('employee number')}: {employee.employee_no}"), body),
        Paragraph(text(f"{_('employer')}: {employer or '-'}    {_('department')}: {employee.department.name}"),
                  body),
        Paragraph(text(f"{_('national ID number')}: {employee.national_id_masked or '-'}"), body),
        Spacer(1, 4 * mm),
    ]
    rows = [[_("date"), _("course"), _("CME project number"), _("credit class"), _("credits"), _("hours"),
             _("certificate number")]]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for completion in credits:
        label = str(completion.credit_class) if completion.credit_class_id else "-"
        totals[label] += completion.credits
        hours = completion.course.credit_hours
        rows.append([timezone.localtime(completion.completed_at, local_zone()).strftime("%Y-%m-%d"),
                     Paragraph(text(completion.course.title), cell), Paragraph(text(completion.course.project_number
                                                                                    or "-"), cell),
                     Paragraph(text(label), cell), f"{completion.credits:.2f}", f"{hours:.1f}" if hours else "-",
                     completion.certificate_number])
    if len(rows) > 1:
        grid = Table(rows, colWidths=[20 * mm, 48 * mm, 28 * mm, 22 * mm, 14 * mm, 12 * mm, 30 * mm], repeatRows=1)
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), font, 8.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c9d3dc")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(grid)
    else:
        story.append(Paragraph(text(_("No credits in %(year)d.") % {"year": year}), body))
    story.append(Spacer(1, 4 * mm))
    total = sum(totals.values(), Decimal("0"))
    by_class = "; ".join(f"{label} {value:.2f}" for label, value in sorted(totals.items()))
    story.append(Paragraph(text(_("Total: %(total)s credits (%(by_class)s).")
                                % {"total": f"{total:.2f}", "by_class": by_class or "-"}), body))
    story.append(Paragraph(text(_("Issued %(when)s by learntrace from its sealed training records; each "
                                  "certificate number can be checked against the training file.")
                                % {"when": timezone.localtime(now, local_zone()).strftime("%Y-%m-%d %H:%M")}), body))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=18 * mm,
                      bottomMargin=16 * mm, title=_("Continuing-education credit certificate %(year)d")
                      % {"year": year}, author="learntrace").build(story)
    return buffer.getvalue()
