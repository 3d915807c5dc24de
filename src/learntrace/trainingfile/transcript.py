"""The transcript PDF of a training file, in Chinese or English, showing the seal it is anchored to.

reportlab reads a Paragraph's text as markup: links, images it would load from a path or a
URL, fonts. Every text, data and translation alike, goes through `text()`, so a name is only
ever a name: nothing in it can add a link, load a file or break the document."""

import io
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from learntrace.core.languages import local_name
from learntrace.core.numbers import hours_text

# A CID font is named, not embedded: every PDF reader with Asian fonts shows it, and no
# font file has to ship with learntrace. It has Latin letters too, so a transcript in either
# language uses it: Chinese names, departments and courses show in the English one as well.
CHINESE_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))

KIND_LABELS = {"video": "Video", "document": "Documents", "offline": "Offline meetings", "live": "Live meetings"}


def _hours(seconds: int) -> str:
    return hours_text(seconds)


def text(value) -> str:
    """Any value as literal Paragraph text."""
    return escape(str(value))


def lines(values) -> str:
    """Literal texts, one a line."""
    return "<br/>".join(text(value) for value in values)


def transcript_pdf(file, *, language: str) -> bytes:
    with translation.override(language):
        return _build(file, CHINESE_FONT)


def _build(file, font: str) -> bytes:
    employee = file.employee
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    story = [
        Paragraph(text(_("Training transcript")), title),
        Paragraph(text(f"{employee.name} | {employee.employee_no} | {employee.department.name} | "
                       f"{employee.position or ''}"), body),
        Paragraph(text(_("Issued %(when)s by learntrace.")
                       % {"when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}), body),
    ]

    def table(rows, widths):
        grid = Table(rows, colWidths=widths, repeatRows=1)
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), font, 8.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f5")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c9d3dc")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return grid

    story.append(Paragraph(text(_("Hours and credits by year")), heading))
    rows = [[_("year"), _("hours"), _("by kind"), _("credits by class and category")]]
    for year, kinds, total, credits in file.years:
        rows.append([
            str(year), _hours(total),
            Paragraph(lines(f"{_(KIND_LABELS.get(k, k))}: {_hours(s)}" for k, s in sorted(kinds.items())), body),
            Paragraph(lines(f"{local_name(c['credit_class__name'] or '', c['credit_class__name_en'] or '') or '-'} | "
                            f"{local_name(c['category__name'], c['category__name_en'])}: {c['total']:.2f}"
                            for c in credits) or "-", body),
        ])
    story.append(table(rows, [18 * mm, 18 * mm, 55 * mm, 80 * mm]) if len(rows) > 1 else Paragraph("—", body))

    story.append(Paragraph(text(_("Completed courses")), heading))
    rows = [[_("date"), _("course"), _("category"), _("credits"), _("source")]]
    for completion in file.completions:
        if completion.voided_by:
            continue  # the transcript certifies what counts
        rows.append([timezone.localtime(completion.completed_at).strftime("%Y-%m-%d"),
                     Paragraph(text(completion.course.title), body), str(completion.category),
                     f"{completion.credits:.2f} {completion.credit_class or ''}".strip(),
                     completion.get_source_display()])
    story.append(table(rows, [22 * mm, 70 * mm, 25 * mm, 30 * mm, 24 * mm]) if len(rows) > 1
                 else Paragraph("—", body))

    story.append(Paragraph(text(_("Meetings attended")), heading))
    rows = [[_("date"), _("meeting"), _("status"), _("hours")]]
    for attendance in file.meetings:
        rows.append([timezone.localtime(attendance.meeting.starts_at).strftime("%Y-%m-%d %H:%M"),
                     Paragraph(text(attendance.meeting.title), body), attendance.get_status_display(),
                     _hours(attendance.credited_seconds)])
    story.append(table(rows, [30 * mm, 90 * mm, 25 * mm, 20 * mm]) if len(rows) > 1 else Paragraph("—", body))

    story += [Spacer(1, 6 * mm), Paragraph(text(_("Evidence")), heading)]
    if file.seal is not None:
        story.append(Paragraph(text(_("These records are sealed up to seal %(number)s, hash %(hash)s, signed with "
                                      "the key %(key)s. An auditor can verify them with learntrace's public key.")
                                    % {"number": file.seal.number, "hash": file.seal.seal_hash,
                                       "key": file.seal.key_id[:16]}), body))
    else:
        story.append(Paragraph(text(_("No record of this person has been sealed yet.")), body))
    if file.unsealed:
        story.append(Paragraph(text(_("%(count)d newer records will be sealed shortly.") % {"count": file.unsealed}),
                               body))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=_("Training transcript"), author="learntrace").build(story)
    return buffer.getvalue()
