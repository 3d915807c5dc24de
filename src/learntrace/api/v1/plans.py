"""Plans, their periods, and each person's progress in their current periods."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.catalog import named_out
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.types import Id, Key
from learntrace.org.access import visible_employees
from learntrace.plans.access import visible_plans
from learntrace.plans.progress import progress_for
from learntrace.plans.selectors import current_assignments

router = Router(tags=["plans"])


class PlanOut(Schema):
    id: int
    name: str
    status: str
    period_type: str
    starts_on: dt.date
    ends_on: dt.date | None
    due_day: int | None = Field(description="Day of the period's last month by which it is due; "
                                            "null when the plan has none (a one-off plan is due at its end).")


class PeriodOut(Schema):
    id: int
    plan_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    due_at: dt.datetime


class HoursOut(Schema):
    done_seconds: int
    target_seconds: int
    owed_seconds: int


class RequiredCourseOut(Schema):
    course_id: int
    title: str
    state: str
    percent: int
    completed_at: dt.datetime | None


class CreditsOut(Schema):
    credit_class: dict | None
    category: dict | None
    min_credits: float
    done: float
    owed: float


class ProgressOut(Schema):
    plan: PlanOut
    period: PeriodOut
    complete: bool
    total: HoursOut
    by_kind: dict[str, HoursOut]
    required_courses: list[RequiredCourseOut]
    credits: list[CreditsOut]
    credits_due_this_period: bool
    reflection_required: bool
    reflection_status: str | None


def plan_out(plan) -> dict:
    return {"id": plan.pk, "name": plan.name, "status": plan.status, "period_type": plan.period_type,
            "starts_on": plan.starts_on, "ends_on": plan.ends_on, "due_day": plan.due_day}


def period_out(period) -> dict:
    return {"id": period.pk, "plan_id": period.plan_id, "starts_at": period.starts_at, "ends_at": period.ends_at,
            "due_at": period.due_at}


def _hours(hours) -> dict:
    return {"done_seconds": hours.done, "target_seconds": hours.target, "owed_seconds": hours.owed}


def progress_out(progress) -> dict:
    return {
        "plan": plan_out(progress.plan), "period": period_out(progress.period), "complete": progress.complete,
        "total": _hours(progress.total), "by_kind": {kind: _hours(h) for kind, h in progress.by_kind.items()},
        "required_courses": [{"course_id": i.course.pk, "title": i.course.title, "state": i.state,
                              "percent": i.percent, "completed_at": i.completed_at} for i in progress.items],
        "credits": [{"credit_class": named_out(c.target.credit_class), "category": named_out(c.target.category),
                     "min_credits": float(c.target.min_credits), "done": float(c.done), "owed": float(c.owed)}
                    for c in progress.credits],
        "credits_due_this_period": progress.credits_due,
        "reflection_required": progress.requires_reflection,
        "reflection_status": progress.reflection.status if progress.reflection else None,
    }


@router.get("/plans", response={200: list[PlanOut], ERROR_STATUSES: ErrorOut},
            summary="Plans (all for admins and auditors; otherwise the plans of the people the caller sees)")
def plans(request):
    need(request, "plans:read")
    return [plan_out(p) for p in visible_plans(request.user)]


@router.get("/plans/{plan_id}/periods", response={200: list[PeriodOut], ERROR_STATUSES: ErrorOut},
            summary="The periods of a plan, newest first")
def periods(request, plan_id: Id):
    need(request, "plans:read")
    plan = get_object_or_404(visible_plans(request.user), pk=plan_id)
    return [period_out(p) for p in plan.periods.order_by("-starts_at")]


@router.get("/people/{employee_no}/progress", response={200: list[ProgressOut], ERROR_STATUSES: ErrorOut},
            summary="What a person has done and still owes in each current period")
def person_progress(request, employee_no: Key):
    need(request, "plans:read")
    employee = get_object_or_404(visible_employees(request.user), employee_no=employee_no)
    return [progress_out(p) for p in progress_for(current_assignments(employee))]
