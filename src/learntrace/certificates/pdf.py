"""The certificate as a PDF: who earned what and when, until when it is valid, and the link (also
as a QR code) where anyone can check it. Every text goes through `text()`: a name stays a name."""

import io
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from learntrace.core.months import local_zone

CHINESE_FONT = "STSong-Light"  # a CID font: named, not embedded; every reader with Asian fonts shows it
pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))


def text(value) -> str:
    return escape(str(value))


def _date(moment) -> str:
    return timezone.localtime(moment, local_zone()).strftime("%Y-%m-%d")


def certificate_pdf(certificate, *, verify_url: str, seal_line: str, language: str) -> bytes:
    with translation.override(language):
        font = CHINESE_FONT if language.startswith("zh") else "Helvetica"
        title = ParagraphStyle("title", fontName=font, fontSize=26, leading=34, alignment=1, spaceAfter=10)
        big = ParagraphStyle("big", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6)
        body = ParagraphStyle("body", fontName=font, fontSize=11, leading=16, alignment=1)
        small = ParagraphStyle("small", fontName=font, fontSize=8, leading=11, alignment=1)
        employee = certificate.employee
        validity = (_("Valid until %(date)s") % {"date": _date(certificate.expires_at)}
                    if certificate.expires_at else _("Valid without expiry"))
        qr = QrCodeWidget(verify_url)
        x1, y1, x2, y2 = qr.getBounds()
        size = 32 * mm
        drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
        drawing.add(qr)
        drawing.hAlign = "CENTER"
        story = [
            Spacer(1, 10 * mm),
            Paragraph(text(_("Certificate")), title),
            Paragraph(text(certificate.title), big),
            Paragraph(text(_("awarded to")), body),
            Paragraph(text(f"{employee.name} ({employee.employee_no})"), big),
            Paragraph(text(_("Issued %(date)s") % {"date": _date(certificate.issued_at)}), body),
            Paragraph(text(validity), body),
            Spacer(1, 6 * mm),
            drawing,
            Paragraph(text(_("Check this certificate at %(url)s") % {"url": verify_url}), small),
            Paragraph(text(_("Certificate number %(code)s") % {"code": certificate.code}), small),
            Paragraph(text(seal_line), small),
        ]
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=str(certificate.title),
                                     leftMargin=20 * mm, rightMargin=20 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
        document.build(story)
        return buffer.getvalue()
