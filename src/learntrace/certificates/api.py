"""Certificates in the REST API: those of the people the caller may read, by cursor, with
`updated_since` counting a revocation as a change. Mounted on /api/v1/ by the project's urls
(the API app sits below certificates and does not import them)."""

import datetime as dt

from django.db.models.functions import Coalesce
from ninja import Query, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import Key
from learntrace.certificates import services
from learntrace.certificates.models import Certificate
from learntrace.evidence.services import unsealed_ids
from learntrace.org.access import visible_employees

router = Router(tags=["certificates"])


class CertificateOut(Schema):
    id: int
    code: str
    title: str
    kind_id: int
    employee_no: str
    exam_result_id: int | None
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    status: str
    revoked_at: dt.datetime | None
    revocation_reason: str | None
    sealed: bool
    updated_at: dt.datetime


class CertificatePage(Schema):
    items: list[CertificateOut]
    next_cursor: str | None


@router.get("/certificates", response={200: CertificatePage, ERROR_STATUSES: ErrorOut},
            summary="Certificates of the people the caller may read, in the order they were issued or revoked; "
                    "status is valid, expired or revoked")
def certificates(request, page: Query[PageParams], employee_no: Key | None = None):
    need(request, "records:read")
    found = (Certificate.objects.filter(employee__in=visible_employees(request.user))
             .select_related("employee", "revocation")
             # A revocation is recorded after its certificate: its time is the row's last change.
             .annotate(updated_at=Coalesce("revocation__recorded_at", "recorded_at")))
    if employee_no:
        found = found.filter(employee__employee_no=employee_no)
    items, next_cursor = paginate(found, "updated_at", page)
    now = dt.datetime.now(dt.UTC)
    waiting = unsealed_ids(services.EVIDENCE_SOURCE, [c.pk for c in items])
    out = []
    for c in items:
        revocation = services.revocation_of(c)
        out.append({
            "id": c.pk, "code": c.code, "title": c.title, "kind_id": c.kind_id, "employee_no": c.employee.employee_no,
            "exam_result_id": c.exam_result_id, "issued_at": c.issued_at, "expires_at": c.expires_at,
            "status": services.status(c, now), "revoked_at": revocation.revoked_at if revocation else None,
            "revocation_reason": revocation.reason if revocation else None, "sealed": c.pk not in waiting,
            "updated_at": c.updated_at})
    return {"items": out, "next_cursor": next_cursor}
