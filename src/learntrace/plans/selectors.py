"""Reading progress: what each person has done and still owes, per plan and period.

Everything is derived from the learning records with a bounded number of grouped
queries per call, whatever the number of people (no query per person)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from learntrace.catalog.models import Category, Course, CreditClass
from learntrace.core.months import local_zone, start_of_day
from learntrace.plans.models import Assignment, PeriodType, PlanPeriod, Reflection
from learntrace.records.models import Completion, Correction, CourseProgress, CreditedTime
from learntrace.records.services import voided_completions

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"


@dataclass
class Hours:
    done: int  # seconds
    target: int

    @property
    def owed(self) -> int:
        return max(self.target - self.done, 0)

    @property
    def met(self) -> bool:
        return self.done >= self.target


@dataclass
class ItemState:
    course: object
    state: str
    percent: int = 0
    completed_at: dt.datetime | None = None


@dataclass
class CreditTarget:
    credit_class: object | None
    category: object | None
    min_credits: Decimal


@dataclass
class CreditState:
    target: CreditTarget
    done: Decimal

    @property
    def owed(self) -> Decimal:
        return max(self.target.min_credits - self.done, Decimal("0"))

    @property
    def met(self) -> bool:
        return self.done >= self.target.min_credits


@dataclass
class Progress:
    assignment: Assignment
    total: Hours
    by_kind: dict = field(default_factory=dict)  # kind -> Hours, only kinds with a target
    items: list = field(default_factory=list)
    credits: list = field(default_factory=list)
    credits_by_class: dict = field(default_factory=dict)  # (class, category) names -> credits this year
    reflection: Reflection | None = None
    seconds_by_kind: dict = field(default_factory=dict)  # kind -> credited seconds, every kind with time

    @property
    def period(self) -> PlanPeriod:
        return self.assignment.period

    @property
    def plan(self):
        return self.assignment.period.plan

    @property
    def requires_reflection(self) -> bool:
        return self.period.targets.get("requires_reflection", False)

    @property
    def reflection_met(self) -> bool:
        if not self.requires_reflection:
            return True
        return self.reflection is not None and self.reflection.status in {
            Reflection.Status.SUBMITTED, Reflection.Status.ACCEPTED}

    @property
    def credits_due(self) -> bool:
        """Credit targets are yearly: they decide completeness only in the period that ends the year."""
        end = timezone.localtime(self.period.ends_at, local_zone())
        return (end.month, end.day, end.hour, end.minute) == (1, 1, 0, 0)

    @property
    def complete(self) -> bool:
        return (self.total.met and all(h.met for h in self.by_kind.values())
                and all(i.state == COMPLETED for i in self.items)
                and (not self.credits_due or all(c.met for c in self.credits))
                and self.reflection_met)

    @property
    def items_done(self) -> int:
        return sum(1 for i in self.items if i.state == COMPLETED)

    def days_left(self, now: dt.datetime | None = None) -> int:
        now = now or timezone.now()
        return (timezone.localtime(self.period.due_at, local_zone()).date()
                - timezone.localtime(now, local_zone()).date()).days - 1


def year_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    year = timezone.localtime(moment, local_zone()).year
    return start_of_day(dt.date(year, 1, 1)), start_of_day(dt.date(year + 1, 1, 1))


def progress_for(assignments) -> list[Progress]:
    """Progress of each assignment (with period and plan selected), in the order given."""
    assignments = list(assignments)
    by_period = defaultdict(list)
    for assignment in assignments:
        by_period[assignment.period_id].append(assignment)
    results = {}
    for period_assignments in by_period.values():
        for progress in _progress_of_period(period_assignments):
            results[progress.assignment.pk] = progress
    return [results[a.pk] for a in assignments]


def _credit_targets(specs: list[dict]) -> list[CreditTarget]:
    class_ids = {spec["credit_class_id"] for spec in specs} - {None}
    category_ids = {spec["category_id"] for spec in specs} - {None}
    classes = CreditClass.objects.in_bulk(class_ids) if class_ids else {}
    categories = Category.objects.in_bulk(category_ids) if category_ids else {}
    return [CreditTarget(classes.get(spec["credit_class_id"]), categories.get(spec["category_id"]),
                         Decimal(spec["min_credits"])) for spec in specs]


def _progress_of_period(assignments: list[Assignment]) -> list[Progress]:
    period = assignments[0].period
    targets = period.targets
    employee_ids = [a.employee_id for a in assignments]
    categories = targets.get("counted_category_ids", [])

    time_facts = CreditedTime.objects.filter(
        employee_id__in=employee_ids, occurred_at__gte=period.starts_at, occurred_at__lt=period.ends_at)
    if categories:
        time_facts = time_facts.filter(category_id__in=categories)
    seconds = defaultdict(lambda: defaultdict(int))
    for row in time_facts.values("employee_id", "kind").annotate(total=Sum("seconds")):
        seconds[row["employee_id"]][row["kind"]] = row["total"]
    # An admin's corrections of credited time count where the corrected time counted.
    corrections = Correction.objects.filter(
        employee_id__in=employee_ids, occurred_at__gte=period.starts_at, occurred_at__lt=period.ends_at)
    if categories:
        corrections = corrections.filter(course__category_id__in=categories)
    for row in corrections.values("employee_id", "course__kind").annotate(total=Sum("seconds_delta")):
        kind_seconds = seconds[row["employee_id"]]
        kind_seconds[row["course__kind"]] = max(kind_seconds[row["course__kind"]] + row["total"], 0)

    course_ids = targets.get("course_ids", [])
    by_id = Course.objects.in_bulk(course_ids) if course_ids else {}
    courses = [by_id[pk] for pk in course_ids if pk in by_id]
    completions, started = {}, {}
    if courses:
        # A required course counts when completed within the period (recurring plans ask
        # for it again each period), or at any time before the end of a one-off plan.
        window = Q(completed_at__lt=period.ends_at)
        if period.plan.period_type != PeriodType.ONE_OFF:
            window &= Q(completed_at__gte=period.starts_at)
        for employee_id, course_id, completed_at in Completion.objects.filter(
                window, employee_id__in=employee_ids, course_id__in=course_ids
        ).exclude(pk__in=voided_completions()).values_list("employee_id", "course_id", "completed_at"):
            completions[(employee_id, course_id)] = completed_at
        started = {(p.employee_id, p.course_id): p for p in CourseProgress.objects.filter(
            employee_id__in=employee_ids, course_id__in=course_ids).select_related("course")}

    credit_targets = _credit_targets(targets.get("credit_targets", []))
    credit_rows = defaultdict(list)
    if credit_targets:
        year_start, year_end = year_bounds(period.starts_at)
        for row in Completion.objects.filter(
                employee_id__in=employee_ids, completed_at__gte=year_start, completed_at__lt=year_end
        ).exclude(pk__in=voided_completions()).values("employee_id", "credit_class_id", "category_id").annotate(
                total=Sum("credits")):
            credit_rows[row["employee_id"]].append(row)

    reflections = {r.assignment_id: r for r in Reflection.objects.filter(assignment__in=assignments)} \
        if targets.get("requires_reflection") else {}

    kind_targets = targets.get("min_seconds_by_kind", {})
    results = []
    for assignment in assignments:
        done = seconds[assignment.employee_id]
        items = []
        for course in courses:
            completed_at = completions.get((assignment.employee_id, course.pk))
            progress = started.get((assignment.employee_id, course.pk))
            if completed_at:
                items.append(ItemState(course, COMPLETED, 100, completed_at))
            elif progress is not None and progress.completed_at is None:
                items.append(ItemState(course, IN_PROGRESS, progress.percent))
            else:
                items.append(ItemState(course, NOT_STARTED))
        rows = credit_rows[assignment.employee_id]
        credit_states = [
            CreditState(target, sum((r["total"] for r in rows
                                     if (target.credit_class is None or r["credit_class_id"] == target.credit_class.pk)
                                     and (target.category is None or r["category_id"] == target.category.pk)),
                                    Decimal("0")))
            for target in credit_targets
        ]
        results.append(Progress(
            assignment=assignment,
            # "4 h video + 4 h offline" implies at least 8 h in all.
            total=Hours(sum(done.values()), max(targets.get("min_total_seconds", 0), sum(kind_targets.values()))),
            by_kind={kind: Hours(done.get(kind, 0), target) for kind, target in kind_targets.items()},
            items=items,
            credits=credit_states,
            reflection=reflections.get(assignment.pk),
            seconds_by_kind=dict(done),
        ))
    return results


def _open_now(now: dt.datetime | None) -> Q:
    """Assignments that are owed right now: current period, published plan, still in the audience."""
    now = now or timezone.now()
    return Q(removed_at__isnull=True, period__starts_at__lte=now, period__ends_at__gt=now,
             period__plan__status="published")


def current_assignments(employee, *, now: dt.datetime | None = None):
    return (Assignment.objects.filter(_open_now(now), employee=employee)
            .select_related("period__plan").order_by("period__due_at", "period__plan__name"))


def current_assignments_of(employees, *, now: dt.datetime | None = None):
    """Open assignments of a set of people (a department head's subtree, everyone for an admin)."""
    return (Assignment.objects.filter(_open_now(now), employee__in=employees)
            .select_related("period__plan", "employee__department")
            .order_by("employee__department__path", "employee__employee_no", "period__plan__name"))


def past_assignments(employee, *, now: dt.datetime | None = None):
    now = now or timezone.now()
    return (Assignment.objects.filter(employee=employee, period__ends_at__lte=now)
            .select_related("period__plan").order_by("-period__starts_at", "period__plan__name"))


def credits_this_year(employee, *, now: dt.datetime | None = None) -> list[dict]:
    """Credits earned this calendar year by class and category, for "my learning"."""
    start, end = year_bounds(now or timezone.now())
    return list(Completion.objects.filter(employee=employee, completed_at__gte=start, completed_at__lt=end)
                .exclude(pk__in=voided_completions())
                .values("credit_class__name", "credit_class__name_en", "category__name", "category__name_en")
                .annotate(total=Sum("credits")).order_by("credit_class__name", "category__name"))

