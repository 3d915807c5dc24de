"""The hospital's continuing education: this year judged by the national rules of 2024, last year by
the older class I / class II scheme, and a nurse's conference credits declared with a photo of the
certificate and approved by her department head and then the education office."""

import datetime as dt
import io
from decimal import Decimal

import segno
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from learntrace.catalog.models import Category, CreditClass
from learntrace.core.months import local_date
from learntrace.creditrules.presets import create_from_preset
from learntrace.declarations import services as declarations
from learntrace.org.models import Employee
from learntrace.records.models import OutsideCredit


def _certificate_photo() -> SimpleUploadedFile:
    """The certificate's verification code, as a phone photo of it would show it (a PNG)."""
    buffer = io.BytesIO()
    segno.make("https://cme.example.org/verify/2026-HL-0312", error="m").save(buffer, kind="png", scale=8, border=4)
    return SimpleUploadedFile("IMG_2031.png", buffer.getvalue(), content_type="image/png")


def load_continuing_education(now: dt.datetime) -> None:
    year = local_date(now).year
    create_from_preset(actor=None, code="classes_i_ii", from_year=year - 1)
    create_from_preset(actor=None, code="national_2024", from_year=year)
    nurse = next(person for person in Employee.objects.filter(department__code__startswith="HOSP-", position="主管护师")
                 .select_related("department", "user").order_by("employee_no")
                 if declarations.heads_of(person))
    head = declarations.heads_of(nurse)[0]
    office = get_user_model().objects.get(username="hr")
    ended = local_date(now) - dt.timedelta(days=20)
    declaration = declarations.declare(employee=nurse, certificate=_certificate_photo(), now=now - dt.timedelta(days=18),
                                       data={"kind": OutsideCredit.Kind.CONFERENCE, "title": "全国护理学术年会",
                                             "organiser": "中华护理学会", "project_number": f"{year}-04-06-0312(国)",
                                             "started_on": ended - dt.timedelta(days=2), "ended_on": ended,
                                             "credits": Decimal("6"), "hours": Decimal("18"),
                                             "credit_class": CreditClass.objects.get(code="cme-1"),
                                             "category": Category.objects.get(code="clinical")})
    declarations.approve(user=head.user, declaration=declaration, now=now - dt.timedelta(days=16))
    declarations.approve(user=office, declaration=declaration, now=now - dt.timedelta(days=15))
