"""What a person has done in one course, for the catalogue's course page (catalog sits below records)."""

from django import template

from learntrace.records import effective
from learntrace.records.models import QuizAttempt

register = template.Library()


@register.simple_tag
def course_progress(course, employee_id):
    """The person's progress in the course as corrections left it (effective_completed_at), or None."""
    if employee_id is None:
        return None
    return effective.course_states().filter(employee_id=employee_id, course=course).first()


@register.simple_tag
def quiz_attempts(quiz, employee_id) -> list:
    if quiz is None or employee_id is None:
        return []
    return list(QuizAttempt.objects.filter(quiz=quiz, employee_id=employee_id))
