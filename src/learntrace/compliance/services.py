"""Keeping standings up to date from the records, and evaluating compliance rules on them.

A period is evaluated from its due day on and once more when it closes; at close it is
frozen: later facts no longer change it, unless an admin reopens it with a reason."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.compliance.models import (
    Consequence,
    DepartmentOutcome,
    PeriodFigures,
    PeriodState,
    Rule,
    Standing,
    Watermark,
)
from learntrace.compliance.rollup import SUMS, sum_standings
from learntrace.core.audit import record_change
from learntrace.core.months import local_zone, start_of_day
from learntrace.exams.models import ExamResult
from learntrace.plans.models import Assignment, PlanPeriod, ReflectionEvent
from learntrace.plans.progress import FIGURE_NAMES, progress_for
from learntrace.records.models import Completion, Correction, CreditedTime, QuizAttempt

# Assignments refreshed per batch: bounded memory, and below SQLite's limit on query parameters.
BATCH = 1000
# What a refresh writes: the figures, and where the person stood in the organisation and the audience.
REFRESHED = [*FIGURE_NAMES, "department", "department_path", "joined_at", "removed_at", "refreshed_at"]
OUTCOME = ["compliant", "consequences", "score", "recognitions", "evaluated_at"]


def _batches(ids, size=BATCH):
    ids = iter(ids)
    while batch := list(islice(ids, size)):
        yield batch


# --- refreshing ------------------------------------------------------------------------------

def refresh_assignments(assignment_ids, *, now: dt.datetime | None = None) -> int:
    """Recompute the figures of these assignments; frozen standings are left as they are."""
    refreshed = _refresh(assignment_ids, now or timezone.now())
    roll_up(refreshed)
    return sum(refreshed.values())


def _refresh(assignment_ids, now: dt.datetime) -> dict:
    """Refreshes in batches; answers how many standings of each period were refreshed."""
    refreshed = defaultdict(int)
    for batch in _batches(sorted(set(assignment_ids))):
        assignments = list(Assignment.objects.filter(pk__in=batch)
                           .exclude(standing__frozen_at__isnull=False)
                           .select_related("period__plan", "employee__department"))
        if not assignments:
            continue
        existing = {s.assignment_id: s for s in Standing.objects.filter(assignment__in=assignments)}
        by_period = defaultdict(list)
        for assignment in assignments:
            by_period[assignment.period_id].append(assignment)
        created, updated = [], []
        for period_assignments in by_period.values():
            for standing in _figures(period_assignments, existing, now):
                (updated if standing.pk else created).append(standing)
        with transaction.atomic():
            Standing.objects.bulk_create(created)
            Standing.objects.bulk_update(updated, REFRESHED)
        for period_id, period_assignments in by_period.items():
            refreshed[period_id] += len(period_assignments)
    return refreshed


def _figures(assignments: list[Assignment], existing: dict, now: dt.datetime) -> list[Standing]:
    """The standings of one period's assignments, holding the figures of `plans.progress`."""
    period = assignments[0].period
    standings = []
    for progress in progress_for(assignments, now=now):
        assignment = progress.assignment
        employee = assignment.employee
        standing = existing.get(assignment.pk) or Standing(
            assignment=assignment, plan_id=period.plan_id, period=period, employee=employee,
            period_starts_at=period.starts_at)
        # Once complete, a standing keeps the moment it became so, whatever time is added later.
        kept_completed_at = standing.completed_at if standing.pk is not None and standing.complete else None
        for name in FIGURE_NAMES:
            setattr(standing, name, getattr(progress.figures, name))
        if standing.complete and kept_completed_at is not None:
            standing.completed_at = kept_completed_at
        standing.department_id = employee.department_id
        standing.department_path = employee.department.path
        standing.joined_at = assignment.joined_at
        standing.removed_at = assignment.removed_at
        standing.refreshed_at = now
        standings.append(standing)
    return standings


def refresh_changed(*, now: dt.datetime | None = None) -> int:
    """Refresh the open standings of everyone with facts recorded since the last call, and
    create the standings of new assignments. Run every minute by the worker."""
    now = now or timezone.now()
    employee_ids, marks = set(), {}
    for source, model in (("credited_time", CreditedTime), ("completion", Completion), ("correction", Correction),
                          ("quiz_attempt", QuizAttempt), ("reflection_event", ReflectionEvent),
                          ("exam_result", ExamResult)):
        mark, _created = Watermark.objects.get_or_create(source=source)
        top = model.objects.aggregate(top=Max("pk"))["top"] or 0
        if top > mark.last_id:
            employee_ids.update(model.objects.filter(pk__gt=mark.last_id, pk__lte=top)
                                .values_list("employee_id", flat=True).distinct())
            marks[mark.pk] = top
    # Open standings (or none yet) of published plans; frozen ones stay as they are.
    open_assignments = Assignment.objects.filter(standing__frozen_at__isnull=True, period__plan__status="published")
    ids = set()
    for batch in _batches(sorted(employee_ids)):
        ids.update(open_assignments.filter(employee_id__in=batch).values_list("pk", flat=True))
    ids.update(Assignment.objects.filter(standing__isnull=True, period__plan__status="published",
                                         period__starts_at__lte=now).values_list("pk", flat=True)[:BATCH * 10])
    refreshed = _refresh(ids, now)
    # Periods past their due day show their verdicts live until they close.
    judged = set()
    for period in PlanPeriod.objects.filter(pk__in=list(refreshed), due_at__lte=now):
        if not is_frozen(period):
            evaluate_period(period, now=now)
            judged.add(period.pk)
    roll_up(set(refreshed) - judged)
    # Moved on only once the standings are written: a failed run is retried from the same place.
    for pk, top in marks.items():
        Watermark.objects.filter(pk=pk).update(last_id=top)
    return sum(refreshed.values())


def refresh_period(period: PlanPeriod, *, now: dt.datetime | None = None) -> int:
    return refresh_assignments(period.assignments.values_list("pk", flat=True), now=now)


def refresh_open(*, now: dt.datetime | None = None) -> int:
    """Everything still open: catches department moves and audience changes no fact reports."""
    now = now or timezone.now()
    count = 0
    for period in PlanPeriod.objects.filter(plan__status="published", starts_at__lte=now).exclude(
            state__frozen_at__isnull=False).select_related("plan"):
        count += refresh_period(period, now=now)
        if period.due_at <= now:
            evaluate_period(period, now=now)
    return count


def is_frozen(period: PlanPeriod) -> bool:
    return PeriodState.objects.filter(period=period, frozen_at__isnull=False).exists()


def process_periods(*, now: dt.datetime | None = None) -> dict:
    """Evaluate periods whose due day has come, then freeze those that have closed."""
    now = now or timezone.now()
    done = {"evaluated": 0, "frozen": 0}
    periods = PlanPeriod.objects.filter(plan__status="published", due_at__lte=now).select_related("plan")
    for period in periods.filter(Q(state__isnull=True) | Q(state__evaluated_at__isnull=True)):
        refresh_period(period, now=now)
        evaluate_period(period, now=now)
        done["evaluated"] += 1
    # A reopened period stays open until an admin freezes it again.
    for period in periods.filter(ends_at__lte=now).filter(
            Q(state__isnull=True) | Q(state__frozen_at__isnull=True, state__reopened_at__isnull=True)):
        freeze_period(period, now=now)
        done["frozen"] += 1
    return done


@transaction.atomic
def freeze_period(period: PlanPeriod, *, actor=None, now: dt.datetime | None = None) -> PeriodState:
    now = now or timezone.now()
    if period.ends_at > now:
        raise ValidationError(_("A period can only be frozen once it has closed."))
    state, _created = PeriodState.objects.select_for_update().get_or_create(period=period)
    if state.frozen_at:
        raise ValidationError(_("This period is already frozen."))
    refresh_period(period, now=now)
    evaluate_period(period, now=now)
    Standing.objects.filter(period=period).update(frozen_at=now)
    state.frozen_at = now
    state.save(update_fields=["frozen_at"])
    if actor is not None:
        record_change(actor=actor, action="freeze", obj=period, summary=str(period))
    return state


@transaction.atomic
def reopen_period(period: PlanPeriod, *, actor, reason: str, now: dt.datetime | None = None) -> PeriodState:
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the period is reopened."))
    state = PeriodState.objects.select_for_update().filter(period=period).first()
    if state is None or not state.frozen_at:
        raise ValidationError(_("Only a frozen period can be reopened."))
    state.frozen_at = None
    state.reopened_at = now
    state.reopened_by = actor
    state.reopen_reason = reason[:1000]
    state.save(update_fields=["frozen_at", "reopened_at", "reopened_by", "reopen_reason"])
    Standing.objects.filter(period=period).update(frozen_at=None)
    record_change(actor=actor, action="reopen", obj=period, summary=f"{period}: {reason}"[:300])
    refresh_period(period, now=now)
    evaluate_period(period, now=now)
    return state


def roll_up(period_ids) -> None:
    """Sum each period's standings per department into `PeriodFigures` (one grouped query)."""
    for period in PlanPeriod.objects.filter(pk__in=list(period_ids)):
        # One row per department, even if it moved (its path changed) during the period.
        groups = sum_standings(Standing.objects.filter(period=period, removed_at__isnull=True), "department_id",
                               path=Max("department_path"))
        figures = [PeriodFigures(period=period, plan_id=period.plan_id, department_id=group["department_id"],
                                 department_path=group["path"], **{name: group[name] for name in SUMS})
                   for group in groups]
        with transaction.atomic():
            PeriodFigures.objects.filter(period=period).delete()
            PeriodFigures.objects.bulk_create(figures)


# --- evaluating ------------------------------------------------------------------------------

def rule_met(rule: Rule, standing: Standing) -> bool:
    missing = {m["what"] for m in standing.missing}
    if rule.counts_hours and "hours" in missing:
        return False
    if rule.counts_courses and standing.required_done < standing.required_total:
        return False
    if rule.counts_credits and "credits" in missing:
        return False
    if rule.counts_reflection and standing.reflection_status:
        wanted = {"accepted"} if rule.reflection_must_be_accepted else {"submitted", "accepted"}
        if standing.reflection_status not in wanted:
            return False
    if rule.counts_quizzes and standing.quizzes_passed < standing.quizzes_required:
        return False
    return True


def window_bounds(window: str, period: PlanPeriod) -> tuple[dt.datetime, dt.datetime] | None:
    """The quarter or year a period closes, or None when the period does not close one."""
    start = timezone.localtime(period.starts_at, local_zone())
    end = timezone.localtime(period.ends_at, local_zone())
    if window == "period":
        return period.starts_at, period.ends_at
    closes = end.day == 1 and end.hour == 0 and end.minute == 0 and (
        end.month in (1, 4, 7, 10) if window == "quarter" else end.month == 1)
    if not closes:
        return None
    first_month = 1 if window == "year" else (start.month - 1) // 3 * 3 + 1
    return start_of_day(dt.date(start.year, first_month, 1)), period.ends_at


def window_label(window: str, bounds) -> str:
    start = timezone.localtime(bounds[0], local_zone())
    if window == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if window == "year":
        return str(start.year)
    return ""


def _entry(consequence: Consequence, label: str, **extra) -> dict:
    entry = {"rule": consequence.rule_id, "name": consequence.name, "kind": consequence.kind,
             "applies_to": consequence.applies_to}
    if consequence.kind in (Consequence.Kind.PERCENT, Consequence.Kind.SCORE):
        entry["value"] = str(consequence.value)
    if consequence.kind == Consequence.Kind.FLAG:
        entry["eligible"] = consequence.applies_to != Consequence.AppliesTo.NON_COMPLIANT
    if label:
        entry["window"] = label
    entry.update(extra)
    return entry


def evaluate_period(period: PlanPeriod, *, now: dt.datetime | None = None) -> int:
    """Set every standing's verdict and consequences, and the departments' outcomes."""
    now = now or timezone.now()
    rules = list(Rule.objects.filter(plan_id=period.plan_id, is_active=True).prefetch_related("consequences"))
    # Only what judging reads: a period may hold a hundred thousand people.
    standings = list(Standing.objects.filter(period=period, frozen_at__isnull=True).only(
        "employee_id", "department_id", "removed_at", "missing", "required_total", "required_done",
        "reflection_status", "quizzes_required", "quizzes_passed", "total_seconds", "target_seconds", "complete"))
    counted = [s for s in standings if s.removed_at is None]
    for standing in standings:
        standing.compliant = None if standing.removed_at else (
            all(rule_met(rule, standing) for rule in rules) if rules else standing.complete)
        standing.consequences, standing.recognitions, standing.score = [], [], Decimal("0")
        standing.evaluated_at = now
    departments = {}
    for rule in rules:
        bounds = window_bounds(rule.window, period)
        if bounds is None:
            continue
        label = window_label(rule.window, bounds)
        met, hours = _window_verdicts(rule, period, bounds, counted)
        for consequence in rule.consequences.all():
            if consequence.level == Consequence.Level.DEPARTMENT:
                _department_consequence(consequence, label, counted, met, departments)
            else:
                _person_consequence(consequence, label, counted, met, hours)
    with transaction.atomic():
        Standing.objects.bulk_update(standings, OUTCOME, batch_size=BATCH)
        DepartmentOutcome.objects.filter(period=period).delete()
        DepartmentOutcome.objects.bulk_create([
            DepartmentOutcome(period=period, department_id=department_id, members=figures["members"],
                              non_compliant=figures["non_compliant"], consequences=figures["consequences"],
                              evaluated_at=now)
            for department_id, figures in departments.items()])
        PeriodState.objects.update_or_create(period=period, defaults={"evaluated_at": now})
    roll_up([period.pk])
    return len(standings)


def _window_verdicts(rule: Rule, period: PlanPeriod, bounds, counted: list[Standing]):
    """Whether each person met the rule in every period of the window, and their hours in it."""
    met = {s.employee_id: rule_met(rule, s) for s in counted}
    hours = {s.employee_id: s.total_seconds for s in counted}
    if rule.window != "period":
        earlier = Standing.objects.filter(
            plan_id=period.plan_id, removed_at__isnull=True,
            period_starts_at__gte=bounds[0], period_starts_at__lt=period.starts_at).only(
            "employee_id", "missing", "required_total", "required_done", "reflection_status", "quizzes_required",
            "quizzes_passed", "total_seconds")
        for standing in earlier.iterator(chunk_size=BATCH):
            if standing.employee_id not in met:
                continue
            met[standing.employee_id] = met[standing.employee_id] and rule_met(rule, standing)
            hours[standing.employee_id] += standing.total_seconds
    return met, hours


def _person_consequence(consequence: Consequence, label: str, counted: list[Standing], met: dict,
                        hours: dict) -> None:
    applies = consequence.applies_to
    if applies == Consequence.AppliesTo.TOP:
        ranked = sorted((s for s in counted if met[s.employee_id]),
                        key=lambda s: (-hours[s.employee_id], s.employee_id))
        chosen = {s.employee_id for s in ranked[:consequence.top_n or 0]}
    elif applies == Consequence.AppliesTo.ABOVE_TARGET:
        chosen = {s.employee_id for s in counted if met[s.employee_id] and s.total_seconds > s.target_seconds}
    else:
        wanted = applies == Consequence.AppliesTo.COMPLIANT
        chosen = {s.employee_id for s in counted if met[s.employee_id] == wanted}
    for standing in counted:
        if standing.employee_id not in chosen:
            continue
        standing.consequences.append(_entry(consequence, label))
        if consequence.kind == Consequence.Kind.SCORE:
            standing.score += consequence.value
        if consequence.kind == Consequence.Kind.TITLE and consequence.name not in standing.recognitions:
            standing.recognitions.append(consequence.name)


def _department_consequence(consequence: Consequence, label: str, counted: list[Standing], met: dict,
                            departments: dict) -> None:
    members, missed = defaultdict(int), defaultdict(int)
    for standing in counted:
        members[standing.department_id] += 1
        missed[standing.department_id] += not met[standing.employee_id]
    for department_id, size in members.items():
        figures = departments.setdefault(department_id, {"members": size, "non_compliant": 0, "consequences": []})
        figures["non_compliant"] = max(figures["non_compliant"], missed[department_id])
        share = consequence.department_share
        missing = missed[department_id] > 0 and missed[department_id] * 100 >= share * size
        if missing == (consequence.applies_to == Consequence.AppliesTo.NON_COMPLIANT):
            figures["consequences"].append(_entry(consequence, label, non_compliant=missed[department_id],
                                                  members=size))
