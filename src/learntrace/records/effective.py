"""The effective learning facts: the records as an admin's corrections left them.

A correction is a new fact that points at what it corrects (`Correction`): credited time is
adjusted by `seconds_delta` where the corrected time counted, and a completion is voided. The
facts themselves are never edited, nor is `CourseProgress.completed_at` cleared. Every reader of
progress reads the facts through this module, so none re-applies a correction in its own way, or
forgets one."""

import operator
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear, Greatest

from learntrace.records import sums
from learntrace.records.models import (
    ArchivedHour,
    Completion,
    Correction,
    CourseProgress,
    CreditedHour,
    CreditedTime,
)


def voids() -> QuerySet:
    """The corrections that void a completion (`corrects_id` names it)."""
    return Correction.objects.filter(corrects=Correction.Target.COMPLETION, voids=True)


def voided_completions() -> QuerySet:
    """Ids of completions an admin has voided (a subquery)."""
    return voids().values("corrects_id")


def completions() -> QuerySet:
    """Completions that count: every completion but the voided ones."""
    return Completion.objects.exclude(pk__in=voided_completions())


@dataclass
class CreditedTotals:
    seconds: dict  # {(employee id, [year,] kind): seconds}, corrections added, never below zero
    last_at: dict  # {employee id: the latest credited time that counted (corrections aside)}


def credited_time(*, employee_ids, starts_at=None, ends_at=None, category_ids=(), zone=None,
                  from_facts=False) -> CreditedTotals:
    """Credited seconds with the corrections of time added, by person and kind of course, and by
    calendar year in `zone` when one is given.

    Time counts where it happened (`occurred_at`), and a correction where the time it corrects happened.
    The whole hours of the range are read from the running sums (`CreditedHour`), the rest (a range
    bounded inside an hour, years in a zone that starts them inside an hour) from the facts; archived
    beats from their own sums (`ArchivedHour`). `from_facts` reads only the facts in the table, as a
    check of the sums. A kind whose facts all credited no seconds may be absent rather than 0."""
    totals = CreditedTotals(seconds=defaultdict(int), last_at={})
    keys = ["employee_id"] + (["year"] if zone is not None else [])
    facts = CreditedTime.objects.filter(employee_id__in=employee_ids)
    first = None if starts_at is None else _hour_on_or_after(starts_at)
    last = None if ends_at is None else sums.hour_of(ends_at)
    whole_hours = first is None or last is None or first < last
    summed = not from_facts and whole_hours and (zone is None or sums.years_start_on_hours(zone))
    # The whole hours of the range, [first, last), from the sums; and always the archived beats' hours,
    # which only the sums of archived time hold (in a zone whose years start inside an hour, each such
    # hour counts in the year it starts in). Both in one statement.
    parts = []
    for table in ([CreditedHour] if summed else []) + ([ArchivedHour] if whole_hours and not from_facts else []):
        hours = table.objects.filter(employee_id__in=employee_ids)
        if first is not None:
            hours = hours.filter(hour__gte=first)
        if last is not None:
            hours = hours.filter(hour__lt=last)
        if category_ids:
            hours = hours.filter(category_id__in=category_ids)
        if zone is None:
            parts.append(hours.values("employee_id", "kind").annotate(total=Sum("seconds"), last=Max("last_at"))
                         .order_by())
        else:
            parts.append(hours.values_list("employee_id", "hour", "kind", "seconds", "last_at").order_by())
    if parts:
        rows = parts[0].union(*parts[1:], all=True)
        _add(totals, rows if zone is None else _by_year(rows, zone), keys)
    if summed:
        # From the facts only what the whole hours left out: the range's start before its first whole
        # hour and its end after its last one.
        edges = []
        if first is not None and starts_at < sums.start_of_hour(first):
            edges.append(Q(occurred_at__gte=starts_at, occurred_at__lt=sums.start_of_hour(first)))
        if last is not None and sums.start_of_hour(last) < ends_at:
            edges.append(Q(occurred_at__gte=sums.start_of_hour(last), occurred_at__lt=ends_at))
        facts = facts.filter(reduce(operator.or_, edges)) if edges else None
    else:
        if starts_at is not None:
            facts = facts.filter(occurred_at__gte=starts_at)
        if ends_at is not None:
            facts = facts.filter(occurred_at__lt=ends_at)
    if facts is not None:
        if category_ids:
            facts = facts.filter(category_id__in=category_ids)
        if zone is not None:
            facts = facts.annotate(year=ExtractYear("occurred_at", tzinfo=zone))
        _add(totals, facts.values(*keys, "kind").annotate(
            total=Sum("seconds"), last=Max("occurred_at", filter=Q(seconds__gt=0))).order_by(), keys)
    corrections = Correction.objects.filter(employee_id__in=employee_ids)
    if starts_at is not None:
        corrections = corrections.filter(occurred_at__gte=starts_at)
    if ends_at is not None:
        corrections = corrections.filter(occurred_at__lt=ends_at)
    if category_ids:
        corrections = corrections.filter(course__category_id__in=category_ids)
    if zone is not None:
        corrections = corrections.annotate(year=ExtractYear("occurred_at", tzinfo=zone))
    for row in corrections.values(*keys, "course__kind").annotate(total=Sum("seconds_delta")).order_by():
        key = tuple(row[key] for key in keys) + (row["course__kind"],)
        totals.seconds[key] = max(totals.seconds[key] + row["total"], 0)
    totals.seconds = dict(totals.seconds)
    return totals


def _by_year(hours, zone) -> list[dict]:
    """The sums' hours, (employee id, hour, kind, seconds, last_at), added up by person, calendar year
    in `zone` and kind (each hour in the year it starts in)."""
    added = {}
    for employee_id, hour, kind, seconds, last_at in hours:
        key = (employee_id, sums.start_of_hour(hour).astimezone(zone).year, kind)
        total, last = added.get(key, (0, last_at))
        added[key] = (total + seconds, max(last, last_at))
    return [{"employee_id": e, "year": y, "kind": k, "total": total, "last": last}
            for (e, y, k), (total, last) in added.items()]


def _hour_on_or_after(moment) -> int:
    hour = sums.hour_of(moment)
    return hour if sums.start_of_hour(hour) == moment else hour + 1


def _add(totals: CreditedTotals, rows, keys: list) -> None:
    for row in rows:
        totals.seconds[tuple(row[key] for key in keys) + (row["kind"],)] += row["total"]
        if row["last"] is not None:
            employee_id = row["employee_id"]
            totals.last_at[employee_id] = max(row["last"], totals.last_at.get(employee_id, row["last"]))


def course_states(rows: QuerySet | None = None) -> QuerySet:
    """People's course states (`CourseProgress`) with what counts of them: `effective_completed_at`
    (None once the completion is voided) and `effective_credited_ms` (corrections of time added)."""
    rows = CourseProgress.objects.all() if rows is None else rows
    voided = Exists(voids().filter(employee_id=OuterRef("employee_id"), course_id=OuterRef("course_id")))
    delta = (Correction.objects.filter(employee_id=OuterRef("employee_id"), course_id=OuterRef("course_id"))
             .order_by().values("employee_id").annotate(total=Sum("seconds_delta")).values("total"))
    return rows.annotate(
        effective_completed_at=Case(When(voided, then=None), default=F("completed_at"), output_field=DateTimeField()),
        effective_credited_ms=Greatest(
            F("credited_ms") + Coalesce(Subquery(delta, output_field=IntegerField()), Value(0)) * 1000, Value(0)),
    )


def completed_states() -> Q:
    """Of `course_states()`: those whose completion counts."""
    return Q(effective_completed_at__isnull=False)
