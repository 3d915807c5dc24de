"""The meetings of an offline or live course, for the catalogue's course page (catalog sits below checkin)."""

from django import template

from learntrace.catalog.models import CourseKind
from learntrace.checkin.models import Attendance, Meeting

register = template.Library()


@register.simple_tag
def course_meetings(course, employee_id) -> list:
    """The course's first 50 meetings, each with the person's attendance as `my_attendance`."""
    if course.kind not in (CourseKind.OFFLINE, CourseKind.LIVE):
        return []
    meetings = list(Meeting.objects.filter(course=course).order_by("starts_at")[:50])
    mine = {a.meeting_id: a for a in Attendance.objects.filter(meeting__in=meetings, employee_id=employee_id)
            .defer("signature")}
    for meeting in meetings:
        meeting.my_attendance = mine.get(meeting.pk)
    return meetings
