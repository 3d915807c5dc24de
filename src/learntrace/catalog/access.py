"""Who may see which course: training admins and auditors every course, everyone else
the published ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from learntrace.catalog.models import Course
from learntrace.org.access import roles_of

if TYPE_CHECKING:
    from learntrace.org.access import User


def visible_courses(user: User) -> QuerySet[Course]:
    courses = Course.objects.select_related("category", "credit_class")
    if roles_of(user).can_read_all:
        return courses
    return courses.filter(is_published=True)


def access_course(user: User, course_id: int | str) -> Course:
    try:
        course: Course = visible_courses(user).get(pk=course_id)
        return course
    except (Course.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
