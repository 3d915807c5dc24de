"""Compliance outcomes and consequences per period, as payroll and performance systems pull them."""

import datetime as dt

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from learntrace.api.v1.auth import need
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut, invalid
from learntrace.api.v1.pagination import PageParams, paginate
from learntrace.api.v1.plans import PeriodOut, period_out
from learntrace.api.v1.types import Id
from learntrace.compliance.models import PeriodState
from learntrace.compliance.selectors import department_outcomes_for, standings_for
from learntrace.core.months import start_of_day
from learntrace.core.numbers import hours
from learntrace.plans.access import visible_plans

router = Router(tags=["compliance"])


class StandingOut(Schema):
    employee_no: str
    department_code: str
    plan_id: int
    period_id: int
    complete: bool
    completed_at: dt.datetime | None
    compliant: bool | None
    consequences: list[dict]
    score: float
    recognitions: list[str]
    total_seconds: int
    target_seconds: int
    owed_seconds: int
    # The same seconds in hours, one decimal, halves up: as pages, exports and reminders show them.
    total_hours: float
    target_hours: float
    owed_hours: float
    required_done: int
    required_total: int
    credits: float
    credits_year: float
    reflection_status: str
    removed_at: dt.datetime | None
    joined_after_due: bool = Field(description="Joined after the due day (or within the plan's grace days): "
                                               "not judged in the period, `compliant` is null.")
    evaluated_at: dt.datetime | None
    frozen_at: dt.datetime | None
    refreshed_at: dt.datetime
    changed_at: dt.datetime


class DepartmentOutcomeOut(Schema):
    department_code: str
    members: int
    non_compliant: int
    consequences: list[dict]
    evaluated_at: dt.datetime


class StandingPage(Schema):
    period: PeriodOut
    evaluated: bool
    frozen: bool
    departments: list[DepartmentOutcomeOut]
    items: list[StandingOut]
    next_cursor: str | None


def standing_out(standing) -> dict:
    return {
        "employee_no": standing.employee.employee_no, "department_code": standing.department.code,
        "plan_id": standing.plan_id, "period_id": standing.period_id, "complete": standing.complete,
        "completed_at": standing.completed_at, "compliant": standing.compliant,
        "consequences": standing.consequences, "score": float(standing.score),
        "recognitions": [str(r) for r in standing.recognitions], "total_seconds": standing.total_seconds,
        "target_seconds": standing.target_seconds, "owed_seconds": standing.owed_seconds,
        "total_hours": float(hours(standing.total_seconds)), "target_hours": float(hours(standing.target_seconds)),
        "owed_hours": float(hours(standing.owed_seconds)), "joined_after_due": standing.joined_after_due,
        "required_done": standing.required_done, "required_total": standing.required_total,
        "credits": float(standing.credits), "credits_year": float(standing.credits_year),
        "reflection_status": standing.reflection_status, "removed_at": standing.removed_at,
        "evaluated_at": standing.evaluated_at, "frozen_at": standing.frozen_at,
        "refreshed_at": standing.refreshed_at, "changed_at": standing.changed_at,
    }


@router.get("/compliance/plans/{plan_id}/standings", response={200: StandingPage, ERROR_STATUSES: ErrorOut},
            summary="Outcomes and consequences of the plan's period that contains a day (today by default)")
def standings(request, plan_id: Id, page: Query[PageParams], on: dt.date | None = None):
    need(request, "compliance:read")
    plan = get_object_or_404(visible_plans(request.user), pk=plan_id)
    try:
        moment = start_of_day(on) if on else timezone.now()
    except (OverflowError, ValueError):
        raise invalid({"on": _("Not a usable date.")}) from None
    period = get_object_or_404(plan.periods, starts_at__lte=moment, ends_at__gt=moment)
    # A standing changes when refreshed, judged or frozen: the latest of the three (stored and
    # indexed with the period) orders the cursor.
    found = standings_for(request.user, period)
    items, next_cursor = paginate(found, "changed_at", page)
    state = PeriodState.objects.filter(period=period).first()
    return {
        "period": period_out(period), "evaluated": bool(state and state.evaluated_at),
        "frozen": bool(state and state.frozen_at),
        "departments": [{"department_code": o.department.code, "members": o.members, "non_compliant": o.non_compliant,
                         "consequences": o.consequences, "evaluated_at": o.evaluated_at}
                        for o in department_outcomes_for(request.user, period)],
        "items": [standing_out(s) for s in items], "next_cursor": next_cursor,
    }
