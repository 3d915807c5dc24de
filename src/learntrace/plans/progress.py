"""Progress: what a person has done and still owes in a plan period, and the figures that say it.

The one place progress is computed. `progress_for` reads the effective facts (`records.effective`:
corrections and voids applied) with a bounded number of grouped queries per period, whatever the
number of people, and gives each assignment its `Progress`, whose `figures` are exactly what
`compliance.Standing` stores. Pages about one person show a `Progress`; lists, reports, the API
and reminders read the stored figures."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.core import months
from learntrace.core.months import local_date, local_zone
from learntrace.creditrules.judge import Judgement
from learntrace.creditrules.selectors import judge_year
from learntrace.exams.models import Exam, ExamResult
from learntrace.org.models import Employee
from learntrace.plans.models import Assignment, JoinerPolicy, PeriodType, PlanPeriod, Reflection
from learntrace.records import effective
from learntrace.records.models import CourseProgress, OutsideCredit

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"
ZERO = Decimal("0")


@dataclass
class Figures:
    """A person's figures for one plan period: the columns of `compliance.Standing` of the same names."""

    # Credited seconds within the period (counted categories only), by kind of course.
    video_seconds: int
    document_seconds: int
    offline_seconds: int
    live_seconds: int
    total_seconds: int
    target_seconds: int
    owed_seconds: int  # the largest gap: in total or in one kind
    required_total: int  # required courses and exams
    required_done: int
    credits: Decimal  # completed within the period
    credits_year: Decimal  # calendar year up to the period's end
    reflection_status: str  # "" when not required, "none" when not written yet
    complete: bool  # every target of the period met
    completed_at: dt.datetime | None  # when the last missing target was met
    quizzes_required: int  # required courses that have a quiz
    quizzes_passed: int  # ... passed within the period
    missing: list  # what is owed, e.g. [{"what": "hours", "kind": "video", "owed": 3600}]
    joined_after_due: bool  # joined after the due day (or within the grace days): not judged in the period


FIGURE_NAMES = tuple(f.name for f in fields(Figures))


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
    course: Course
    state: str
    percent: int = 0
    completed_at: dt.datetime | None = None
    quiz_passed: bool = False  # the course's quiz passed within the period (False without a quiz)


@dataclass
class ExamState:
    exam: Exam
    passed_at: dt.datetime | None = None  # the first pass that counts in the period

    @property
    def passed(self) -> bool:
        return self.passed_at is not None


@dataclass
class CreditTarget:
    credit_class: CreditClass | None
    category: Category | None
    min_credits: Decimal


@dataclass
class CreditState:
    target: CreditTarget
    done: Decimal

    @property
    def owed(self) -> Decimal:
        return max(self.target.min_credits - self.done, ZERO)

    @property
    def met(self) -> bool:
        return self.done >= self.target.min_credits


@dataclass
class Progress:
    assignment: Assignment
    total: Hours
    by_kind: dict = field(default_factory=dict)  # kind -> Hours, only kinds with a target
    items: list = field(default_factory=list)
    exams: list = field(default_factory=list)  # ExamState of each required exam
    credits: list = field(default_factory=list)
    reflection: Reflection | None = None
    seconds_by_kind: dict = field(default_factory=dict)  # kind -> credited seconds, every kind with time
    credits_in_period: Decimal = ZERO
    credits_in_year: Decimal = ZERO
    last_counted_at: dt.datetime | None = None  # the latest credited time that counted
    rules: Judgement | None = None  # the year's credits judged by its rule set, when the plan follows one
    joined_on: dt.date | None = None  # when the person joined the organisation, when it matters to the period
    joined_after_due: bool = False
    figures: Figures = None  # set by `progress_for`

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
                and all(e.passed for e in self.exams)
                and (not self.credits_due or all(c.met for c in self.credits))
                and (not self.credits_due or self.rules is None or self.rules.met)
                and self.reflection_met)

    @property
    def items_done(self) -> int:
        return sum(1 for i in self.items if i.state == COMPLETED)

    @property
    def exams_passed(self) -> int:
        return sum(1 for e in self.exams if e.passed)

    def days_left(self, now: dt.datetime | None = None) -> int:
        now = now or timezone.now()
        return (timezone.localtime(self.period.due_at, local_zone()).date()
                - timezone.localtime(now, local_zone()).date()).days - 1


def year_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the calendar year that contains `moment`."""
    return months.year_bounds(local_date(moment).year)


def progress_for(assignments, *, now: dt.datetime | None = None) -> list[Progress]:
    """Progress of each assignment (with period and plan selected), in the order given; `now` caps
    the moment a period counts as completed."""
    now = now or timezone.now()
    assignments = list(assignments)
    by_period = defaultdict(list)
    for assignment in assignments:
        by_period[assignment.period_id].append(assignment)
    results = {}
    for period_assignments in by_period.values():
        for progress in _progress_of_period(period_assignments):
            progress.figures = _figures(progress, now)
            results[progress.assignment.pk] = progress
    return [results[a.pk] for a in assignments]


def _credit_targets(specs: list[dict]) -> list[CreditTarget]:
    class_ids = {spec["credit_class_id"] for spec in specs} - {None}
    category_ids = {spec["category_id"] for spec in specs} - {None}
    classes = CreditClass.objects.in_bulk(class_ids) if class_ids else {}
    categories = Category.objects.in_bulk(category_ids) if category_ids else {}
    return [CreditTarget(classes.get(spec["credit_class_id"]), categories.get(spec["category_id"]),
                         Decimal(spec["min_credits"])) for spec in specs]


def _joined_on(employee_ids: list, period: PlanPeriod) -> dict:
    """When each person joined the organisation: the hire date, else the day their record was created
    if that falls within the period. A record created after the period closed (a first import, an
    import of history) says nothing about when the person joined, so it is taken as before."""
    joined = {}
    for pk, hire_date, created_at in Employee.objects.filter(pk__in=employee_ids).values_list(
            "pk", "hire_date", "created_at"):
        if hire_date is not None:
            joined[pk] = hire_date
        elif period.starts_at <= created_at < period.ends_at:
            joined[pk] = local_date(created_at)
    return joined


def _period_days(period: PlanPeriod) -> tuple[dt.date, dt.date, dt.date]:
    """The period's first day, its day after the last, and its due day, as calendar days."""
    return local_date(period.starts_at), local_date(period.ends_at), \
        local_date(period.due_at) - dt.timedelta(days=1)


def joined_after_due(joined_on: dt.date | None, period: PlanPeriod) -> bool:
    """Whether the plan's joiner policy leaves this person unjudged in the period."""
    policy = period.targets.get("joiner_policy", JoinerPolicy.NEXT_PERIOD)
    if joined_on is None or policy == JoinerPolicy.PRORATED:
        return False
    grace = period.targets.get("joiner_grace_days", 0) if policy == JoinerPolicy.GRACE else 0
    return joined_on > _period_days(period)[2] - dt.timedelta(days=grace)


def prorated(seconds: int, joined_on: dt.date | None, period: PlanPeriod) -> int:
    """A target cut to the share of the period's days the person was employed (whole seconds, down),
    under the prorating policy; the whole target otherwise."""
    if joined_on is None or period.targets.get("joiner_policy") != JoinerPolicy.PRORATED:
        return seconds
    first, after, _due = _period_days(period)
    if joined_on <= first:
        return seconds
    employed = max((after - joined_on).days, 0)
    return seconds * employed // (after - first).days


def _counts_for_course(period: PlanPeriod, moment: dt.datetime | None) -> bool:
    """A required course (and its quiz) counts when completed within the period (recurring plans ask
    for it again each period), or at any time before the end of a one-off plan."""
    if moment is None or moment >= period.ends_at:
        return False
    return period.plan.period_type == PeriodType.ONE_OFF or moment >= period.starts_at


def _progress_of_period(assignments: list[Assignment]) -> list[Progress]:
    period = assignments[0].period
    targets = period.targets
    employee_ids = [a.employee_id for a in assignments]

    time = effective.credited_time(employee_ids=employee_ids, starts_at=period.starts_at, ends_at=period.ends_at,
                                   category_ids=targets.get("counted_category_ids", []))
    seconds = defaultdict(dict)
    for (employee_id, kind), kind_seconds in time.seconds.items():
        seconds[employee_id][kind] = kind_seconds

    course_ids = targets.get("course_ids", [])
    by_id = Course.objects.select_related("quiz").in_bulk(course_ids) if course_ids else {}
    courses = [by_id[pk] for pk in course_ids if pk in by_id]
    started = {(p.employee_id, p.course_id): p for p in CourseProgress.objects.filter(
        employee_id__in=employee_ids, course_id__in=course_ids).select_related("course")} if courses else {}

    # One read of the completions that count: the year's (credits) and the required courses' (items).
    year_start, year_end = year_bounds(period.starts_at)
    completions = defaultdict(list)
    for row in effective.completions().filter(
            Q(completed_at__gte=min(year_start, period.starts_at)) | Q(course_id__in=course_ids),
            employee_id__in=employee_ids, completed_at__lt=period.ends_at,
    ).values("course_id", "employee_id", "completed_at", "credits", "credit_class_id", "category_id"):
        completions[row["employee_id"]].append(row)
    # Credits earned elsewhere (approved declarations) count towards the year's credits too.
    for row in OutsideCredit.objects.filter(
            employee_id__in=employee_ids, credited_at__gte=min(year_start, period.starts_at),
            credited_at__lt=period.ends_at,
    ).values("employee_id", "credited_at", "credits", "credit_class_id", "category_id"):
        completions[row["employee_id"]].append(
            {"course_id": None, "employee_id": row["employee_id"], "completed_at": row["credited_at"],
             "credits": row["credits"], "credit_class_id": row["credit_class_id"], "category_id": row["category_id"]})
    judgements = judge_year(employee_ids, local_date(period.starts_at).year) if targets.get("credit_rules") else {}

    exam_ids = targets.get("exam_ids", [])
    exams_by_id = Exam.objects.in_bulk(exam_ids) if exam_ids else {}
    exams = [exams_by_id[pk] for pk in exam_ids if pk in exams_by_id]
    passes = defaultdict(dict)  # employee -> exam -> first pass that counts
    if exams:
        for row in ExamResult.objects.filter(employee_id__in=employee_ids, exam_id__in=exam_ids, passed=True,
                                             submitted_at__lt=period.ends_at).order_by("submitted_at") \
                .values("employee_id", "exam_id", "submitted_at"):
            if _counts_for_course(period, row["submitted_at"]):
                passes[row["employee_id"]].setdefault(row["exam_id"], row["submitted_at"])

    credit_targets = _credit_targets(targets.get("credit_targets", []))
    reflections = {r.assignment_id: r for r in Reflection.objects.filter(assignment__in=assignments)} \
        if targets.get("requires_reflection") else {}
    kind_targets = targets.get("min_seconds_by_kind", {})
    joined = _joined_on(employee_ids, period)
    results = []
    for assignment in assignments:
        employee_id = assignment.employee_id
        joined_on = joined.get(employee_id)
        done = seconds[employee_id]
        rows = completions[employee_id]
        completed = {row["course_id"]: row["completed_at"] for row in rows
                     if row["course_id"] is not None and _counts_for_course(period, row["completed_at"])}
        year_rows = [row for row in rows if year_start <= row["completed_at"] < year_end]
        items = []
        for course in courses:
            progress = started.get((employee_id, course.pk))
            quiz_passed = course.has_quiz and progress is not None and _counts_for_course(
                period, progress.quiz_passed_at)
            if course.pk in completed:
                items.append(ItemState(course, COMPLETED, 100, completed[course.pk], quiz_passed))
            elif progress is not None and progress.completed_at is None:
                items.append(ItemState(course, IN_PROGRESS, progress.percent, quiz_passed=quiz_passed))
            else:
                items.append(ItemState(course, NOT_STARTED, quiz_passed=quiz_passed))
        results.append(Progress(
            assignment=assignment,
            # "4 h video + 4 h offline" implies at least 8 h in all.
            total=Hours(sum(done.values()), prorated(
                max(targets.get("min_total_seconds", 0), sum(kind_targets.values())), joined_on, period)),
            by_kind={kind: Hours(done.get(kind, 0), prorated(target, joined_on, period))
                     for kind, target in kind_targets.items()},
            items=items,
            exams=[ExamState(exam, passes[employee_id].get(exam.pk)) for exam in exams],
            credits=[CreditState(target, sum((row["credits"] for row in year_rows if _credits_towards(target, row)),
                                             ZERO)) for target in credit_targets],
            reflection=reflections.get(assignment.pk),
            seconds_by_kind=dict(done),
            credits_in_period=sum((row["credits"] for row in rows if row["completed_at"] >= period.starts_at), ZERO),
            credits_in_year=sum((row["credits"] for row in year_rows), ZERO),
            last_counted_at=time.last_at.get(employee_id),
            rules=judgements.get(employee_id),
            joined_on=joined_on,
            joined_after_due=joined_after_due(joined_on, period),
        ))
    return results


def _credits_towards(target: CreditTarget, row: dict) -> bool:
    return ((target.credit_class is None or row["credit_class_id"] == target.credit_class.pk)
            and (target.category is None or row["category_id"] == target.category.pk))


def _figures(progress: Progress, now: dt.datetime) -> Figures:
    done = {kind: progress.seconds_by_kind.get(kind, 0) for kind in CourseKind.values}
    quiz_items = [item for item in progress.items if item.course.has_quiz]
    complete = progress.complete
    completed_at = None
    if complete:
        # The moment the last missing piece arrived: the latest fact that counted.
        moments = [progress.last_counted_at] + [item.completed_at for item in progress.items] \
            + [exam.passed_at for exam in progress.exams]
        if progress.reflection is not None:
            moments.append(progress.reflection.submitted_at)
        completed_at = min(max((m for m in moments if m), default=now), now)
    return Figures(
        **{f"{kind}_seconds": seconds for kind, seconds in done.items()},
        total_seconds=progress.total.done,
        target_seconds=progress.total.target,
        owed_seconds=max([progress.total.owed] + [hours.owed for hours in progress.by_kind.values()]),
        required_total=len(progress.items) + len(progress.exams),
        required_done=progress.items_done + progress.exams_passed,
        credits=progress.credits_in_period,
        credits_year=progress.credits_in_year,
        reflection_status=(progress.reflection.status if progress.reflection else "none")
        if progress.requires_reflection else "",
        complete=complete,
        completed_at=completed_at,
        quizzes_required=len(quiz_items),
        quizzes_passed=sum(1 for item in quiz_items if item.quiz_passed),
        missing=_missing(progress),
        joined_after_due=progress.joined_after_due,
    )


def _missing(progress: Progress) -> list[dict]:
    missing = []
    if not progress.total.met:
        missing.append({"what": "hours", "kind": "total", "owed": progress.total.owed})
    for kind, hours in progress.by_kind.items():
        if not hours.met:
            missing.append({"what": "hours", "kind": kind, "owed": hours.owed})
    for item in progress.items:
        if item.state != COMPLETED:
            missing.append({"what": "course", "course_id": item.course.pk, "title": item.course.title})
    for state in progress.exams:
        if not state.passed:
            missing.append({"what": "exam", "exam_id": state.exam.pk, "title": state.exam.title})
    if progress.credits_due:
        for state in progress.credits:
            if not state.met:
                missing.append({"what": "credits", "owed": str(state.owed),
                                "credit_class": str(state.target.credit_class or ""),
                                "category": str(state.target.category or "")})
        if progress.rules is not None:
            missing.extend(progress.rules.missing)
    if not progress.reflection_met:
        missing.append({"what": "reflection"})
    return missing
