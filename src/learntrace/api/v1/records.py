"""Learning records: completions, meeting attendance and exam results, by cursor, with `updated_since`."""

import datetime as dt
from typing import Literal

from django.db.models import Case, DateTimeField, F, IntegerField, Max, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from ninja import Query, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.types import Id, Key
from learntrace.checkin.models import Attendance, CheckInEvent
from learntrace.evidence.services import unsealed_ids
from learntrace.exams.models import ExamResult
from learntrace.org.access import visible_employees
from learntrace.records import effective
from learntrace.records.models import Completion, Correction

EXAM_RESULT = 8  # its evidence source (evidence.sources)

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
    voided_at: dt.datetime | None
    recorded_at: dt.datetime
    updated_at: dt.datetime
    change: Literal["recorded", "voided"]


class CompletionPage(Schema):
    items: list[CompletionOut]
    next_cursor: str | None


class ExamResultOut(Schema):
    id: int
    employee_no: str
    exam_id: int
    exam_title: str
    attempt: int
    score: int
    points: int
    max_points: int
    passed: bool
    ending: str
    times_page_left: int
    started_at: dt.datetime
    submitted_at: dt.datetime
    sealed: bool
    recorded_at: dt.datetime


class ExamResultPage(Schema):
    items: list[ExamResultOut]
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
    corrected_at: dt.datetime | None
    updated_at: dt.datetime
    change: Literal["attendance", "corrected"]


class AttendancePage(Schema):
    items: list[AttendanceOut]
    next_cursor: str | None


def attendance_out(attendance) -> dict:
    return {"id": attendance.pk, "meeting_id": attendance.meeting_id, "meeting_title": attendance.meeting.title,
            "course_id": attendance.meeting.course_id, "employee_no": attendance.employee.employee_no,
            "status": attendance.status, "method": attendance.method, "checked_in_at": attendance.checked_in_at,
            "checked_out_at": attendance.checked_out_at,
            "credited_seconds": max(attendance.credited_seconds + attendance.seconds_corrected, 0),
            "corrected_at": attendance.corrected_at, "updated_at": attendance.updated_at,
            "change": "corrected" if attendance.corrected_at == attendance.updated_at else "attendance"}


def attendance_with_update_time():
    """Attendance changes through check-in events and through an admin's corrections of the time
    it credited (check-in credits the meeting's course at the meeting's start): the latest of
    those is its update time, and the credited seconds are as corrected."""
    latest = (CheckInEvent.objects.filter(meeting=OuterRef("meeting"), employee=OuterRef("employee"))
              .values("meeting").annotate(last=Max("at")).values("last"))
    fixes = Correction.objects.filter(corrects=Correction.Target.CREDITED_TIME, employee=OuterRef("employee"),
                                      course=OuterRef("meeting__course"), occurred_at=OuterRef("meeting__starts_at"),
                                      ).order_by().values("employee")
    attended = Coalesce(Subquery(latest, output_field=DateTimeField()), F("checked_in_at"), F("meeting__starts_at"),
                        output_field=DateTimeField())
    return Attendance.objects.defer("signature").annotate(
        corrected_at=Subquery(fixes.annotate(last=Max("recorded_at")).values("last"), output_field=DateTimeField()),
        seconds_corrected=Coalesce(Subquery(fixes.annotate(total=Sum("seconds_delta")).values("total"),
                                            output_field=IntegerField()), Value(0)),
        # Greatest is NULL on SQLite when either is: a row never corrected keeps its attendance time.
        updated_at=Case(When(corrected_at__isnull=True, then=attended),
                        default=Greatest(attended, F("corrected_at")), output_field=DateTimeField()))


@router.get("/records/completions", response={200: CompletionPage, ERROR_STATUSES: ErrorOut},
            summary="Completions of the people the caller may read, in the order they were recorded or voided")
def completions(request, page: Query[PageParams], employee_no: Key | None = None):
    need(request, "records:read")
    voided_at = effective.voids().filter(corrects_id=OuterRef("pk")).order_by().values("corrects_id").annotate(
        first=Max("recorded_at")).values("first")
    found = (Completion.objects.filter(employee__in=visible_employees(request.user))
             .select_related("employee", "course", "credit_class", "category")
             .annotate(voided_at=Subquery(voided_at, output_field=DateTimeField()))
             # A void moves the row into the next incremental read.
             .annotate(updated_at=Coalesce(F("voided_at"), F("recorded_at"), output_field=DateTimeField())))
    if employee_no:
        found = found.filter(employee__employee_no=employee_no)
    items, next_cursor = paginate(found, "updated_at", page)
    return {"items": [{
        "id": c.pk, "employee_no": c.employee.employee_no, "course_id": c.course_id, "course_title": c.course.title,
        "completed_at": c.completed_at, "credits": float(c.credits),
        "credit_class": c.credit_class.code if c.credit_class_id else None, "category": c.category.code,
        "source": c.source, "voided": c.voided_at is not None, "voided_at": c.voided_at,
        "recorded_at": c.recorded_at, "updated_at": c.updated_at,
        "change": "voided" if c.voided_at is not None else "recorded",
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


@router.get("/records/exam-results", response={200: ExamResultPage, ERROR_STATUSES: ErrorOut},
            summary="Exam results of the people the caller may read, in the order they were recorded "
                    "(scores only: the answers stay in the exam centre)")
def exam_results(request, page: Query[PageParams], exam_id: Id | None = None, employee_no: Key | None = None):
    need(request, "records:read")
    found = ExamResult.objects.filter(employee__in=visible_employees(request.user)).select_related("employee", "exam")
    if exam_id is not None:
        found = found.filter(exam_id=exam_id)
    if employee_no:
        found = found.filter(employee__employee_no=employee_no)
    items, next_cursor = paginate(found, "recorded_at", page)
    waiting = unsealed_ids(EXAM_RESULT, [r.pk for r in items])
    return {"items": [{
        "id": r.pk, "employee_no": r.employee.employee_no, "exam_id": r.exam_id, "exam_title": r.exam.title,
        "attempt": r.number, "score": r.score, "points": r.points, "max_points": r.max_points, "passed": r.passed,
        "ending": r.ending, "times_page_left": r.hidden_count, "started_at": r.started_at,
        "submitted_at": r.submitted_at, "sealed": r.pk not in waiting, "recorded_at": r.recorded_at,
    } for r in items], "next_cursor": next_cursor}
