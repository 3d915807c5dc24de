"""Keeping standings up to date from the records, and evaluating compliance rules on them.

A period is evaluated from its due day on and once more when it closes; at close it is
frozen: later facts no longer change it, unless an admin reopens it with a reason."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
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
from learntrace.compliance.signals import period_judged
from learntrace.core.audit import record_change
from learntrace.core.bulk import update_rows
from learntrace.core.months import local_zone, start_of_day
from learntrace.exams.models import ExamResult
from learntrace.org.models import Department
from learntrace.plans.models import Assignment, PlanPeriod, ReflectionEvent
from learntrace.plans.progress import FIGURE_NAMES, progress_for
from learntrace.records.models import Completion, Correction, CreditedTime, QuizAttempt

# Assignments refreshed per batch: bounded memory, and below SQLite's limit on query parameters.
BATCH = 1000
# How long the minute's refresh looks again for facts whose ids it passed before they committed: past the
# next hourly refresh of every open standing (refresh_open), which reads them whatever their ids.
GAP_SECONDS = 2 * 3600
# What a refresh writes: the figures, and where the person stood in the organisation and the audience.
REFRESHED = [*FIGURE_NAMES, "department", "department_path", "joined_at", "removed_at", "refreshed_at", "changed_at"]
OUTCOME = ["compliant", "consequences", "score", "recognitions", "evaluated_at", "changed_at"]


def _batches(ids, size=BATCH):
    ids = iter(ids)
    while batch := list(islice(ids, size)):
        yield batch


# --- locking ---------------------------------------------------------------------------------
# Everything that writes standings takes its locks in one order, so two writers (the worker's
# refresh, its judging, an admin freezing) wait for each other but can never deadlock: first the
# periods' `PeriodState` rows by ascending period id, then the standings by ascending id, then the
# periods' department outcomes and figures. The state row is the period's write lock.

def _lock_periods(period_ids) -> set:
    """Lock the periods' state rows (made when missing); answers the ids of those now frozen."""
    period_ids = sorted(set(period_ids))
    PeriodState.objects.bulk_create([PeriodState(period_id=pk) for pk in period_ids], ignore_conflicts=True)
    states = PeriodState.objects.select_for_update().filter(period_id__in=period_ids).order_by("period_id")
    return {period_id for period_id, frozen_at in states.values_list("period_id", "frozen_at") if frozen_at}


def _lock_standings(standing_ids) -> None:
    list(Standing.objects.select_for_update().filter(pk__in=sorted(standing_ids)).order_by("pk")
         .values_list("pk", flat=True))


# --- refreshing ------------------------------------------------------------------------------

@dataclass
class Changes:
    """What a refresh changed in one period: whose standing, and which departments it touched
    (before and after a move)."""

    assignments: set = field(default_factory=set)
    departments: set = field(default_factory=set)

    def add(self, other: "Changes") -> None:
        self.assignments |= other.assignments
        self.departments |= other.departments


def refresh_assignments(assignment_ids, *, now: dt.datetime | None = None) -> int:
    """Recompute the figures of these assignments; frozen standings are left as they are."""
    changes, refreshed = _refresh(assignment_ids, now or timezone.now())
    for period_id, change in changes.items():
        roll_up([period_id], departments=change.departments)
    return refreshed


# What tells whether a refresh changed a standing (the department by id: no query for it).
COMPARED = [{"department": "department_id"}.get(name, name) for name in REFRESHED
            if name not in ("refreshed_at", "changed_at")]


# What the refresh reads of a standing: what it compares, and what says where the standing belongs.
READ = ["assignment", "period", *(name for name in REFRESHED if name not in ("refreshed_at", "changed_at"))]


def _written(standing: Standing) -> tuple:
    return tuple(getattr(standing, name) for name in COMPARED)


def _refresh(assignment_ids, now: dt.datetime) -> tuple[dict, int]:
    """Refreshes in batches and writes only the standings whose figures changed; answers those
    changes per period, and how many standings were refreshed."""
    changes: dict = defaultdict(Changes)
    refreshed = 0
    for batch in _batches(sorted(set(assignment_ids))):
        # Each row read as few columns as the refresh compares (the hourly refresh reads everyone:
        # building objects and parsing their dates and JSON was most of its cost); the periods and
        # the departments' paths, shared by many rows, once each.
        assignments = list(Assignment.objects.filter(pk__in=batch)
                           .exclude(standing__frozen_at__isnull=False)
                           .annotate(department_id=F("employee__department_id")))
        if not assignments:
            continue
        periods = PlanPeriod.objects.select_related("plan").in_bulk({a.period_id for a in assignments})
        paths = dict(Department.objects.filter(pk__in={a.department_id for a in assignments})
                     .values_list("pk", "path"))
        for assignment in assignments:
            assignment.period = periods[assignment.period_id]
        existing = {s.assignment_id: s for s in Standing.objects.filter(assignment_id__in=[a.pk for a in assignments])
                    .only(*READ)}
        before = {pk: (_written(s), s.department_id) for pk, s in existing.items()}
        by_period = defaultdict(list)
        for assignment in assignments:
            by_period[assignment.period_id].append(assignment)
        created, updated = [], []
        for period_assignments in by_period.values():
            for standing in _figures(period_assignments, existing, paths, now):
                if standing.pk is None:
                    created.append(standing)
                elif _written(standing) != before[standing.assignment_id][0]:
                    updated.append(standing)
        with transaction.atomic():
            frozen = _lock_periods(by_period)
            created = [s for s in created if s.period_id not in frozen]
            updated = sorted((s for s in updated if s.period_id not in frozen), key=lambda s: s.pk)
            _lock_standings(s.pk for s in updated)
            # A standing another writer created meanwhile is left to it: it was counted from the same facts.
            Standing.objects.bulk_create(created, ignore_conflicts=True)
            update_rows(Standing, updated, REFRESHED)
        for standing in created + updated:
            change = changes[standing.period_id]
            change.assignments.add(standing.assignment_id)
            change.departments.add(standing.department_id)
            if standing.assignment_id in before:
                change.departments.add(before[standing.assignment_id][1])
        refreshed += sum(len(group) for period_id, group in by_period.items() if period_id not in frozen)
    return changes, refreshed


def _figures(assignments: list[Assignment], existing: dict, paths: dict, now: dt.datetime) -> list[Standing]:
    """The standings of one period's assignments (each annotated with its person's `department_id`),
    holding the figures of `plans.progress`; `paths`: the departments' paths by id."""
    period = assignments[0].period
    standings = []
    for progress in progress_for(assignments, now=now):
        assignment = progress.assignment
        standing = existing.get(assignment.pk) or Standing(
            assignment=assignment, plan_id=period.plan_id, period=period, employee_id=assignment.employee_id,
            period_starts_at=period.starts_at)
        # Once complete, a standing keeps the moment it became so, whatever time is added later.
        kept_completed_at = standing.completed_at if standing.pk is not None and standing.complete else None
        for name in FIGURE_NAMES:
            setattr(standing, name, getattr(progress.figures, name))
        if standing.complete and kept_completed_at is not None:
            standing.completed_at = kept_completed_at
        standing.department_id = assignment.department_id
        standing.department_path = paths[assignment.department_id]
        standing.joined_at = assignment.joined_at
        standing.removed_at = assignment.removed_at
        standing.refreshed_at = standing.changed_at = now
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
        # Ids missed before (their transactions had not committed when a higher id was read) are looked
        # at again; after GAP_SECONDS the hourly refresh of everything open has taken them anyway.
        gaps = [gap for gap in mark.gaps if now.timestamp() - gap[2] < GAP_SECONDS]
        found: list = []
        if gaps:
            found = list(model.objects.filter(_any_of(gaps)).values_list("pk", "employee_id"))
            gaps = [(*missing, gap[2]) for gap in gaps for missing in _missing(gap[0], gap[1], found)]
        if top > mark.last_id:
            new = list(model.objects.filter(pk__gt=mark.last_id, pk__lte=top).values_list("pk", "employee_id"))
            gaps += [(*missing, now.timestamp()) for missing in _missing(mark.last_id + 1, top, new)]
            found += new
        employee_ids.update(employee_id for _pk, employee_id in found)
        if top > mark.last_id or [list(gap) for gap in gaps] != mark.gaps:
            marks[mark.pk] = {"last_id": max(top, mark.last_id), "gaps": [list(gap) for gap in gaps]}
    # Open standings (or none yet) of published plans; frozen ones stay as they are.
    open_assignments = Assignment.objects.filter(standing__frozen_at__isnull=True, period__plan__status="published")
    ids = set()
    for batch in _batches(sorted(employee_ids)):
        ids.update(open_assignments.filter(employee_id__in=batch).values_list("pk", flat=True))
    # Nothing is added to a frozen period, or it would be retried every minute.
    ids.update(Assignment.objects.filter(standing__isnull=True, period__plan__status="published",
                                         period__starts_at__lte=now).exclude(period__state__frozen_at__isnull=False)
               .values_list("pk", flat=True)[:BATCH * 10])
    changes, refreshed = _refresh(ids, now)
    _follow(changes, now)
    # Moved on only once the standings are written: a failed run is retried from the same place.
    for pk, values in marks.items():
        Watermark.objects.filter(pk=pk).update(**values)
    return refreshed


def _any_of(gaps) -> Q:
    condition = Q()
    for first, last, _since in gaps:
        condition |= Q(pk__gte=first, pk__lte=last)
    return condition


def _missing(first: int, last: int, rows) -> list[tuple[int, int]]:
    """The runs of ids from `first` to `last` that none of `rows` ((id, …) pairs) has."""
    runs, expected = [], first
    for pk in sorted(row[0] for row in rows if first <= row[0] <= last):
        if pk > expected:
            runs.append((expected, pk - 1))
        expected = pk + 1
    if expected <= last:
        runs.append((expected, last))
    return runs


def _follow(changes: dict, now: dt.datetime) -> None:
    """After a refresh: judge again the people whose standing changed in periods judged at their
    due day and not yet frozen (their verdicts are live until the close), and sum again the
    departments they touched. A whole period is judged only at its due day and at close."""
    if not changes:
        return
    judging = {period.pk: period for period in _live_periods(
        PlanPeriod.objects.filter(pk__in=list(changes), due_at__lte=now))}
    # A quarter's or a year's verdict reads the earlier periods in it: a change there is judged
    # again in the later live periods of the plan too.
    for period in PlanPeriod.objects.filter(pk__in=list(changes)).only("plan_id", "starts_at"):
        later = _live_periods(PlanPeriod.objects.filter(
            plan_id=period.plan_id, starts_at__gt=period.starts_at, due_at__lte=now,
            plan__compliance_rules__is_active=True).exclude(plan__compliance_rules__window="period").distinct())
        employees: list = []
        for other in later:
            if not employees:
                for batch in _batches(sorted(changes[period.pk].assignments)):
                    employees += Assignment.objects.filter(pk__in=batch).values_list("employee_id", flat=True)
            change = Changes()
            for batch in _batches(sorted(employees)):
                change.assignments.update(Assignment.objects.filter(period=other, employee_id__in=batch)
                                          .values_list("pk", flat=True))
            changes.setdefault(other.pk, Changes()).add(change)
            judging[other.pk] = other
    # A period past its due day and not judged yet gets its due-day judgement, once, whole.
    due = PlanPeriod.objects.filter(pk__in=list(changes), due_at__lte=now).exclude(
        state__evaluated_at__isnull=False).exclude(state__frozen_at__isnull=False)
    whole = {period.pk: period for period in due}
    for period_id, change in changes.items():
        if period_id in whole:
            evaluate_period(whole[period_id], now=now)
        elif period_id in judging:
            judge_people(judging[period_id], change.assignments, departments=change.departments, now=now)
        else:
            roll_up([period_id], departments=change.departments)


def _live_periods(periods):
    """Periods judged at their due day and not frozen since."""
    return periods.filter(state__evaluated_at__isnull=False, state__frozen_at__isnull=True)


def refresh_period(period: PlanPeriod, *, now: dt.datetime | None = None) -> int:
    return refresh_assignments(period.assignments.values_list("pk", flat=True), now=now)


def refresh_open(*, now: dt.datetime | None = None) -> int:
    """Everything still open: catches department moves and audience changes no fact reports.
    Only who changed is judged again."""
    now = now or timezone.now()
    count = 0
    for period in PlanPeriod.objects.filter(plan__status="published", starts_at__lte=now).exclude(
            state__frozen_at__isnull=False):
        changes, refreshed = _refresh(period.assignments.values_list("pk", flat=True), now)
        _follow(changes, now)
        count += refreshed
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
    Standing.objects.filter(period=period).update(frozen_at=now, changed_at=now)
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
    Standing.objects.filter(period=period).update(frozen_at=None, changed_at=now)
    record_change(actor=actor, action="reopen", obj=period, summary=f"{period}: {reason}"[:300])
    refresh_period(period, now=now)
    evaluate_period(period, now=now)
    return state


def roll_up(period_ids, *, departments=None) -> None:
    """Sum each period's standings per department into `PeriodFigures` (one grouped query): every
    department, or only `departments` (those a change touched)."""
    for period in PlanPeriod.objects.filter(pk__in=list(period_ids)):
        standings = Standing.objects.filter(period=period, removed_at__isnull=True)
        stale = PeriodFigures.objects.filter(period=period)
        if departments is not None:
            if not departments:
                continue
            standings = standings.filter(department_id__in=sorted(departments))
            stale = stale.filter(department_id__in=sorted(departments))
        # One row per department, even if it moved (its path changed) during the period.
        groups = sum_standings(standings, "department_id", path=Max("department_path"))
        figures = [PeriodFigures(period=period, plan_id=period.plan_id, department_id=group["department_id"],
                                 department_path=group["path"], **{name: group[name] for name in SUMS})
                   for group in groups]
        with transaction.atomic():
            _lock_periods([period.pk])
            stale.delete()
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


# Only what judging reads: a period may hold a hundred thousand people.
JUDGED = ("assignment_id", "employee_id", "department_id", "removed_at", "joined_after_due", "missing",
          "required_total", "required_done", "reflection_status", "quizzes_required", "quizzes_passed",
          "total_seconds", "target_seconds", "complete", "compliant", "consequences")  # the last two: what changed


def evaluate_period(period: PlanPeriod, *, now: dt.datetime | None = None) -> int:
    """Judge everyone of the period: at its due day, at close, and when an admin asks."""
    return _judge(period, now or timezone.now(), assignments=None, departments=None)


def judge_people(period: PlanPeriod, assignment_ids, *, departments=(), now: dt.datetime | None = None) -> int:
    """Judge again only these people (and whoever enters or leaves a top N with them), and the
    outcomes and figures of their departments: the same verdicts a whole judgement would give."""
    return _judge(period, now or timezone.now(), assignments=set(assignment_ids), departments=set(departments))


def _judge(period: PlanPeriod, now: dt.datetime, *, assignments: set | None, departments: set | None) -> int:
    rules = list(Rule.objects.filter(plan_id=period.plan_id, is_active=True).prefetch_related("consequences"))
    open_standings = Standing.objects.filter(period=period, frozen_at__isnull=True)
    windows = {rule.pk: bounds for rule in rules if (bounds := window_bounds(rule.window, period)) is not None}
    tops = {consequence.pk: _top(rule, consequence, period, windows[rule.pk])
            for rule in rules if rule.pk in windows for consequence in rule.consequences.all()
            if consequence.level == Consequence.Level.PERSON and consequence.applies_to == Consequence.AppliesTo.TOP}
    if assignments is None:
        standings = list(open_standings.only(*JUDGED))
    else:
        # Who leaves a top N is judged again as well as who enters it.
        employees = set().union(*tops.values(), *(_top_holders(period, rules, pk) for pk in tops))
        standings = _standings_of(open_standings, assignments, employees)
        departments |= {s.department_id for s in standings}
    # Who left the audience, or joined after the due day, is not judged and counts against no one.
    counted = [s for s in standings if s.removed_at is None and not s.joined_after_due]
    before = {s.pk: (s.compliant, s.consequences) for s in standings}
    for standing in standings:
        standing.compliant = None if standing.removed_at or standing.joined_after_due else (
            all(rule_met(rule, standing) for rule in rules) if rules else standing.complete)
        standing.consequences, standing.recognitions, standing.score = [], [], Decimal("0")
        standing.evaluated_at = standing.changed_at = now
    outcomes: dict = {}
    members = _department_members(period, rules, standings, departments)
    for rule in rules:
        if rule.pk not in windows:
            continue
        bounds = windows[rule.pk]
        label = window_label(rule.window, bounds)
        met, hours = _window_verdicts(rule, period, bounds, counted, everyone=assignments is None)
        in_departments, department_met = counted, met
        if members is not None:
            in_departments, department_met = members, _window_verdicts(rule, period, bounds, members)[0]
        for consequence in rule.consequences.all():
            if consequence.level == Consequence.Level.DEPARTMENT:
                _department_consequence(consequence, label, in_departments, department_met, outcomes)
            else:
                _person_consequence(consequence, label, counted, met, hours, tops.get(consequence.pk, set()))
    standings.sort(key=lambda s: s.pk)
    with transaction.atomic():
        if period.pk in _lock_periods([period.pk]):
            return 0  # frozen meanwhile: its outcome is settled
        _lock_standings(s.pk for s in standings)
        update_rows(Standing, standings, OUTCOME)
        stale = DepartmentOutcome.objects.filter(period=period)
        if departments is not None:
            stale = stale.filter(department_id__in=departments)
        stale.delete()
        DepartmentOutcome.objects.bulk_create([
            DepartmentOutcome(period=period, department_id=department_id, members=figures["members"],
                              non_compliant=figures["non_compliant"], consequences=figures["consequences"],
                              evaluated_at=now)
            for department_id, figures in outcomes.items()])
        if assignments is None:
            PeriodState.objects.filter(period=period).update(evaluated_at=now)
        roll_up([period.pk], departments=departments)
        changed = [(s, *before[s.pk]) for s in standings if before[s.pk] != (s.compliant, s.consequences)]
        period_judged.send(sender=PlanPeriod, period=period, whole=assignments is None, at=now, changed=changed)
    return len(standings)


def _standings_of(open_standings, assignments: set, employees: set) -> list[Standing]:
    found: dict = {}
    for batch in _batches(sorted(assignments)):
        found.update((s.pk, s) for s in open_standings.filter(assignment_id__in=batch).only(*JUDGED))
    for batch in _batches(sorted(employees)):
        found.update((s.pk, s) for s in open_standings.filter(employee_id__in=batch).only(*JUDGED))
    return list(found.values())


def _department_members(period: PlanPeriod, rules: list, standings: list, departments: set | None):
    """The counted standings of the departments to judge when some rule judges departments; None
    when judging the whole period (all of them are loaded already)."""
    if departments is None or not any(c.level == Consequence.Level.DEPARTMENT
                                      for rule in rules for c in rule.consequences.all()):
        return None
    members = []
    for batch in _batches(sorted(departments)):
        members.extend(Standing.objects.filter(period=period, frozen_at__isnull=True, removed_at__isnull=True,
                                               joined_after_due=False, department_id__in=batch).only(*JUDGED))
    return members


def _top(rule: Rule, consequence: Consequence, period: PlanPeriod, bounds) -> set:
    """The employees of the top N by hours among those who met the rule, read from the top of an
    index down until N are found: (-hours, employee id) orders them."""
    wanted = consequence.top_n or 0
    ranked = Standing.objects.filter(period=period, frozen_at__isnull=True, removed_at__isnull=True,
                                     joined_after_due=False)
    if rule.window == "period":
        ranked = ranked.annotate(hours=F("total_seconds"))
    else:
        # The hours of the whole window, as `_window_verdicts` counts them.
        in_window = Standing.objects.filter(
            plan_id=period.plan_id, employee_id=OuterRef("employee_id"), removed_at__isnull=True,
            joined_after_due=False, period_starts_at__gte=bounds[0], period_starts_at__lt=period.starts_at,
        ).order_by().values("employee_id").annotate(hours=Sum("total_seconds")).values("hours")
        ranked = ranked.annotate(hours=F("total_seconds") + Coalesce(Subquery(in_window), 0))
    ranked = ranked.order_by("-hours", "employee_id").only(*JUDGED)
    chosen: set = set()
    start = 0
    while len(chosen) < wanted:
        chunk = list(ranked[start:start + max(wanted * 2, 100)])
        if not chunk:
            break
        met = _window_verdicts(rule, period, bounds, chunk)[0]
        for standing in chunk:
            if met[standing.employee_id] and len(chosen) < wanted:
                chosen.add(standing.employee_id)
        start += len(chunk)
    return chosen


def _top_holders(period: PlanPeriod, rules: list, consequence_pk: int) -> set:
    """The employees who hold a top N consequence as last judged."""
    consequence = next(c for rule in rules for c in rule.consequences.all() if c.pk == consequence_pk)
    holding = Standing.objects.filter(period=period, frozen_at__isnull=True,
                                      consequences__icontains='"applies_to": "top"')
    return {employee_id for employee_id, entries in holding.values_list("employee_id", "consequences")
            if any(entry.get("rule") == consequence.rule_id and entry.get("name") == consequence.name
                   and entry.get("applies_to") == Consequence.AppliesTo.TOP for entry in entries)}


def _window_verdicts(rule: Rule, period: PlanPeriod, bounds, counted: list[Standing], *, everyone: bool = False):
    """Whether each person met the rule in every period of the window, and their hours in it
    (`everyone`: `counted` is the whole period, so the earlier periods are read whole)."""
    met = {s.employee_id: rule_met(rule, s) for s in counted}
    hours = {s.employee_id: s.total_seconds for s in counted}
    if rule.window != "period":
        # A period the person joined after its due day is not held against them.
        earlier = Standing.objects.filter(
            plan_id=period.plan_id, removed_at__isnull=True, joined_after_due=False,
            period_starts_at__gte=bounds[0], period_starts_at__lt=period.starts_at).only(
            "employee_id", "missing", "required_total", "required_done", "reflection_status", "quizzes_required",
            "quizzes_passed", "total_seconds")
        parts = [earlier] if everyone else [earlier.filter(employee_id__in=batch) for batch in _batches(sorted(met))]
        for part in parts:
            for standing in part.iterator(chunk_size=BATCH):
                if standing.employee_id not in met:
                    continue
                met[standing.employee_id] = met[standing.employee_id] and rule_met(rule, standing)
                hours[standing.employee_id] += standing.total_seconds
    return met, hours


def _person_consequence(consequence: Consequence, label: str, counted: list[Standing], met: dict,
                        hours: dict, top: set) -> None:
    applies = consequence.applies_to
    if applies == Consequence.AppliesTo.TOP:
        chosen = top
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
