"""The way of a declaration: submitted with its certificate, approved by the department head and
then the education office (or returned with a reason, corrected and submitted again), and made a
fact on the last approval. Each step is written with its audit entry and tells the next person."""

import datetime as dt
import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from learntrace.core.audit import record_change
from learntrace.core.months import start_of_day
from learntrace.declarations.access import may_decide
from learntrace.declarations.models import Declaration, DeclarationStep
from learntrace.notify.messages import absolute, language_of
from learntrace.notify.models import Notification
from learntrace.org.access import roles_of
from learntrace.org.models import Employee, Role, RoleGrant
from learntrace.records.models import OutsideCredit
from learntrace.records.signals import outside_credit_recorded

MAX_CERTIFICATE_BYTES = 10 * 1024 * 1024
# The fields a declarant fills in (and corrects when it comes back).
FIELDS = ["kind", "title", "organiser", "project_number", "started_on", "ended_on", "credits", "hours",
          "credit_class", "category"]


def certificate_type(upload) -> str:
    """The certificate's type, read from its first bytes: a JPEG or PNG image, or a PDF."""
    if upload.size == 0:
        raise ValidationError(_("The certificate file is empty."))
    if upload.size > MAX_CERTIFICATE_BYTES:
        raise ValidationError(_("The certificate file is larger than 10 MB."))
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    raise ValidationError(_("The certificate must be a photo (JPEG or PNG) or a PDF."))


def _digest(upload) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


def _attach(declaration: Declaration, upload) -> None:
    declaration.certificate_type = certificate_type(upload)
    declaration.certificate_sha256 = _digest(upload)
    declaration.certificate.save("certificate", upload, save=False)


def _check(data: dict) -> None:
    if data["ended_on"] < data["started_on"]:
        raise ValidationError(_("The end date is before the start date."))
    if data["credits"] < 0 or data["hours"] < 0:
        raise ValidationError(_("Credits and hours cannot be negative."))


def _first_status(employee: Employee) -> str:
    """A person under a department head goes to the head first; the others to the office."""
    return Declaration.Status.AWAITING_HEAD if heads_of(employee) else Declaration.Status.AWAITING_OFFICE


def heads_of(employee: Employee) -> list[Employee]:
    path = employee.department.path
    grants = RoleGrant.objects.filter(role=Role.DEPARTMENT_HEAD, department__is_active=True,
                                      user__employee__is_active=True).select_related("department", "user__employee")
    return [grant.user.employee for grant in grants
            if path.startswith(grant.department.path) and grant.user.employee.pk != employee.pk]


def _office() -> list[Employee]:
    return list(Employee.objects.filter(is_active=True, user__role_grants__role=Role.TRAINING_ADMIN).distinct())


def _tell(people, declaration: Declaration, subject, text) -> None:
    """An in-app notification to each person, in their language (`subject`, `text`: untranslated)."""
    link = absolute(reverse("declarations:detail", args=[declaration.pk]))
    for person in people:
        with translation.override(language_of(person)):
            Notification.objects.create(employee=person, link=link, subject=_(subject)[:200], text=_(text) % {
                "name": declaration.employee.name, "title": declaration.title, "reason": declaration.return_reason})


def _notify_next(declaration: Declaration) -> None:
    if declaration.status == Declaration.Status.AWAITING_HEAD:
        _tell(heads_of(declaration.employee), declaration, gettext_noop("Credits to approve"),
              gettext_noop("%(name)s declared credits earned elsewhere: %(title)s."))
    elif declaration.status == Declaration.Status.AWAITING_OFFICE:
        _tell(_office(), declaration, gettext_noop("Credits to approve"),
              gettext_noop("%(name)s declared credits earned elsewhere: %(title)s."))


@transaction.atomic
def declare(*, employee: Employee, data: dict, certificate, now: dt.datetime | None = None) -> Declaration:
    _check(data)
    declaration = Declaration(employee=employee, **{name: data[name] for name in FIELDS},
                              status=_first_status(employee), submitted_at=now or timezone.now())
    _attach(declaration, certificate)
    declaration.save()
    DeclarationStep.objects.create(declaration=declaration, kind=DeclarationStep.Kind.SUBMITTED,
                                   actor=employee.user, at=declaration.submitted_at)
    _notify_next(declaration)
    return declaration


@transaction.atomic
def resubmit(*, user, declaration: Declaration, data: dict, certificate=None,
             now: dt.datetime | None = None) -> Declaration:
    declaration = Declaration.objects.select_for_update().select_related("employee__department").get(
        pk=declaration.pk)
    if declaration.employee_id != roles_of(user).employee_id:
        raise PermissionDenied
    if not declaration.editable:
        raise ValidationError(_("Only a declaration returned for changes can be corrected."))
    _check(data)
    for name in FIELDS:
        setattr(declaration, name, data[name])
    if certificate is not None:
        _attach(declaration, certificate)
    declaration.status = _first_status(declaration.employee)
    declaration.submitted_at = now or timezone.now()
    declaration.head_approved_by = declaration.head_approved_at = None
    declaration.save()
    DeclarationStep.objects.create(declaration=declaration, kind=DeclarationStep.Kind.RESUBMITTED, actor=user,
                                   at=declaration.submitted_at)
    _notify_next(declaration)
    return declaration


def _locked_for_decision(user, declaration: Declaration) -> Declaration:
    declaration = Declaration.objects.select_for_update().select_related("employee__department").get(
        pk=declaration.pk)
    if declaration.status in {Declaration.Status.APPROVED, Declaration.Status.RETURNED}:
        raise ValidationError(_("This declaration has already been decided."))
    if not may_decide(roles_of(user), declaration):
        raise PermissionDenied
    return declaration


@transaction.atomic
def approve(*, user, declaration: Declaration, now: dt.datetime | None = None) -> Declaration:
    declaration = _locked_for_decision(user, declaration)
    now = now or timezone.now()
    if declaration.status == Declaration.Status.AWAITING_HEAD:
        declaration.status = Declaration.Status.AWAITING_OFFICE
        declaration.head_approved_by, declaration.head_approved_at = user, now
        kind = DeclarationStep.Kind.HEAD_APPROVED
    else:
        declaration.status = Declaration.Status.APPROVED
        declaration.approved_by, declaration.approved_at = user, now
        declaration.fact = _fact(declaration, actor=user)
        kind = DeclarationStep.Kind.APPROVED
    declaration.save()
    DeclarationStep.objects.create(declaration=declaration, kind=kind, actor=user, at=now)
    record_change(actor=user, action="approve", obj=declaration, summary=f"{declaration} ({kind})")
    if declaration.status == Declaration.Status.APPROVED:
        _tell([declaration.employee], declaration, gettext_noop("Credits approved"),
              gettext_noop("Your credits for %(title)s have been approved and now count."))
    else:
        _notify_next(declaration)
    return declaration


@transaction.atomic
def return_for_changes(*, user, declaration: Declaration, reason: str,
                       now: dt.datetime | None = None) -> Declaration:
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the declaration is returned."))
    declaration = _locked_for_decision(user, declaration)
    now = now or timezone.now()
    declaration.status, declaration.return_reason = Declaration.Status.RETURNED, reason
    declaration.save()
    DeclarationStep.objects.create(declaration=declaration, kind=DeclarationStep.Kind.RETURNED, actor=user,
                                   reason=reason, at=now)
    record_change(actor=user, action="return", obj=declaration, summary=str(declaration))
    _tell([declaration.employee], declaration, gettext_noop("Credits returned for changes"),
          gettext_noop("Your declaration %(title)s was returned: %(reason)s"))
    return declaration


def _fact(declaration: Declaration, *, actor) -> OutsideCredit:
    credit = OutsideCredit.objects.create(
        employee=declaration.employee, kind=declaration.kind, title=declaration.title,
        project_number=declaration.project_number, started_on=declaration.started_on,
        ended_on=declaration.ended_on, credited_at=start_of_day(declaration.ended_on),
        credits=declaration.credits, seconds=int(declaration.hours * 3600), credit_class=declaration.credit_class,
        category=declaration.category, certificate_sha256=declaration.certificate_sha256,
        declaration_id=declaration.pk, actor=actor)
    outside_credit_recorded.send(sender=OutsideCredit, credit=credit)
    return credit


def parse_people(text: str) -> list[Employee]:
    """Employee numbers, one per line (or separated by commas or spaces): every one must be an
    active employee, else nothing is entered."""
    numbers = list(dict.fromkeys(text.replace(",", " ").replace("，", " ").split()))
    if not numbers:
        raise ValidationError(_("Give the employee numbers of the attendees."))
    found = {e.employee_no: e for e in Employee.objects.filter(employee_no__in=numbers, is_active=True)
             .select_related("user", "department")}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise ValidationError(_("No active employee has these numbers: %(numbers)s") % {"numbers": ", ".join(unknown)})
    return [found[number] for number in numbers]


@transaction.atomic
def enter_for_attendees(*, user, people: list[Employee], data: dict, certificate,
                        now: dt.datetime | None = None) -> list[Declaration]:
    """The education office enters one meeting's credits for all its attendees at once, approved:
    one certificate (e.g. the attendance list) kept with each."""
    if not roles_of(user).is_admin:
        raise PermissionDenied
    _check(data)
    now = now or timezone.now()
    first = None
    declarations = []
    for person in people:
        declaration = Declaration(employee=person, **{name: data[name] for name in FIELDS},
                                  status=Declaration.Status.APPROVED, submitted_at=now, entered_by=user,
                                  approved_by=user, approved_at=now)
        if first is None:
            _attach(declaration, certificate)
            first = declaration
        else:
            declaration.certificate = first.certificate.name
            declaration.certificate_type, declaration.certificate_sha256 = (first.certificate_type,
                                                                            first.certificate_sha256)
        declaration.save()
        declaration.fact = _fact(declaration, actor=user)
        declaration.save(update_fields=["fact"])
        DeclarationStep.objects.create(declaration=declaration, kind=DeclarationStep.Kind.ENTERED, actor=user, at=now)
        declarations.append(declaration)
    record_change(actor=user, action="create", object_type="declaration", object_id=str(declarations[0].pk),
                  summary=f"{data['title']}: {len(declarations)}")
    _tell(people, first, gettext_noop("Credits recorded"),
          gettext_noop("Credits for %(title)s have been recorded for you."))
    return declarations
