"""Credits earned elsewhere: declared with a certificate, approved by the head and then the
education office, returned and corrected; refusals; the fact they become and where it counts."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from learntrace.core.models import AuditEntry
from learntrace.creditrules.selectors import judge_year
from learntrace.declarations import services
from learntrace.declarations.models import Declaration, DeclarationStep
from learntrace.evidence.services import seal_of, seal_pending, verify
from learntrace.notify.models import Notification
from learntrace.org.models import Role, RoleGrant
from learntrace.records.models import OutsideCredit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"


def upload(content=PNG, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def data(catalog, **overrides):
    fields = {"kind": OutsideCredit.Kind.CONFERENCE, "title": "Provincial cardiology congress", "organiser": "",
              "project_number": "2026-03-01-001", "started_on": dt.date(2026, 5, 10), "ended_on": dt.date(2026, 5, 12),
              "credits": Decimal("6"), "hours": Decimal("18"), "credit_class": catalog.cme1,
              "category": catalog.clinical}
    return fields | overrides


def test_a_declaration_is_approved_by_the_head_then_the_office_and_becomes_a_sealed_fact(org, catalog):
    declaration = services.declare(employee=org.learner, data=data(catalog), certificate=upload())
    assert declaration.status == Declaration.Status.AWAITING_HEAD and declaration.fact is None
    assert declaration.certificate_type == "image/png"
    assert declaration.certificate_sha256 == hashlib.sha256(PNG).hexdigest()
    assert declaration.certificate.name.startswith("declarations/") and declaration.certificate.name.endswith(".png")
    assert "photo" not in declaration.certificate.name
    assert list(Notification.objects.values_list("employee_id", "subject")) == [(org.head.pk, "待审核学分")]

    services.approve(user=org.head.user, declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.AWAITING_OFFICE and declaration.head_approved_by == org.head.user
    assert OutsideCredit.objects.count() == 0
    assert Notification.objects.filter(employee=org.admin, subject="待审核学分").count() == 1

    services.approve(user=org.admin.user, declaration=declaration)
    declaration.refresh_from_db()
    fact = declaration.fact
    assert declaration.status == Declaration.Status.APPROVED
    assert (fact.employee, fact.credits, fact.seconds, fact.credit_class, fact.category, fact.declaration_id) == (
        org.learner, Decimal("6.00"), 18 * 3600, catalog.cme1, catalog.clinical, declaration.pk)
    assert fact.certificate_sha256 == declaration.certificate_sha256
    assert fact.started_on == dt.date(2026, 5, 10) and fact.ended_on == dt.date(2026, 5, 12)
    assert list(declaration.steps.values_list("kind", flat=True)) == [
        DeclarationStep.Kind.SUBMITTED, DeclarationStep.Kind.HEAD_APPROVED, DeclarationStep.Kind.APPROVED]
    assert AuditEntry.objects.filter(object_type="declaration", action="approve").count() == 2
    assert Notification.objects.filter(employee=org.learner, subject="学分已审核通过").count() == 1
    seal_pending(via="test")
    assert seal_of(7, fact.pk) is not None and verify().ok


def test_the_step_is_refused_to_the_wrong_people_and_to_a_second_approval(org, catalog):
    declaration = services.declare(employee=org.learner, data=data(catalog), certificate=upload())
    outside_head = RoleGrant.objects.create(user=org.outsider.user, role=Role.DEPARTMENT_HEAD, department=org.b)
    assert outside_head.pk
    for user in (org.learner.user, org.outsider.user, org.auditor.user, org.admin.user):
        # The declarant, a head of another department, an auditor, and the office before the head.
        with pytest.raises(PermissionDenied):
            services.approve(user=user, declaration=declaration)
    services.approve(user=org.head.user, declaration=declaration)
    with pytest.raises(PermissionDenied):
        services.approve(user=org.head.user, declaration=declaration)  # the office's step, not the head's
    services.approve(user=org.admin.user, declaration=declaration)
    with pytest.raises(ValidationError, match="already been decided"):
        services.approve(user=org.admin.user, declaration=declaration)
    with pytest.raises(ValidationError, match="already been decided"):
        services.return_for_changes(user=org.admin.user, declaration=declaration, reason="late")
    assert OutsideCredit.objects.count() == 1


def test_a_head_declaring_goes_to_their_own_head_or_straight_to_the_office(org, catalog):
    declaration = services.declare(employee=org.head, data=data(catalog), certificate=upload())
    assert declaration.status == Declaration.Status.AWAITING_OFFICE  # no head above the head of medicine
    with pytest.raises(PermissionDenied):
        services.approve(user=org.head.user, declaration=declaration)


def test_a_returned_declaration_is_corrected_and_submitted_again(org, catalog):
    declaration = services.declare(employee=org.learner, data=data(catalog), certificate=upload())
    with pytest.raises(ValidationError, match="Say why"):
        services.return_for_changes(user=org.head.user, declaration=declaration, reason="  ")
    services.return_for_changes(user=org.head.user, declaration=declaration, reason="The certificate is cut off.")
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.RETURNED
    assert declaration.return_reason == "The certificate is cut off."
    assert Notification.objects.filter(employee=org.learner, subject="学分申报被退回修改").count() == 1
    with pytest.raises(PermissionDenied):
        services.resubmit(user=org.head.user, declaration=declaration, data=data(catalog))
    services.resubmit(user=org.learner.user, declaration=declaration, data=data(catalog, credits=Decimal("5")),
                      certificate=upload(PDF, "scan.pdf", "application/pdf"))
    declaration.refresh_from_db()
    assert (declaration.status, declaration.credits, declaration.certificate_type) == (
        Declaration.Status.AWAITING_HEAD, Decimal("5.00"), "application/pdf")
    with pytest.raises(ValidationError, match="Only a declaration returned"):
        services.resubmit(user=org.learner.user, declaration=declaration, data=data(catalog))


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"MZ\x90\x00 not a picture", "JPEG or PNG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "JPEG or PNG"),
    (b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "larger than 10 MB"),
])
def test_bad_certificates_are_refused_and_nothing_is_written(org, catalog, content, message):
    with pytest.raises(ValidationError, match=message):
        services.declare(employee=org.learner, data=data(catalog), certificate=upload(content, "certificate.png"))
    assert not Declaration.objects.exists() and not Notification.objects.exists()


def test_dates_the_wrong_way_round_are_refused(org, catalog):
    with pytest.raises(ValidationError, match="end date is before"):
        services.declare(employee=org.learner, data=data(catalog, ended_on=dt.date(2026, 5, 1)),
                         certificate=upload())
    assert not Declaration.objects.exists()


def test_the_office_enters_a_meetings_attendees_at_once_or_not_at_all(org, catalog):
    with pytest.raises(ValidationError, match="E404"):
        services.parse_people("E001, E404\nE002")
    with pytest.raises(PermissionDenied):
        services.enter_for_attendees(user=org.head.user, people=[org.learner], data=data(catalog),
                                     certificate=upload())
    people = services.parse_people("E001，E002\nE001")
    assert people == [org.learner, org.outsider]
    entered = services.enter_for_attendees(user=org.admin.user, people=people, data=data(catalog),
                                           certificate=upload())
    assert [d.status for d in entered] == [Declaration.Status.APPROVED] * 2
    assert {d.certificate.name for d in entered} == {entered[0].certificate.name}
    assert sorted(OutsideCredit.objects.values_list("employee_id", "credits")) == sorted(
        [(org.learner.pk, Decimal("6.00")), (org.outsider.pk, Decimal("6.00"))])


def test_approved_credits_count_in_the_year_they_ended(org, catalog):
    from learntrace.creditrules.presets import create_from_preset

    create_from_preset(actor=None, code="national_2024", from_year=2026)
    declaration = services.declare(employee=org.learner, certificate=upload(), data=data(
        catalog, started_on=dt.date(2026, 12, 30), ended_on=dt.date(2027, 1, 1)))
    services.approve(user=org.head.user, declaration=declaration)
    services.approve(user=org.admin.user, declaration=declaration)
    assert judge_year([org.learner.pk], 2026)[org.learner.pk].counted == 0
    year_2027 = judge_year([org.learner.pk], 2027)[org.learner.pk]
    assert year_2027.counted == Decimal("6.00") and year_2027.seconds == 18 * 3600
