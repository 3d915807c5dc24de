"""Plans, their periods, and each person's progress in their current periods; plans created,
changed and published through the plan page's own form and services (their checks, their audit
entries)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from learntrace.api.v1.auth import need, need_admin
from learntrace.api.v1.catalog import named_out
from learntrace.api.v1.errors import ERROR_STATUSES, ErrorOut
from learntrace.api.v1.page_forms import current_data, form_errors, ids_by_code, refusal
from learntrace.api.v1.types import NO_NUL, Id, Key, Text
from learntrace.catalog.models import Category, CreditClass
from learntrace.org.access import visible_employees
from learntrace.org.models import Department, Level
from learntrace.plans import services
from learntrace.plans.access import visible_plans
from learntrace.plans.forms import CreditTargetFormSet, PlanForm
from learntrace.plans.models import LearningPlan, PeriodType
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


class CreditTargetIn(Schema):
    credit_class: Key | None = Field(None, description="A credit class's code; null: any class.")
    category: Key | None = Field(None, description="A category's code; null: any category.")
    min_credits: Decimal | None = Field(None, description="Credits per year.")


Hours = Decimal | None


class PlanIn(Schema):
    """A plan as the plan page edits it. Creating one needs name, period_type and starts_on (a
    recurring plan a due_day, a one-off plan ends_on); a change sends only what changes, and each
    list sent replaces the plan's (departments by code, people by employee number, courses and exams
    by id, categories and credit classes by code). The hours are hours, as on the page."""

    name: Text | None = None
    description: Annotated[str, Field(max_length=20000, pattern=NO_NUL)] | None = None
    period_type: PeriodType | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    due_day: int | None = Field(None, description="1 to 31.")
    departments_with_subtree: list[Key] | None = Field(None, max_length=1000)
    departments_only: list[Key] | None = Field(None, max_length=1000)
    levels: list[Level] | None = None
    positions: list[Annotated[str, Field(max_length=100, pattern=r"^[^\x00,，、\n]*$")]] | None = \
        Field(None, max_length=100)
    tags: list[Annotated[str, Field(max_length=100, pattern=r"^[^\x00,，、\n]*$")]] | None = \
        Field(None, max_length=100)
    people: list[Key] | None = Field(None, max_length=5000, description="Always in the audience.")
    required_courses: list[Id] | None = Field(None, max_length=200)
    required_exams: list[Id] | None = Field(None, max_length=200)
    counted_categories: list[Key] | None = Field(None, max_length=100)
    min_total_hours: Hours = None
    min_video_hours: Hours = None
    min_document_hours: Hours = None
    min_offline_hours: Hours = None
    min_live_hours: Hours = None
    follows_credit_rules: bool | None = None
    requires_reflection: bool | None = None
    reflection_min_chars: int | None = Field(None, ge=0, le=2**31 - 1)
    credit_targets: list[CreditTargetIn] | None = Field(None, max_length=10, description="Replace the plan's.")


# The page form's field names that the API calls otherwise.
PLAN_NAMES = {"named_people": "people"}
CREDIT_PREFIX = "credits"


def _plan_data(plan: LearningPlan, sent: dict) -> tuple[dict, dict]:
    """The plan form's data with what was sent, and the errors of codes that name nothing."""
    data, errors = current_data(PlanForm(instance=plan)), {}
    for name, model in (("departments_with_subtree", Department), ("departments_only", Department),
                        ("counted_categories", Category)):
        if name in sent:
            ids, error = ids_by_code(model, sent.pop(name), name)
            data[name] = ids
            errors |= error
    for name, form_name in (("positions", "positions"), ("tags", "tags"), ("people", "named_people")):
        if name in sent:
            data[form_name] = ", ".join(sent.pop(name) or [])
    sent.pop("credit_targets", None)
    data.update({name: [] if value is None and name in {"levels", "required_courses", "required_exams"} else value
                 for name, value in sent.items()})
    return data, errors


def _credit_data(plan: LearningPlan, targets: list[dict] | None) -> tuple[dict, int, dict]:
    """The credit targets' formset data: the plan's as they are, or all of them deleted and the
    sent ones added; how many existed, and the errors of codes that name nothing."""
    existing = list(plan.credit_targets.order_by("pk")) if plan.pk else []
    data, errors = {}, {}
    for i, target in enumerate(existing):
        data |= {f"{CREDIT_PREFIX}-{i}-id": target.pk, f"{CREDIT_PREFIX}-{i}-credit_class": target.credit_class_id,
                 f"{CREDIT_PREFIX}-{i}-category": target.category_id,
                 f"{CREDIT_PREFIX}-{i}-min_credits": target.min_credits}
        if targets is not None:
            data[f"{CREDIT_PREFIX}-{i}-DELETE"] = "on"
    for j, target in enumerate(targets or []):
        prefix = f"{CREDIT_PREFIX}-{len(existing) + j}-"
        for name, model in (("credit_class", CreditClass), ("category", Category)):
            ids, error = ids_by_code(model, [target[name]] if target.get(name) else [], f"credit_targets[{j}].{name}")
            data[prefix + name] = ids[0] if ids else None
            errors |= error
        data[prefix + "min_credits"] = target.get("min_credits")
    total = len(existing) + len(targets or [])
    data |= {f"{CREDIT_PREFIX}-TOTAL_FORMS": total, f"{CREDIT_PREFIX}-INITIAL_FORMS": len(existing)}
    return data, len(existing), errors


def _save_plan(request, plan: LearningPlan, payload: PlanIn) -> LearningPlan:
    sent = payload.model_dump(exclude_unset=True)
    targets = sent.get("credit_targets")
    data, errors = _plan_data(plan, sent)
    credit_data, existing, credit_errors = _credit_data(plan, targets)
    form = PlanForm(data, instance=plan)
    credit_targets = CreditTargetFormSet(credit_data, instance=plan, prefix=CREDIT_PREFIX)
    form_ok, targets_ok = form.is_valid(), credit_targets.is_valid()
    errors |= form_errors(form, PLAN_NAMES) | credit_errors
    for i, target_form in enumerate(credit_targets.forms[existing:]):
        errors |= form_errors(target_form, {}, prefix=f"credit_targets[{i}].")
    if credit_targets.non_form_errors():
        errors["credit_targets"] = " ".join(credit_targets.non_form_errors())
    if errors or not (form_ok and targets_ok):
        raise refusal(errors or {"request": _("Some values are not valid.")})
    try:
        return services.save_plan(actor=request.user, form=form, credit_targets=credit_targets)
    except ValidationError as exc:  # a published plan must stay publishable
        raise refusal({"request": " ".join(exc.messages)}) from None


@router.post("/plans", response={201: PlanOut, ERROR_STATUSES: ErrorOut},
             summary="Create a plan, as a draft (training admins)")
def create_plan(request, payload: PlanIn):
    need_admin(request, "plans:write")
    return Status(201, plan_out(_save_plan(request, LearningPlan(created_by=request.user), payload)))


@router.patch("/plans/{plan_id}", response={200: PlanOut, ERROR_STATUSES: ErrorOut},
              summary="Change a plan: only the fields sent; a published plan's open periods follow (training admins)")
def update_plan(request, plan_id: Id, payload: PlanIn):
    need_admin(request, "plans:write")
    plan = get_object_or_404(LearningPlan, pk=plan_id)
    return plan_out(_save_plan(request, plan, payload))


@router.post("/plans/{plan_id}/publish", response={200: PlanOut, ERROR_STATUSES: ErrorOut},
             summary="Publish a plan: its current period opens for its audience (training admins). "
                     "Publishing a published plan changes nothing.")
def publish_plan(request, plan_id: Id):
    need_admin(request, "plans:write")
    with transaction.atomic():
        plan = get_object_or_404(LearningPlan.objects.select_for_update(), pk=plan_id)
        if plan.status == LearningPlan.Status.PUBLISHED:  # a retried call is answered, not repeated
            return plan_out(plan)
        try:
            services.publish_plan(actor=request.user, plan=plan)
        except ValidationError as exc:
            raise refusal({"plan": " ".join(exc.messages)}) from None
    return plan_out(plan)
