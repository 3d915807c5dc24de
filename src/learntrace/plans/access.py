"""Who may see whose learning: the person, their department heads, training admins
and auditors (see org.access); only the person writes their own reflection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from learntrace.org.access import roles_of, visible_employees
from learntrace.plans.models import Assignment, LearningPlan

if TYPE_CHECKING:
    from learntrace.org.access import User


def access_assignment(user: User, assignment_id: int | str, *, own: bool = False) -> Assignment:
    """An assignment the user may read; with own=True, only the user's own (to write)."""
    try:
        assignment = Assignment.objects.select_related("period__plan", "employee__department").get(pk=assignment_id)
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if assignment.employee_id == roles_of(user).employee_id:
        return assignment
    if own:
        raise PermissionDenied
    if not visible_employees(user).filter(pk=assignment.employee_id).exists():
        raise Http404
    return assignment


def visible_plans(user: User) -> QuerySet[LearningPlan]:
    """Every plan for training admins and auditors; otherwise the plans of the people the user sees."""
    plans = LearningPlan.objects.order_by("name", "pk")
    if roles_of(user).can_read_all:
        return plans
    assigned = Assignment.objects.filter(employee__in=visible_employees(user)).values("period__plan_id")
    return plans.filter(pk__in=assigned)
