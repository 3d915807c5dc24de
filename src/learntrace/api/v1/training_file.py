"""A person's training file (培训档案) as the training-file page shows it: hours and credits per
year, completions (voided ones marked), credits earned elsewhere, meetings, reflections,
corrections, each period's progress, and the newest seal over the person's facts."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.plans import ProgressOut, progress_out
from learntrace.api.v1.types import Key
from learntrace.org.access import visible_employees
from learntrace.trainingfile.selectors import training_file

router = Router(tags=["records"])


class YearCreditsOut(Schema):
    credit_class: str | None
    category: str
    credits: float
    outside: bool


class YearOut(Schema):
    year: int
    seconds_by_kind: dict[str, int]
    total_seconds: int
    credits: list[YearCreditsOut]


class FileCompletionOut(Schema):
    id: int
    course_id: int
    course_title: str
    completed_at: dt.datetime
    credits: float
    credit_class: str | None
    category: str
    source: str
    voided: bool


class OutsideCreditOut(Schema):
    id: int
    kind: str
    title: str
    credited_at: dt.datetime
    credits: float
    credit_class: str | None
    category: str


class FileMeetingOut(Schema):
    meeting_id: int
    title: str
    starts_at: dt.datetime
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    credited_seconds: int


class FileReflectionOut(Schema):
    id: int
    plan_id: int
    period_id: int
    status: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None


class CorrectionOut(Schema):
    id: int
    course_id: int
    voids: bool
    seconds_delta: int
    reason: str
    recorded_at: dt.datetime


class SealOut(Schema):
    number: int
    created_at: dt.datetime
    seal_hash: str


class TrainingFileOut(Schema):
    employee_no: str
    name: str
    department_code: str
    years: list[YearOut]
    completions: list[FileCompletionOut]
    outside_credits: list[OutsideCreditOut]
    meetings: list[FileMeetingOut]
    reflections: list[FileReflectionOut]
    corrections: list[CorrectionOut]
    periods: list[ProgressOut]
    seal: SealOut | None
    unsealed_facts: int


def _code(item) -> str | None:
    return item.code if item is not None else None


def training_file_out(found) -> dict:
    employee = found.employee
    return {
        "employee_no": employee.employee_no, "name": employee.name, "department_code": employee.department.code,
        "years": [{"year": year, "seconds_by_kind": by_kind, "total_seconds": total,
                   "credits": [{"credit_class": row["credit_class__name"], "category": row["category__name"],
                                "credits": float(row["total"]), "outside": bool(row.get("outside"))}
                               for row in credits]}
                  for year, by_kind, total, credits in found.years],
        "completions": [{"id": c.pk, "course_id": c.course_id, "course_title": c.course.title,
                         "completed_at": c.completed_at, "credits": float(c.credits),
                         "credit_class": _code(c.credit_class), "category": c.category.code, "source": c.source,
                         "voided": c.voided_by is not None} for c in found.completions],
        "outside_credits": [{"id": o.pk, "kind": o.kind, "title": o.title, "credited_at": o.credited_at,
                             "credits": float(o.credits), "credit_class": _code(o.credit_class),
                             "category": o.category.code} for o in found.outside],
        "meetings": [{"meeting_id": a.meeting_id, "title": a.meeting.title, "starts_at": a.meeting.starts_at,
                      "status": a.status, "checked_in_at": a.checked_in_at, "checked_out_at": a.checked_out_at,
                      "credited_seconds": a.credited_seconds} for a in found.meetings],
        "reflections": [{"id": r.pk, "plan_id": r.assignment.period.plan_id, "period_id": r.assignment.period_id,
                         "status": r.status, "submitted_at": r.submitted_at, "reviewed_at": r.reviewed_at}
                        for r in found.reflections],
        "corrections": [{"id": c.pk, "course_id": c.course_id, "voids": c.voids, "seconds_delta": c.seconds_delta,
                         "reason": c.reason, "recorded_at": c.recorded_at} for c in found.corrections],
        "periods": [progress_out(p) for p in found.assignments],
        "seal": {"number": found.seal.number, "created_at": found.seal.created_at, "seal_hash": found.seal.seal_hash}
        if found.seal else None,
        "unsealed_facts": found.unsealed,
    }


@router.get("/people/{employee_no}/training-file", response={200: TrainingFileOut, ERROR_STATUSES: ErrorOut},
            summary="A person's training file (the person, their department heads, training admins, auditors)")
def person_training_file(request, employee_no: Key):
    need(request, "records:read")
    employee = get_object_or_404(visible_employees(request.user).select_related("department"),
                                 employee_no=employee_no)
    return training_file_out(training_file(employee))
