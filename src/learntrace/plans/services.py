"""Changes to learning plans: publishing, rolling periods over, keeping assignments
in step with the audience, and the reflection lifecycle."""

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.core.audit import record_change, save_with_audit
from learntrace.core.months import local_zone
from learntrace.plans.audience import audience, audience_condition
from learntrace.plans.models import (
    Assignment,
    LearningPlan,
    PeriodType,
    PlanDepartment,
    PlanExam,
    PlanItem,
    PlanPeriod,
    Reflection,
    ReflectionEvent,
)
from learntrace.plans.periods import period_bounds

# A plan published with a start long ago gets at most this many periods of history.
MAX_BACKFILLED_PERIODS = 36


def check_publishable(*, plan: LearningPlan) -> None:
    errors = []
    if audience_condition(plan) is None:
        errors.append(_("The plan has no audience: choose departments, levels, positions, tags or people."))
    has_target = (plan.min_total_seconds or any(plan.kind_targets().values()) or plan.items.exists()
                  or plan.exam_items.exists() or plan.credit_targets.exists() or plan.follows_credit_rules
                  or plan.requires_reflection)
    if not has_target:
        errors.append(_("The plan asks for nothing: set hours, required courses or exams, credits or a reflection."))
    if plan.period_type == PeriodType.ONE_OFF and plan.ends_on is None:
        errors.append(_("A one-off plan needs an end date."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_plan(*, actor, form, credit_targets) -> LearningPlan:
    """Save a validated plan form with its credit targets, then its audience and courses, each
    with its audit entry; all or nothing."""
    plan = save_with_audit(actor=actor, form=form, summary=lambda saved: saved.name)
    credit_targets.instance = plan
    credit_targets.save()
    plan_configure(actor=actor, plan=plan, courses=form.cleaned_data["required_courses"],
                   exams=form.cleaned_data.get("required_exams") or [], **form.audience())
    return plan


@transaction.atomic
def plan_configure(*, actor, plan: LearningPlan, departments, levels, positions, tags, people, courses,
                   exams=(), now: dt.datetime | None = None) -> LearningPlan:
    """Set a saved plan's audience, required courses and exams; a published plan's open periods follow at once."""
    plan.audience_levels, plan.audience_positions, plan.audience_tags = levels, positions, tags
    plan.save(update_fields=["audience_levels", "audience_positions", "audience_tags", "updated_at"])
    plan.audience_departments.all().delete()
    PlanDepartment.objects.bulk_create([
        PlanDepartment(plan=plan, department=department, include_subtree=subtree)
        for department, subtree in departments
    ])
    plan.audience_employees.set(people)
    plan.items.all().delete()
    PlanItem.objects.bulk_create([PlanItem(plan=plan, course=course, position=i) for i, course in enumerate(courses)])
    plan.exam_items.all().delete()
    PlanExam.objects.bulk_create([PlanExam(plan=plan, exam=exam, position=i) for i, exam in enumerate(exams)])
    record_change(actor=actor, action="configure", obj=plan, summary=plan.name)
    if plan.status == LearningPlan.Status.PUBLISHED:
        check_publishable(plan=plan)
        # Open periods take the new targets; past periods keep what they asked.
        PlanPeriod.objects.filter(plan=plan, ends_at__gt=now or timezone.now()).update(
            targets=plan.targets_snapshot())
        ensure_periods(plan=plan, now=now)
    return plan


@transaction.atomic
def publish_plan(*, actor, plan: LearningPlan, now: dt.datetime | None = None) -> LearningPlan:
    check_publishable(plan=plan)
    plan.status = LearningPlan.Status.PUBLISHED
    plan.published_at = now or timezone.now()
    plan.save(update_fields=["status", "published_at", "updated_at"])
    record_change(actor=actor, action="publish", obj=plan, summary=plan.name)
    ensure_periods(plan=plan, now=now)
    return plan


@transaction.atomic
def archive_plan(*, actor, plan: LearningPlan) -> LearningPlan:
    plan.status = LearningPlan.Status.ARCHIVED
    plan.save(update_fields=["status", "updated_at"])
    record_change(actor=actor, action="archive", obj=plan, summary=plan.name)
    return plan


def _bounds_until(plan: LearningPlan, day: dt.date) -> list:
    """(starts_at, ends_at, due_at) of each period of the plan from its start to the one containing `day`."""
    if plan.period_type == PeriodType.ONE_OFF:
        found = period_bounds(plan, plan.starts_on)
        return [found] if found is not None and plan.starts_on <= day else []
    bounds, cursor = [], day
    while len(bounds) < MAX_BACKFILLED_PERIODS and cursor >= plan.starts_on:
        found = period_bounds(plan, cursor)
        bounds.append(found)
        cursor = timezone.localtime(found[0], timezone=local_zone()).date() - dt.timedelta(days=1)
    return bounds[::-1]


def ensure_periods(*, plan: LearningPlan, now: dt.datetime | None = None) -> list[PlanPeriod]:
    """Create every period of a published plan from its start up to today's, and bring the
    assignments of the open ones up to date. Idempotent: running it twice changes nothing."""
    if plan.status != LearningPlan.Status.PUBLISHED:
        return []
    now = now or timezone.now()
    periods = []
    for starts_at, ends_at, due_at in _bounds_until(plan, timezone.localtime(now, timezone=local_zone()).date()):
        period, created = PlanPeriod.objects.get_or_create(
            plan=plan, starts_at=starts_at,
            defaults={"ends_at": ends_at, "due_at": due_at, "targets": plan.targets_snapshot()},
        )
        if created or period.ends_at > now:
            sync_assignments(period=period, now=now)
        periods.append(period)
    return periods


@transaction.atomic
def sync_assignments(*, period: PlanPeriod, now: dt.datetime | None = None) -> dict:
    """Add people who joined the audience, mark those who left it; never delete history."""
    now = now or timezone.now()
    wanted = set(audience(period.plan).values_list("pk", flat=True))
    existing = {employee_id: removed_at for employee_id, removed_at in
                Assignment.objects.filter(period=period).values_list("employee_id", "removed_at")}
    new = [Assignment(period=period, employee_id=pk, joined_at=now) for pk in wanted - existing.keys()]
    Assignment.objects.bulk_create(new, batch_size=2000)
    returning = [pk for pk, removed_at in existing.items() if removed_at is not None and pk in wanted]
    leaving = [pk for pk, removed_at in existing.items() if removed_at is None and pk not in wanted]
    for ids, removed_at in ((returning, None), (leaving, now)):
        for start in range(0, len(ids), 500):
            Assignment.objects.filter(period=period, employee_id__in=ids[start:start + 500]).update(
                removed_at=removed_at)
    return {"added": len(new), "returned": len(returning), "removed": len(leaving)}


def roll_over(*, now: dt.datetime | None = None) -> int:
    """Open the current period of every published plan and resync open periods (the periodic task)."""
    count = 0
    for plan in LearningPlan.objects.filter(status=LearningPlan.Status.PUBLISHED):
        count += len(ensure_periods(plan=plan, now=now))
    return count


def sync_employee(*, employee, now: dt.datetime | None = None) -> None:
    """After one person changed (hired, promoted, moved, left): update their open assignments only."""
    now = now or timezone.now()
    open_periods = PlanPeriod.objects.filter(plan__status=LearningPlan.Status.PUBLISHED, ends_at__gt=now) \
        .select_related("plan")
    for period in open_periods:
        belongs = audience(period.plan).filter(pk=employee.pk).exists()
        assignment = Assignment.objects.filter(period=period, employee=employee).first()
        if belongs and assignment is None:
            Assignment.objects.create(period=period, employee=employee, joined_at=now)
        elif belongs and assignment.removed_at is not None:
            Assignment.objects.filter(pk=assignment.pk).update(removed_at=None)
        elif not belongs and assignment is not None and assignment.removed_at is None:
            Assignment.objects.filter(pk=assignment.pk).update(removed_at=now)


# ---------------------------------------------------------------- reflections


def _check_length(assignment: Assignment, text: str) -> None:
    minimum = assignment.period.targets.get("reflection_min_chars", 0)
    if len(text.strip()) < minimum:
        raise ValidationError(
            _("The reflection needs at least %(minimum)d characters; it has %(length)d.")
            % {"minimum": minimum, "length": len(text.strip())}
        )


@transaction.atomic
def reflection_save(*, assignment: Assignment, text: str, submit: bool, now: dt.datetime | None = None) -> Reflection:
    reflection = Reflection.objects.select_for_update().filter(assignment=assignment).first()
    if reflection is not None and not reflection.editable:
        raise ValidationError(_("This reflection has been submitted and can no longer be changed."))
    if not text.strip():
        raise ValidationError(_("Write something first."))
    if submit:
        _check_length(assignment, text)
    reflection = reflection or Reflection(assignment=assignment)
    reflection.text = text
    if submit:
        reflection.status = Reflection.Status.SUBMITTED
        reflection.submitted_at = now or timezone.now()
    elif reflection.status != Reflection.Status.RETURNED:
        reflection.status = Reflection.Status.DRAFT
    reflection.save()
    if submit:
        _reflection_fact(reflection, ReflectionEvent.Kind.SUBMITTED, actor=None, at=reflection.submitted_at)
    return reflection


def _reflection_fact(reflection: Reflection, kind: str, *, actor, at) -> None:
    ReflectionEvent.objects.create(
        reflection=reflection, employee_id=reflection.assignment.employee_id, kind=kind,
        text_sha256=hashlib.sha256(reflection.text.encode()).hexdigest(), comment=reflection.review_comment,
        actor=actor if actor is not None and actor.is_authenticated else None, at=at)


@transaction.atomic
def reflection_review(*, actor, reflection: Reflection, accept: bool, comment: str,
                      now: dt.datetime | None = None) -> Reflection:
    reflection = Reflection.objects.select_for_update().get(pk=reflection.pk)
    if reflection.status != Reflection.Status.SUBMITTED:
        raise ValidationError(_("Only a submitted reflection can be reviewed."))
    if not accept and not comment.strip():
        raise ValidationError(_("Say what should change when returning a reflection."))
    reflection.status = Reflection.Status.ACCEPTED if accept else Reflection.Status.RETURNED
    reflection.review_comment = comment.strip()
    reflection.reviewed_by = actor
    reflection.reviewed_at = now or timezone.now()
    reflection.save()
    record_change(actor=actor, action="accept_reflection" if accept else "return_reflection", obj=reflection,
                  summary=str(reflection.assignment.employee))
    _reflection_fact(reflection, ReflectionEvent.Kind.ACCEPTED if accept else ReflectionEvent.Kind.RETURNED,
                     actor=actor, at=reflection.reviewed_at)
    return reflection
