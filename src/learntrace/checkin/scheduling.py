"""Scheduling a meeting in one step: the meeting, and, when it counts for a course that does not
exist yet, that course, both written with their audit entries in one transaction."""

from django.db import transaction

from learntrace.catalog.models import Course
from learntrace.checkin.forms import MeetingForm
from learntrace.checkin.models import Meeting
from learntrace.core.audit import record_change, save_with_audit


@transaction.atomic
def save_meeting(*, actor, form: MeetingForm) -> Meeting:
    """Save a validated MeetingForm. A new course lasts as long as the meeting is scheduled for,
    takes the meeting's location, and is published, so that learners see what they attended."""
    cleaned = form.cleaned_data
    if cleaned["course_source"] == MeetingForm.NEW:
        meeting = form.instance
        course = Course.objects.create(
            title=cleaned["new_course_title"] or meeting.title, kind=cleaned["new_course_kind"],
            category=cleaned["new_course_category"], credits=cleaned["new_course_credits"],
            credit_class=cleaned["new_course_credit_class"], location=meeting.location,
            duration_seconds=max(1, int((meeting.ends_at - meeting.starts_at).total_seconds())),
            is_published=True, created_by=actor if actor is not None and actor.is_authenticated else None)
        record_change(actor=actor, action="create", obj=course, summary=course.title)
        meeting.course = course
        form.cleaned_data["course"] = course  # so the meeting's audit entry names it
    return save_with_audit(actor=actor, form=form, summary=lambda meeting: meeting.title)
