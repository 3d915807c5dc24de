"""What the reports read: completion by plan, department and month, the hours distribution,
who has not completed, this week's meetings, proxy suspicions and course analytics.

Everything about people is read from `compliance.Standing` (one row per person and plan period,
kept by the worker) with grouped queries; nothing here aggregates raw learning facts. The same
functions feed the pages, the exports and the API. Every function takes the reader's `Scope`, so a
department head never reads outside their subtrees whatever the filters say."""

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Avg, Count, F, Q
from django.utils import timezone

from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin import selectors as checkin_selectors
from learntrace.checkin.models import Meeting
from learntrace.compliance.models import HISTOGRAM_HOURS, PeriodFigures, Standing
from learntrace.compliance.rollup import HOUR_BUCKETS, SUMS, sum_period_figures, sum_standings
from learntrace.core.months import local_zone, month_bounds, start_of_day
from learntrace.org.access import roles_of, subtree_q
from learntrace.org.models import Department
from learntrace.plans.models import PlanItem, PlanPeriod
from learntrace.records import effective

COMPLETE, INCOMPLETE, COMPLIANT, NON_COMPLIANT = "complete", "incomplete", "compliant", "non_compliant"
RETENTION_STEPS = 100  # the curve has one point per 1 % of the media


@dataclass(frozen=True)
class Scope:
    """Whose figures a reader may see: everyone, or the people of some department subtrees — the
    reader's roles as org.access reads them, kept as plain values so that the worker can write a
    report for someone without a request."""

    everyone: bool
    paths: tuple[str, ...] = ()

    @classmethod
    def of(cls, user) -> "Scope":
        roles = roles_of(user)
        return cls(everyone=roles.can_read_all, paths=roles.head_paths)

    def q(self, path_field: str) -> Q:
        return Q() if self.everyone else subtree_q(self.paths, path_field)


@dataclass
class Filters:
    """What the reader narrowed the reports to; every field is optional."""

    plan: object | None = None
    month: dt.date | None = None  # first day of the month periods start in
    since: dt.datetime | None = None  # a rolling range instead of a month: periods or viewing since then
    department: Department | None = None
    level: str = ""
    course: Course | None = None
    status: str = ""


def report_months() -> list[dt.date]:
    """Months in which plan periods start, newest first (read from the small periods table)."""
    return [moment.date() for moment in
            PlanPeriod.objects.datetimes("starts_at", "month", order="DESC", tzinfo=local_zone())]


def current_month(months: list[dt.date]) -> dt.date | None:
    """The month "now" refers to: this month if it has periods, else the latest one before it."""
    today = timezone.localdate(timezone=local_zone()).replace(day=1)
    return next((month for month in months if month <= today), months[-1] if months else None)


# ---------------------------------------------------------------- standings


def standings(scope: Scope, filters: Filters, *, with_month: bool = True):
    """The standings the reader may see under the filters (people still in the audience)."""
    rows = _narrowed(Standing.objects.filter(removed_at__isnull=True), scope, filters, with_month=with_month)
    if filters.level:
        rows = rows.filter(employee__level=filters.level)
    if filters.course is not None:
        rows = rows.filter(plan__in=PlanItem.objects.filter(course=filters.course).values("plan"))
    if filters.status == COMPLETE:
        rows = rows.filter(complete=True)
    elif filters.status == INCOMPLETE:
        # As the sums count them: who joined after the due day owes nothing in the period.
        rows = rows.filter(complete=False, joined_after_due=False)
    elif filters.status == COMPLIANT:
        rows = rows.filter(compliant=True)
    elif filters.status == NON_COMPLIANT:
        rows = rows.filter(compliant=False)
    return rows


# The per-person list's order; each page starts after (or ends before) the key of a row, read by
# the index on department_path, so page 1 000 costs what page 1 costs.
PEOPLE_ORDER = ("department_path", "employee__employee_no", "period_starts_at", "plan_id", "pk")
PEOPLE_PAGE = 50
ANOMALIES_SHOWN = 5  # of each kind of proxy suspicion on the dashboard; the rest are counted


@dataclass
class KeysetPage:
    rows: list
    count: int
    next_key: str | None  # the cursor of the next page, None on the last
    previous_key: str | None


def people_key(standing) -> str:
    values = [standing.department_path, standing.employee.employee_no, standing.period_starts_at.isoformat(),
              standing.plan_id, standing.pk]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def read_people_key(key: str) -> list | None:
    """The row key in a page link, or None when it is not one this page gave out."""
    try:
        values = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode())
        path, number, starts_at, plan_id, pk = values
        if not (isinstance(path, str) and isinstance(number, str) and isinstance(plan_id, int)
                and isinstance(pk, int)):
            return None
        starts = dt.datetime.fromisoformat(starts_at)
        return [path, number, starts, plan_id, pk] if starts.tzinfo is not None else None
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def _beyond(values: list, direction: str) -> Q:
    """Rows after ("gt") or before ("lt") the key in PEOPLE_ORDER; the bound on the first column
    lets the database start from the key in its index."""
    beyond = Q()
    for i, name in enumerate(PEOPLE_ORDER):
        beyond |= Q(**dict(zip(PEOPLE_ORDER[:i], values[:i], strict=True)), **{f"{name}__{direction}": values[i]})
    return Q(**{f"{PEOPLE_ORDER[0]}__{direction}e": values[0]}) & beyond


def people_page(rows, *, after: list | None = None, before: list | None = None) -> KeysetPage:
    count = rows.count()
    if before is not None:
        page = list(rows.filter(_beyond(before, "lt")).order_by(*(f"-{f}" for f in PEOPLE_ORDER))[:PEOPLE_PAGE])
        page.reverse()
    else:
        found = rows.filter(_beyond(after, "gt")) if after is not None else rows
        page = list(found.order_by(*PEOPLE_ORDER)[:PEOPLE_PAGE])
    if not page:
        return KeysetPage(page, count, None, None)
    first, last = (_key_values(page[0]), _key_values(page[-1]))
    more_after = rows.filter(_beyond(last, "gt")).exists()
    more_before = rows.filter(_beyond(first, "lt")).exists()
    return KeysetPage(page, count, people_key(page[-1]) if more_after else None,
                      people_key(page[0]) if more_before else None)


def _key_values(standing) -> list:
    return [standing.department_path, standing.employee.employee_no, standing.period_starts_at, standing.plan_id,
            standing.pk]


@dataclass
class Rate:
    label: str
    people: int
    complete: int
    compliant: int = 0
    evaluated: int = 0
    done_seconds: int = 0
    target_seconds: int = 0
    owed_seconds: int = 0
    key: object = None

    @property
    def percent(self) -> float:
        return round(100 * self.complete / self.people, 1) if self.people else 0.0

    @property
    def compliant_percent(self) -> float | None:
        return round(100 * self.compliant / self.evaluated, 1) if self.evaluated else None

    @property
    def hours_percent(self) -> float | None:
        return round(100 * self.done_seconds / self.target_seconds, 1) if self.target_seconds else None


RATE_SUMS = ("people", "complete", "compliant", "evaluated", "done_seconds", "target_seconds", "owed_seconds")


def _rate(label, row: dict, key=None) -> Rate:
    return Rate(label=label, key=key, **{name: row[name] for name in RATE_SUMS})


def _rolled_up(filters: Filters) -> bool:
    """Whether the per-department sums kept by compliance answer these filters (they hold everyone
    still in the audience; a level, course or status narrows to people, so reads the standings)."""
    return not filters.level and filters.course is None and not filters.status


def period_figures(scope: Scope, filters: Filters, *, with_month: bool = True):
    """The per-period, per-department sums the reader may see under the plan, month and department."""
    return _narrowed(PeriodFigures.objects.all(), scope, filters, with_month=with_month)


def _narrowed(rows, scope: Scope, filters: Filters, *, with_month: bool):
    """Standings or their per-department sums, narrowed to the reader's scope, the plan, the month
    periods start in and the department (the filters both tables answer)."""
    rows = rows.filter(scope.q("department_path"))
    if filters.plan is not None:
        rows = rows.filter(plan=filters.plan)
    if with_month and (filters.month is not None or filters.since is not None):
        # Through the periods table, so the (period, department_path) index serves the filter.
        rows = rows.filter(period__in=_periods_of_range(PlanPeriod.objects.all(), filters))
    if filters.department is not None:
        rows = rows.filter(department_path__startswith=filters.department.path)
    return rows


def _periods_of_range(periods, filters: Filters):
    """`periods` narrowed to those starting in the filters' month or ending after their `since`."""
    if filters.month is not None:
        starts, ends = month_bounds(filters.month)
        return periods.filter(starts_at__gte=starts, starts_at__lt=ends)
    if filters.since is not None:
        return periods.filter(ends_at__gt=filters.since)
    return periods


def report_periods(filters: Filters):
    """The plan periods the filters allow: the plan's, starting in the month or ending after `since`."""
    periods = PlanPeriod.objects.all() if filters.plan is None else PlanPeriod.objects.filter(plan=filters.plan)
    return _periods_of_range(periods, filters)


class FigureGroups:
    """The figures grouped by plan and department in one query: the summary, the plans, the
    departments and the hours distribution of a report are sums of these groups, so the data is
    read once — the per-department sums where they answer the filters, else the standings."""

    KEYS = ("plan_id", "plan__name", "department_path")

    def __init__(self, rows):
        self.groups = sum_standings(rows, *self.KEYS)

    @classmethod
    def of(cls, scope: Scope, filters: Filters) -> "FigureGroups":
        if not _rolled_up(filters):
            return cls(standings(scope, filters))
        completion = cls.__new__(cls)
        completion.groups = sum_period_figures(period_figures(scope, filters), *cls.KEYS)
        return completion


def _groups(rows) -> list[dict]:
    return rows.groups if isinstance(rows, FigureGroups) else FigureGroups(rows).groups


def _add(groups, names=SUMS) -> dict:
    total = {name: 0 for name in names}
    for group in groups:
        for name in names:
            total[name] += group[name]
    return total


def summary(rows) -> Rate:
    """Everyone under the filters; `rows` is a queryset of standings or its `FigureGroups`."""
    return _rate("", _add(_groups(rows)))


def by_plan(rows) -> list[Rate]:
    plans: dict[int, list] = {}
    names = {}
    for group in _groups(rows):
        plans.setdefault(group["plan_id"], []).append(group)
        names[group["plan_id"]] = group["plan__name"]
    return sorted((_rate(names[plan_id], _add(groups), plan_id) for plan_id, groups in plans.items()),
                  key=lambda rate: rate.label)


def trend(scope: Scope, filters: Filters) -> list[Rate]:
    """`by_month` of everything the filters allow but the month."""
    if _rolled_up(filters):
        return by_month(sum_period_figures(period_figures(scope, filters, with_month=False), "period_id"))
    return by_month(standings(scope, filters, with_month=False))


def by_month(rows) -> list[Rate]:
    """The trend: figures per month in which periods start. Grouped by period (an integer key, no
    time-zone arithmetic per row), then periods starting in the same month are added up."""
    grouped = rows if isinstance(rows, list) else sum_standings(rows, "period_id")
    groups = {row["period_id"]: row for row in grouped}
    zone = local_zone()
    months: dict[dt.date, list] = {}
    for period_id, starts_at in PlanPeriod.objects.filter(pk__in=list(groups)).values_list("pk", "starts_at"):
        months.setdefault(starts_at.astimezone(zone).date().replace(day=1), []).append(groups[period_id])
    return [_rate(f"{month:%Y-%m}", _add(items), month) for month, items in sorted(months.items())]


def department_focus(scope: Scope, filters: Filters) -> list[Department]:
    """The departments whose parts the "by department" view compares."""
    if filters.department is not None:
        return [filters.department]
    if scope.everyone:
        return list(Department.objects.filter(parent__isnull=True))
    return list(Department.objects.filter(path__in=scope.paths))


def by_department(rows, focus: list[Department]) -> list[Rate]:
    """Completion per part of the focus: with one focus department, each of its sub-departments
    (its whole subtree rolled up) and the people directly in it; with several, each of them."""
    keys = {}
    totals: dict[str, dict] = {}
    for row in _groups(rows):
        path = row["department_path"]
        owner = next((d for d in focus if path.startswith(d.path)), None)
        if owner is None:
            continue
        key = owner.path
        if len(focus) == 1:
            rest = path[len(owner.path):].strip("/")
            if rest:
                key = f"{owner.path}{rest.split('/')[0]}/"
        keys[key] = True
        total = totals.setdefault(key, {name: 0 for name in SUMS})
        for name in total:
            total[name] += row[name]
    names = {d.path: d.name for d in Department.objects.filter(path__in=list(keys))}
    result = [_rate(names.get(path, path), total, path) for path, total in totals.items()]
    return sorted(result, key=lambda rate: (rate.percent, rate.label))


@dataclass
class Bucket:
    low_hours: int
    high_hours: int | None  # None: "and more"
    people: int

    @property
    def label(self) -> str:
        if self.high_hours is None:
            return f"≥ {self.low_hours}"
        return f"{self.low_hours}–{self.high_hours}"


def hours_histogram(rows) -> list[Bucket]:
    """People by credited hours in the period, one bar per hour."""
    total = _add(_groups(rows), names=HOUR_BUCKETS)
    return [Bucket(h, h + 1 if h < HISTOGRAM_HOURS else None, total[f"h{h}"]) for h in range(HISTOGRAM_HOURS + 1)]


# Who owes most first; the order of the index on the standings still owing (compliance.Standing).
NON_COMPLETERS_ORDER = ("-owed_seconds", "employee_id", "period_starts_at")
# Up to this many periods, each is read apart; more (all the periods of years) are sorted together.
PERIODS_READ_APART = 24


def first_non_completers(rows, periods, limit: int = 20) -> list:
    """Those who owe the most among `rows` in `periods` (a queryset of plan periods): chosen from the
    standings alone, then fetched with their names. Each period's first rows are a short range of the
    index on what its people owe, merged here: a sort of all the period's standings grew with the
    organisation. Who joined after the due day owes nothing."""
    owing = rows.filter(complete=False, joined_after_due=False)
    period_ids = list(periods.values_list("pk", flat=True)[:PERIODS_READ_APART + 1])
    if len(period_ids) > PERIODS_READ_APART:
        chosen = list(owing.filter(period__in=periods).order_by(*NON_COMPLETERS_ORDER)
                      .values_list("pk", flat=True)[:limit])
    else:
        firsts = []
        for period_id in period_ids:
            firsts += owing.filter(period_id=period_id).order_by(*NON_COMPLETERS_ORDER).values_list(
                "owed_seconds", "employee_id", "period_starts_at", "pk")[:limit]
        firsts.sort(key=lambda row: (-row[0], row[1], row[2]))
        chosen = [row[3] for row in firsts[:limit]]
    found = {s.pk: s for s in Standing.objects.filter(pk__in=chosen).select_related(
        "employee", "department", "plan", "period__plan")}
    return [found[pk] for pk in chosen]


# ---------------------------------------------------------------- meetings and suspicions


@dataclass
class MeetingAttendance:
    meeting: Meeting
    expected: int
    present: int
    expected_present: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.expected_present / self.expected, 1) if self.expected else None


def week_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate(now or timezone.now(), timezone=local_zone())
    monday = today - dt.timedelta(days=today.weekday())
    return start_of_day(monday), start_of_day(monday + dt.timedelta(days=7))


def meetings_this_week(scope: Scope, now: dt.datetime | None = None, limit: int = 50) -> list[MeetingAttendance]:
    """Meetings of this week (Monday to Sunday) and how many of the reader's people came: for
    everyone, the count kept on the meeting; of the roster, one pass joined to its check-ins."""
    starts, ends = week_bounds(now)
    result = []
    for meeting in Meeting.objects.filter(starts_at__gte=starts, starts_at__lt=ends).select_related(
            "course", "roster_plan").order_by("starts_at")[:limit]:
        expected, came = checkin_selectors.roster_counts(meeting, scope.q("department__path"))
        present = meeting.present_count if scope.everyone else meeting.attendances.filter(
            scope.q("employee__department__path"), checked_in_at__isnull=False).count()
        result.append(MeetingAttendance(meeting=meeting, expected=expected, present=present,
                                        expected_present=came))
    return result


def anomalies(scope: Scope, since: dt.datetime | None = None, shown: int | None = None) -> dict:
    """The check-in app's proxy suspicions, narrowed to the reader's people by the database; with
    `shown`, the latest few of each kind and how many there are (`counts`)."""
    if scope.everyone:
        return checkin_selectors.suspicious(since=since, shown=shown)
    found = checkin_selectors.suspicious(since=since, people=scope.q("employee__department__path"), shown=shown)
    departments = set(Department.objects.filter(scope.q("path")).values_list("pk", flat=True))
    # A burst from one address may hold people of other departments: only the reader's are named.
    bursts = [{**b, "people": [p for p in b["people"] if p.department_id in departments]} for b in found["bursts"]]
    return {**found, "bursts": [b for b in bursts if b["people"]]}


def anomaly_count(found: dict) -> int:
    return sum(found["counts"].values())


# ---------------------------------------------------------------- courses


@dataclass
class CourseFigures:
    course: Course
    viewers: int
    completed: int
    repeat_viewers: int
    avg_credited_seconds: float
    avg_covered_seconds: float
    low_share_percent: int = field(default=60)

    @property
    def required_seconds(self) -> int:
        return self.course.required_seconds

    @property
    def completion_percent(self) -> float:
        return round(100 * self.completed / self.viewers, 1) if self.viewers else 0.0

    @property
    def repeat_percent(self) -> float:
        return round(100 * self.repeat_viewers / self.viewers, 1) if self.viewers else 0.0

    @property
    def watched_share_percent(self) -> float:
        duration = self.course.duration_seconds
        return round(100 * self.avg_covered_seconds / duration, 1) if duration else 0.0

    @property
    def flagged(self) -> bool:
        return self.viewers > 0 and self.watched_share_percent < self.low_share_percent


TRACKED_KINDS = [CourseKind.VIDEO, CourseKind.DOCUMENT]


def course_progress(scope: Scope, filters: Filters):
    """Per-person course state of the reader's people, under the filters."""
    rows = effective.course_states().filter(scope.q("employee__department__path"), course__kind__in=TRACKED_KINDS)
    if filters.department is not None:
        rows = rows.filter(employee__department__path__startswith=filters.department.path)
    if filters.level:
        rows = rows.filter(employee__level=filters.level)
    if filters.course is not None:
        rows = rows.filter(course=filters.course)
    if filters.plan is not None:
        rows = rows.filter(course__in=PlanItem.objects.filter(plan=filters.plan).values("course"))
    if filters.month is not None:
        starts, ends = month_bounds(filters.month)
        rows = rows.filter(first_started_at__gte=starts, first_started_at__lt=ends)
    elif filters.since is not None:
        # Who viewed the course in the range, whenever they first started it.
        rows = rows.filter(last_activity_at__gte=filters.since)
    if filters.status in {COMPLETE, COMPLIANT}:
        rows = rows.filter(effective.completed_states())
    elif filters.status in {INCOMPLETE, NON_COMPLIANT}:
        rows = rows.exclude(effective.completed_states())
    return rows


def course_analytics(scope: Scope, filters: Filters) -> list[CourseFigures]:
    """Per course: viewers, average credited and covered time, completion and repeat viewing.
    A viewer "repeats" when they played at least a tenth of the media more than they covered."""
    threshold = settings.REPORTS_LOW_WATCH_SHARE
    grouped = course_progress(scope, filters).values("course_id").annotate(
        viewers=Count("id"),
        completed=Count("id", filter=effective.completed_states()),
        repeat_viewers=Count("id", filter=Q(played_ms__gte=F("covered_ms") + F("course__duration_seconds") * 100,
                                            course__duration_seconds__gt=0)),
        avg_credited_ms=Avg("effective_credited_ms"), avg_covered_ms=Avg("covered_ms"),
    ).order_by()
    figures = {row["course_id"]: row for row in grouped}
    courses = Course.objects.filter(pk__in=list(figures)).select_related("category").order_by("title")
    return [CourseFigures(
        course=course, viewers=figures[course.pk]["viewers"], completed=figures[course.pk]["completed"],
        repeat_viewers=figures[course.pk]["repeat_viewers"],
        avg_credited_seconds=(figures[course.pk]["avg_credited_ms"] or 0) / 1000,
        avg_covered_seconds=(figures[course.pk]["avg_covered_ms"] or 0) / 1000,
        low_share_percent=threshold,
    ) for course in courses]


@dataclass
class Retention:
    viewers: int
    shares: list[float]  # shares[p]: percent of viewers who watched the p-th 1 % of the media

    @property
    def drop_off_percent(self) -> int | None:
        """The first point at which fewer than half the viewers are still watching."""
        return next((p for p, share in enumerate(self.shares) if share < 50), None) if self.viewers else None


def _first_step_at_or_after(position_ms: int, duration_ms: int) -> int:
    """The first 1 % step whose middle lies at or after `position_ms`: step p covers the middle
    (2p + 1) * duration / 200, so a half-open interval [start, end) covers steps first(start)..first(end) - 1."""
    step = -(-(200 * position_ms - duration_ms) // (2 * duration_ms))
    return min(max(step, 0), RETENTION_STEPS)


def retention_curve(progress_rows, duration_seconds: int) -> Retention:
    """The audience-retention curve from the stored watched intervals, in one pass: each interval
    adds one at its first step and removes one after its last (a difference array), and a running
    sum gives how many viewers covered each step. A person's intervals never overlap (they are a
    union), so nobody counts twice at a step."""
    duration_ms = duration_seconds * 1000
    if duration_ms <= 0:
        return Retention(0, [0.0] * RETENTION_STEPS)
    difference = [0] * (RETENTION_STEPS + 1)
    viewers = 0
    for intervals in progress_rows.values_list("intervals", flat=True).iterator(chunk_size=5000):
        viewers += 1
        for start, end in intervals or ():
            first, after = _first_step_at_or_after(start, duration_ms), _first_step_at_or_after(end, duration_ms)
            if after > first:
                difference[first] += 1
                difference[after] -= 1
    shares, running = [], 0
    for step in range(RETENTION_STEPS):
        running += difference[step]
        shares.append(round(100 * running / viewers, 1) if viewers else 0.0)
    return Retention(viewers, shares)
