"""Issuing certificates and saying whether one is valid.

A certificate is issued once per kind and basis (a passed exam result, a completed plan
assignment): right after the result is committed (the exams signal), and by the worker's
sweep, which also catches plan periods completed and anything a restart missed."""

from __future__ import annotations

import base64
import calendar
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from learntrace.certificates.models import Certificate, CertificateKind, Revocation
from learntrace.compliance.models import Standing
from learntrace.core.audit import record_change
from learntrace.core.months import local_zone
from learntrace.exams.models import ExamResult

EVIDENCE_SOURCE = 9  # a certificate's evidence source (evidence.sources); its revocation's is 10

VALID, EXPIRED, REVOKED = "valid", "expired", "revoked"


class AlreadyRevoked(Exception):
    pass


def new_code() -> str:
    """16 characters of base32 (80 random bits), easy to read aloud: no 0/O or 1/I confusion matters
    because it is compared exactly and usually reached through the link."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def add_months(moment: datetime, months: int) -> datetime:
    """The same local day and time `months` later (clamped to the month's last day)."""
    local = timezone.localtime(moment, local_zone())
    month = local.month - 1 + months
    year, month = local.year + month // 12, month % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def issue(*, kind: CertificateKind, employee_id: int, issued_at: datetime, exam_result: ExamResult | None = None,
          assignment_id: int | None = None) -> Certificate | None:
    """Issue one certificate; None when this basis already has one (a second call is harmless)."""
    expires_at = add_months(issued_at, kind.valid_months) if kind.valid_months else None
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                kind=kind, employee_id=employee_id, code=new_code(), title=kind.title, exam_result=exam_result,
                assignment_id=assignment_id, issued_at=issued_at, expires_at=expires_at)
    except IntegrityError:
        return None


def issue_for_result(*, result: ExamResult) -> list[Certificate]:
    if not result.passed:
        return []
    issued = []
    for kind in CertificateKind.objects.filter(is_active=True, exam_id=result.exam_id):
        certificate = issue(kind=kind, employee_id=result.employee_id, issued_at=result.submitted_at,
                            exam_result=result)
        if certificate is not None:
            issued.append(certificate)
    return issued


def issue_due() -> int:
    """Certificates earned but not issued yet: passed results of certificate exams, completed
    standings of certificate plans. Run every few minutes by the worker."""
    issued = 0
    for kind in CertificateKind.objects.filter(is_active=True):
        if kind.exam_id:
            results = (ExamResult.objects.filter(exam_id=kind.exam_id, passed=True)
                       .exclude(certificates__kind=kind))
            for result in results:
                issued += issue(kind=kind, employee_id=result.employee_id, issued_at=result.submitted_at,
                                exam_result=result) is not None
        else:
            done = Standing.objects.filter(plan_id=kind.plan_id, complete=True, completed_at__isnull=False)
            taken = Certificate.objects.filter(kind=kind).values("assignment_id")
            for standing in done.exclude(assignment_id__in=taken):
                issued += issue(kind=kind, employee_id=standing.employee_id, issued_at=standing.completed_at,
                                assignment_id=standing.assignment_id) is not None
    return issued


def revocation_of(certificate: Certificate) -> Revocation | None:
    try:
        return certificate.revocation
    except Revocation.DoesNotExist:
        return None


def revoke(*, actor, certificate: Certificate, reason: str, now: datetime | None = None) -> Revocation:
    """Withdraw a certificate for good: a sealed fact with the reason, and an audit entry. The lock
    makes two admins revoking at once get one revocation and a refusal."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a revocation needs a reason")
    with transaction.atomic():
        Certificate.objects.select_for_update().filter(pk=certificate.pk).first()
        if Revocation.objects.filter(certificate=certificate).exists():
            raise AlreadyRevoked
        revocation = Revocation.objects.create(
            certificate=certificate, employee_id=certificate.employee_id, reason=reason,
            actor=actor if actor is not None and actor.is_authenticated else None, revoked_at=now or timezone.now())
        record_change(actor=actor, action="revoke", obj=certificate,
                      summary=f"{certificate.title}: {certificate.employee} ({reason})"[:500])
    certificate.revocation = revocation
    return revocation


def status(certificate: Certificate, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if revocation_of(certificate) is not None:
        return REVOKED
    return EXPIRED if certificate.expires_at is not None and certificate.expires_at <= now else VALID
