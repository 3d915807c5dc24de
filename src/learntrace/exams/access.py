"""Who may see which sitting and result: the person themselves, and whoever may read that person
(training admins, auditors, the heads of their department)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from learntrace.exams.models import ExamResult, Sitting
from learntrace.org.access import roles_of, visible_employees
from learntrace.org.models import Employee

if TYPE_CHECKING:
    from learntrace.org.access import User


def learner(user: User) -> Employee:
    """The employee of a signed-in user; 404 for accounts that are nobody's (they sit no exams)."""
    employee_id = roles_of(user).employee_id
    if employee_id is None:
        raise Http404
    return Employee.objects.get(pk=employee_id)


def own_sitting(user: User, sitting_id: int) -> Sitting:
    """Only the person sitting an exam may answer in it."""
    employee_id = roles_of(user).employee_id
    sitting = Sitting.objects.select_related("exam").filter(pk=sitting_id, employee_id=employee_id).first()
    if employee_id is None or sitting is None:
        raise Http404
    return sitting


def access_result(user: User, result_id: int) -> ExamResult:
    result = ExamResult.objects.select_related("exam", "employee", "sitting").filter(pk=result_id).first()
    if result is None or not visible_employees(user).filter(pk=result.employee_id).exists():
        raise Http404
    return result
