"""Reflections: the review queue of training admins, and accepting or returning one, through the
same service as the review page (its checks, its audit entry and its sealed fact)."""

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ApiError, ErrorOut
from learntrace.api.v1.page_forms import refusal
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import Id
from learntrace.plans import services
from learntrace.plans.models import Reflection

router = Router(tags=["reflections"])


class ReflectionOut(Schema):
    id: int
    employee_no: str
    plan_id: int
    period_id: int
    status: str
    text: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_comment: str
    updated_at: dt.datetime


class ReflectionPage(Schema):
    items: list[ReflectionOut]
    next_cursor: str | None


class ReviewIn(Schema):
    decision: Literal["accept", "return"]
    comment: str = Field("", max_length=5000, pattern=r"^[^\x00]*$",
                         description="What should change; needed when returning.")


def reflection_out(reflection: Reflection) -> dict:
    assignment = reflection.assignment
    return {"id": reflection.pk, "employee_no": assignment.employee.employee_no,
            "plan_id": assignment.period.plan_id, "period_id": assignment.period_id, "status": reflection.status,
            "text": reflection.text, "submitted_at": reflection.submitted_at, "reviewed_at": reflection.reviewed_at,
            "review_comment": reflection.review_comment, "updated_at": reflection.updated_at}


def _reviewer(request, *scopes: str) -> None:
    """Training admins review reflections, as on the review page."""
    if not need(request, *scopes).is_admin:
        raise ApiError(403, "forbidden", _("Only training admins review reflections."))


def _reflections():
    return Reflection.objects.select_related("assignment__employee", "assignment__period")


@router.get("/reflections", response={200: ReflectionPage, ERROR_STATUSES: ErrorOut},
            summary="Reflections to review (submitted ones unless `status` says otherwise; training admins), "
                    "by cursor")
def reflections(request, page: Query[PageParams], status: Reflection.Status = Reflection.Status.SUBMITTED):
    _reviewer(request, "plans:read")
    items, next_cursor = paginate(_reflections().filter(status=status), "updated_at", page)
    return {"items": [reflection_out(r) for r in items], "next_cursor": next_cursor}


@router.post("/reflections/{reflection_id}/review", response={200: ReflectionOut, ERROR_STATUSES: ErrorOut},
             summary="Accept a submitted reflection, or return it with a comment (training admins). "
                     "Accepting an accepted one again changes nothing.")
def review(request, reflection_id: Id, payload: ReviewIn):
    _reviewer(request, "plans:write")
    reflection = get_object_or_404(_reflections(), pk=reflection_id)
    accept = payload.decision == "accept"
    if accept and reflection.status == Reflection.Status.ACCEPTED:  # a retried call is answered, not repeated
        return reflection_out(reflection)
    if reflection.status != Reflection.Status.SUBMITTED:
        raise ApiError(409, "not_submitted", _("Only a submitted reflection can be reviewed."))
    try:
        reviewed = services.reflection_review(actor=request.user, reflection=reflection, accept=accept,
                                              comment=payload.comment)
    except ValidationError as exc:
        raise refusal({"comment": " ".join(exc.messages)}) from None
    return reflection_out(get_object_or_404(_reflections(), pk=reviewed.pk))
