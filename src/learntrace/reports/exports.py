"""Every report as rows for a file: the headers, the rows (streamed from the same selectors as the
pages), and the two writers, CSV and XLSX. XLSX is written with XlsxWriter in constant-memory
mode: each row goes to disk as it is written, so 100 000 rows take the memory of one."""

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import IntegerField, OuterRef, Subquery, Sum, TextField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.catalog.models import CourseKind
from learntrace.compliance.selectors import MissingWords
from learntrace.core.months import local_zone
from learntrace.core.numbers import hours as rounded_hours
from learntrace.core.templatetags.learntrace import clock
from learntrace.org.models import Level
from learntrace.plans.models import PeriodType, PlanPeriod
from learntrace.records.models import CourseProgress
from learntrace.reports import selectors
from learntrace.reports.selectors import Filters, Scope


@dataclass(frozen=True)
class Report:
    key: str
    title: object  # lazy text
    headers: Callable[[], list[str]]
    rows: Callable[[Scope, Filters], Iterable[list]]
    count: Callable[[Scope, Filters], int]
    needs_course: bool = False


def hours(seconds) -> float:
    """Hours as a number a spreadsheet sums, rounded as on every page (core.numbers.hours)."""
    return float(rounded_hours(seconds))


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A naive local time, as spreadsheets want it."""
    return timezone.localtime(moment, local_zone()).replace(tzinfo=None) if moment else None


def yes_no(value) -> str:
    if value is None:
        return _("not evaluated")
    return _("yes") if value else _("no")



def period_text(period_type: str, starts: dt.datetime, ends: dt.datetime) -> str:
    start = timezone.localtime(starts, local_zone())
    if period_type == PeriodType.MONTHLY:
        return f"{start:%Y-%m}"
    if period_type == PeriodType.QUARTERLY:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if period_type == PeriodType.YEARLY:
        return f"{start.year}"
    last = (timezone.localtime(ends, local_zone()) - dt.timedelta(days=1)).date()
    return f"{start:%Y-%m-%d} – {last:%Y-%m-%d}"


# ---------------------------------------------------------------- per person


def person_headers() -> list[str]:
    return [_("employee number"), _("name"), _("department"), _("position"), _("level"), _("plan"), _("period"),
            _("entered the plan"), _("completion time"), _("credited watch time (h)"),
            _("total watch time, repeats included (h)"), _("offline hours"), _("live hours"), _("total hours"),
            _("target hours"), _("owed hours"), _("required courses"), _("required courses done"), _("credits"),
            _("complete"), _("compliant"), _("consequences"), _("score"), _("what is owed")]


PERSON_COLUMNS = ("employee__employee_no", "employee__name", "department__name", "employee__position",
                  "employee__level", "plan__name", "period_id", "joined_at", "completed_at", "video_seconds",
                  "document_seconds", "played_ms", "offline_seconds", "live_seconds", "total_seconds",
                  "target_seconds", "owed_seconds", "required_total", "required_done", "credits", "complete",
                  "compliant", "consequences_text", "score", "missing_text", "joined_after_due")
EMPTY_LIST = "[]"


@contextlib.contextmanager
def planned_for_every_row():
    """How PostgreSQL should plan a query read to its end through a cursor: for all its rows (by
    default a cursor's plan favours the first tenth, here an index walk across every period instead
    of one sort), and without compiling it first (JIT costs seconds and saves nothing here)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0; SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction; RESET jit")


def person_rows(scope: Scope, filters: Filters, rows=None) -> Iterator[list]:
    """One row per person and plan period, with the columns the README promises. Credited watch time is
    what the standing counted of videos and documents (live sessions and offline meetings have their own
    columns, which add up to the total hours); the total watch time is what the person played of the
    videos and documents they were learning in the period, repeats included, read from their
    per-course state."""
    rows = rows if rows is not None else selectors.standings(scope, filters)
    played = (CourseProgress.objects
              .filter(employee=OuterRef("employee_id"), course__kind__in=selectors.TRACKED_KINDS,
                      last_activity_at__gte=OuterRef("period_starts_at"),
                      first_started_at__lt=OuterRef("period__ends_at"))
              .order_by().values("employee").annotate(played=Sum("played_ms")).values("played"))
    # The JSON lists come as text: most are empty, and only the others are worth parsing.
    rows = (rows.annotate(played_ms=Coalesce(Subquery(played, output_field=IntegerField()), 0),
                          consequences_text=Cast("consequences", TextField()),
                          missing_text=Cast("missing", TextField()))
            .order_by("department_path", "employee__employee_no", "period_starts_at", "plan_id"))
    answers = {value: yes_no(value) for value in (True, False, None)}
    levels = dict(Level.choices)
    joined_late = _("not judged (joined after the due day)")
    owed_text = MissingWords()
    zone = local_zone()
    periods = {}
    loads = json.loads

    def local_time(moment):
        return moment.astimezone(zone).replace(tzinfo=None) if moment else None

    with planned_for_every_row():
        for (number, name, department, position, level, plan, period_id, joined, completed, video, document,
             played_ms, offline, live, total, target, owed, required_total, required_done, credits, complete,
             compliant, consequences, score, missing, joined_after_due) in rows.values_list(
                *PERSON_COLUMNS).iterator(chunk_size=5000):
            period = periods.get(period_id)
            if period is None:
                found = PlanPeriod.objects.select_related("plan").get(pk=period_id)
                period = periods[period_id] = period_text(found.plan.period_type, found.starts_at, found.ends_at)
            yield [number, name, department, position, str(levels.get(level, level)), plan, period,
                   local_time(joined), local_time(completed),
                   hours(video + document), hours(played_ms // 1000),
                   hours(offline), hours(live), hours(total), hours(target), hours(owed),
                   required_total, required_done, float(credits), answers[complete],
                   joined_late if joined_after_due else answers[compliant],
                   "; ".join(c.get("name", "") for c in loads(consequences)) if consequences != EMPTY_LIST else "",
                   float(score), owed_text(loads(missing)) if missing != EMPTY_LIST else ""]


def person_count(scope: Scope, filters: Filters) -> int:
    return selectors.standings(scope, filters).count()


def non_completer_filters(filters: Filters) -> Filters:
    return Filters(**{**filters.__dict__, "status": selectors.INCOMPLETE})


# ---------------------------------------------------------------- rates


def rate_headers(first: str) -> list[str]:
    return [first, _("people"), _("complete"), _("completion rate (%)"), _("target rate (%)"), _("compliant"),
            _("evaluated"), _("compliance rate (%)"), _("hours done"), _("target hours"), _("hours of target (%)"),
            _("owed hours")]


def rate_row(rate: selectors.Rate) -> list:
    from django.conf import settings

    return [rate.label, rate.people, rate.complete, rate.percent, settings.REPORTS_COMPLETION_TARGET,
            rate.compliant, rate.evaluated, rate.compliant_percent, hours(rate.done_seconds),
            hours(rate.target_seconds), rate.hours_percent, hours(rate.owed_seconds)]


def plan_rows(scope, filters):
    return [rate_row(r) for r in selectors.by_plan(selectors.FigureGroups.of(scope, filters))]


def department_rows(scope, filters):
    focus = selectors.department_focus(scope, filters)
    return [rate_row(r) for r in selectors.by_department(selectors.FigureGroups.of(scope, filters), focus)]


def month_rows(scope, filters):
    return [rate_row(r) for r in selectors.trend(scope, filters)]


def histogram_rows(scope, filters):
    histogram = selectors.hours_histogram(selectors.FigureGroups.of(scope, filters))
    return [[bucket.label, bucket.people] for bucket in histogram]


# ---------------------------------------------------------------- courses, meetings, suspicions


def course_headers() -> list[str]:
    return [_("course"), _("kind"), _("duration (min)"), _("required time (min)"), _("viewers"),
            _("average credited time (min)"), _("average watched (min)"), _("average watched share (%)"),
            _("completion rate (%)"), _("repeat-viewing rate (%)"), _("flagged")]


def course_rows(scope, filters):
    kinds = dict(CourseKind.choices)
    return [[c.course.title, str(kinds.get(c.course.kind, c.course.kind)), round(c.course.duration_seconds / 60, 1),
             round(c.required_seconds / 60, 1), c.viewers, round(c.avg_credited_seconds / 60, 1),
             round(c.avg_covered_seconds / 60, 1), c.watched_share_percent, c.completion_percent, c.repeat_percent,
             _("yes") if c.flagged else _("no")] for c in selectors.course_analytics(scope, filters)]


def retention_headers() -> list[str]:
    return [_("point of the media (%)"), _("position"), _("share of viewers (%)")]


def retention_rows(scope, filters):
    course = filters.course
    curve = selectors.retention_curve(selectors.course_progress(scope, filters), course.duration_seconds)
    return [[step, clock(course.duration_seconds * step // 100), share] for step, share in enumerate(curve.shares)]


def meeting_headers() -> list[str]:
    return [_("meeting"), _("course"), _("starts at"), _("location"), _("expected"), _("present"),
            _("present of the expected"), _("attendance rate (%)")]


def meeting_rows(scope, filters):
    return [[m.meeting.title, m.meeting.course.title, local(m.meeting.starts_at), m.meeting.location, m.expected,
             m.present, m.expected_present, m.percent] for m in selectors.meetings_this_week(scope)]


def anomaly_headers() -> list[str]:
    return [_("what"), _("time"), _("meeting"), _("people"), _("detail")]


def anomaly_rows(scope, filters) -> Iterator[list]:
    """Every suspicion of the last 30 days, as many as there are, latest first within each kind."""
    found = selectors.anomalies(scope)
    for event in found["refusals"]:
        yield [_("refused check-in"), local(event.at), event.meeting.title,
               event.employee.name if event.employee else "", str(event.reason_text)]
    for event in found["late_codes"]:
        yield [_("previous code from another network"), local(event.at), event.meeting.title,
               event.employee.name if event.employee else "", event.ip]
    for burst in found["bursts"]:
        yield [_("burst from one address"), local(burst["first"]), burst["meeting"].title,
               ", ".join(p.name for p in burst["people"]), f"{burst['ip']} × {burst['count']}"]
    for device in found["devices"]:
        yield [_("one phone, several people"), None, "", ", ".join(device["names"]),
               f"{device['device_id'][:8]}… × {device['people']}"]


def anomaly_count(scope, filters) -> int:
    return selectors.anomaly_count(selectors.anomalies(scope, shown=0))


def _length(function):
    return lambda scope, filters: len(function(scope, filters))


REPORTS = {report.key: report for report in [
    Report("people", gettext_lazy("Completion per person"), person_headers, person_rows, person_count),
    Report("non_completers", gettext_lazy("Not complete"), person_headers,
           lambda s, f: person_rows(s, non_completer_filters(f)),
           lambda s, f: person_count(s, non_completer_filters(f))),
    Report("plans", gettext_lazy("Completion by plan"), lambda: rate_headers(_("plan")), plan_rows,
           _length(plan_rows)),
    Report("departments", gettext_lazy("Completion by department"), lambda: rate_headers(_("department")),
           department_rows, _length(department_rows)),
    Report("months", gettext_lazy("Completion by month"), lambda: rate_headers(_("month")), month_rows,
           _length(month_rows)),
    Report("hours", gettext_lazy("Hours distribution"), lambda: [_("hours"), _("people")], histogram_rows,
           _length(histogram_rows)),
    Report("courses", gettext_lazy("Course analytics"), course_headers, course_rows, _length(course_rows)),
    Report("retention", gettext_lazy("Audience retention"), retention_headers, retention_rows,
           lambda s, f: selectors.RETENTION_STEPS, needs_course=True),
    Report("meetings", gettext_lazy("Meetings this week"), meeting_headers, meeting_rows, _length(meeting_rows)),
    Report("anomalies", gettext_lazy("Proxy suspicions"), anomaly_headers, anomaly_rows, anomaly_count),
]}
FORMATS = ("xlsx", "csv")
