"""Learning records: completions and meeting attendance, by cursor, with `updated_since`."""

import datetime as dt

from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from ninja import Query, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import Id, Key
from learntrace.checkin.models import Attendance, CheckInEvent
from learntrace.org.access import visible_employees
from learntrace.records import effective
from learntrace.records.models import Completion

router = Router(tags=["records"])


class CompletionOut(Schema):
    id: int
    employee_no: str
    course_id: int
    course_title: str
    completed_at: dt.datetime
    credits: float
    credit_class: str | None
    category: str
    source: str
    voided: bool
    recorded_at: dt.datetime


class CompletionPage(Schema):
    items: list[CompletionOut]
    next_cursor: str | None


class AttendanceOut(Schema):
    id: int
    meeting_id: int
    meeting_title: str
    course_id: int
    employee_no: str
    status: str
    method: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    credited_seconds: int
    updated_at: dt.datetime


class AttendancePage(Schema):
    items: list[AttendanceOut]
    next_cursor: str | None


def attendance_out(attendance) -> dict:
    return {"id": attendance.pk, "meeting_id": attendance.meeting_id, "meeting_title": attendance.meeting.title,
            "course_id": attendance.meeting.course_id, "employee_no": attendance.employee.employee_no,
            "status": attendance.status, "method": attendance.method, "checked_in_at": attendance.checked_in_at,
            "checked_out_at": attendance.checked_out_at, "credited_seconds": attendance.credited_seconds,
            "updated_at": attendance.updated_at}


def attendance_with_update_time():
    """Attendance changes only through check-in events, so the latest event is its update time."""
    latest = (CheckInEvent.objects.filter(meeting=OuterRef("meeting"), employee=OuterRef("employee"))
              .values("meeting").annotate(last=Max("at")).values("last"))
    return Attendance.objects.defer("signature").annotate(updated_at=Coalesce(
        Subquery(latest, output_field=DateTimeField()), F("checked_in_at"), F("meeting__starts_at"),
        output_field=DateTimeField()))


@router.get("/records/completions", response={200: CompletionPage, ERROR_STATUSES: ErrorOut},
            summary="Completions of the people the caller may read, in the order they were recorded")
def completions(request, page: Query[PageParams], employee_no: Key | None = None):
    need(request, "records:read")
    found = (Completion.objects.filter(employee__in=visible_employees(request.user))
             .select_related("employee", "course", "credit_class", "category")
             .annotate(voided=Exists(effective.voids().filter(corrects_id=OuterRef("pk")))))
    if employee_no:
        found = found.filter(employee__employee_no=employee_no)
    items, next_cursor = paginate(found, "recorded_at", page)
    return {"items": [{
        "id": c.pk, "employee_no": c.employee.employee_no, "course_id": c.course_id, "course_title": c.course.title,
        "completed_at": c.completed_at, "credits": float(c.credits),
        "credit_class": c.credit_class.code if c.credit_class_id else None, "category": c.category.code,
        "source": c.source, "voided": c.voided, "recorded_at": c.recorded_at,
    } for c in items], "next_cursor": next_cursor}


@router.get("/records/attendance", response={200: AttendancePage, ERROR_STATUSES: ErrorOut},
            summary="Meeting attendance of the people the caller may read, in the order it last changed")
def attendance(request, page: Query[PageParams], meeting_id: Id | None = None, employee_no: Key | None = None):
    need(request, "records:read")
    found = attendance_with_update_time().filter(employee__in=visible_employees(request.user)).select_related(
        "meeting", "employee")
    if meeting_id is not None:
        found = found.filter(meeting_id=meeting_id)
    if employee_no:
        found = found.filter(employee__employee_no=employee_no)
    items, next_cursor = paginate(found, "updated_at", page)
    return {"items": [attendance_out(a) for a in items], "next_cursor": next_cursor}
