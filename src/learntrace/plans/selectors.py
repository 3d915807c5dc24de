"""Reading plans for people: which assignments are open or past, and this year's credits.

What each person has done and still owes in a period is computed by `plans.progress`."""

import datetime as dt

from django.db.models import Q, Sum
from django.utils import timezone

from learntrace.plans.models import Assignment
from learntrace.plans.progress import year_bounds
from learntrace.records import effective


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
    return list(effective.completions().filter(employee=employee, completed_at__gte=start, completed_at__lt=end)
                .values("credit_class__name", "credit_class__name_en", "category__name", "category__name_en")
                .annotate(total=Sum("credits")).order_by("credit_class__name", "category__name"))

