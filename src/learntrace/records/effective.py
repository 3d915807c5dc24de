"""The effective learning facts: the records as an admin's corrections left them.

A correction is a new fact that points at what it corrects (`Correction`): credited time is
adjusted by `seconds_delta` where the corrected time counted, and a completion is voided. The
facts themselves are never edited, nor is `CourseProgress.completed_at` cleared. Every reader of
progress reads the facts through this module, so none re-applies a correction in its own way, or
forgets one."""

from collections import defaultdict
from dataclasses import dataclass

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

from learntrace.records.models import Completion, Correction, CourseProgress, CreditedTime


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


def credited_time(*, employee_ids, starts_at=None, ends_at=None, category_ids=(), zone=None) -> CreditedTotals:
    """Credited seconds with the corrections of time added, by person and kind of course, and by
    calendar year in `zone` when one is given.

    Time counts where it happened (`occurred_at`), and a correction where the time it corrects happened."""
    facts = CreditedTime.objects.filter(employee_id__in=employee_ids)
    corrections = Correction.objects.filter(employee_id__in=employee_ids)
    if starts_at is not None:
        facts, corrections = facts.filter(occurred_at__gte=starts_at), corrections.filter(occurred_at__gte=starts_at)
    if ends_at is not None:
        facts, corrections = facts.filter(occurred_at__lt=ends_at), corrections.filter(occurred_at__lt=ends_at)
    if category_ids:
        facts = facts.filter(category_id__in=category_ids)
        corrections = corrections.filter(course__category_id__in=category_ids)
    keys = ["employee_id"]
    if zone is not None:
        facts = facts.annotate(year=ExtractYear("occurred_at", tzinfo=zone))
        corrections = corrections.annotate(year=ExtractYear("occurred_at", tzinfo=zone))
        keys.append("year")
    totals = CreditedTotals(seconds=defaultdict(int), last_at={})
    for row in facts.values(*keys, "kind").annotate(
            total=Sum("seconds"), last=Max("occurred_at", filter=Q(seconds__gt=0))).order_by():
        totals.seconds[tuple(row[key] for key in keys) + (row["kind"],)] += row["total"]
        if row["last"] is not None:
            employee_id = row["employee_id"]
            totals.last_at[employee_id] = max(row["last"], totals.last_at.get(employee_id, row["last"]))
    for row in corrections.values(*keys, "course__kind").annotate(total=Sum("seconds_delta")).order_by():
        key = tuple(row[key] for key in keys) + (row["course__kind"],)
        totals.seconds[key] = max(totals.seconds[key] + row["total"], 0)
    totals.seconds = dict(totals.seconds)
    return totals


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
