"""Who may see which course: training admins and auditors every course, everyone else
the published ones."""

from django.http import Http404

from learntrace.catalog.models import Course
from learntrace.org.access import roles_of


def visible_courses(user):
    courses = Course.objects.select_related("category", "credit_class")
    if roles_of(user).can_read_all:
        return courses
    return courses.filter(is_published=True)


def access_course(user, course_id) -> Course:
    try:
        return visible_courses(user).get(pk=course_id)
    except (Course.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
