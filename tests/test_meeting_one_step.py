"""Scheduling a meeting in one step: its course chosen, or created with it in the same submit and the
same transaction; refused input writes neither."""

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse

from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Meeting
from learntrace.core.models import AuditEntry


def meeting_form(**overrides):
    data = {"title": "Ward safety briefing", "starts_at": "2026-03-10T09:00", "ends_at": "2026-03-10T10:30",
            "location": "Lecture hall B", "roster": "open", "opens_minutes_before": "15",
            "closes_minutes_after": "30", "late_after_minutes": "5", "credit": "scheduled",
            "rotation_seconds": "10"}
    data.update(overrides)
    return data


def test_a_meeting_is_created_with_its_new_course(org, client_for, catalog):
    response = client_for(org.admin).post(reverse("checkin:meeting_new"), meeting_form(
        course_source="new", new_course_title="", new_course_kind="offline",
        new_course_category=catalog.clinical.pk, new_course_credits="1.5", new_course_credit_class=catalog.cme2.pk))
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("checkin:meeting", args=[meeting.pk])
    course = meeting.course
    assert (course.title, course.kind, course.category, course.credits, course.credit_class) == (
        "Ward safety briefing", CourseKind.OFFLINE, catalog.clinical, Decimal("1.50"), catalog.cme2)
    assert (course.duration_seconds, course.location, course.is_published) == (90 * 60, "Lecture hall B", True)
    assert course.created_by == org.admin.user
    entries = [(e.object_type, e.action, e.summary)
               for e in AuditEntry.objects.filter(object_type__in=["course", "meeting"]).order_by("id")]
    assert entries == [("course", "create", "Ward safety briefing"), ("meeting", "create", "Ward safety briefing")]


def test_a_new_live_course_takes_its_own_title(org, client_for, catalog):
    client_for(org.admin).post(reverse("checkin:meeting_new"), meeting_form(
        course_source="new", new_course_title="Quality circle", new_course_kind="live",
        new_course_category=catalog.management.pk, new_course_credits="0"))
    course = Meeting.objects.get().course
    assert (course.title, course.kind, course.credits) == ("Quality circle", CourseKind.LIVE, Decimal("0"))


def test_an_existing_course_is_chosen_without_creating_one(org, client_for, catalog):
    courses = Course.objects.count()
    response = client_for(org.admin).post(reverse("checkin:meeting_new"), meeting_form(
        course_source="existing", course=catalog.meeting.pk, new_course_title="ignored",
        new_course_category=catalog.clinical.pk))
    assert response.status_code == 302
    assert Meeting.objects.get().course == catalog.meeting and Course.objects.count() == courses


def checked_course_source(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="course_source" value="(\w+)"[^>]* checked>', page)


def test_the_new_meeting_page_starts_with_a_new_course(org, client_for, catalog):
    page = client_for(org.admin).get(reverse("checkin:meeting_new")).text
    assert checked_course_source(page) == ["new"]
    assert 'data-shown-by="course_source" data-shown-for="new"' in page


def refused(client, data, *messages):
    courses, entries = Course.objects.count(), AuditEntry.objects.count()
    response = client.post(reverse("checkin:meeting_new"), data)
    assert response.status_code == 200
    for message in messages:
        assert message in response.text
    # Nothing half-written: neither the course nor the meeting.
    assert Course.objects.count() == courses and not Meeting.objects.exists()
    assert AuditEntry.objects.count() == entries


def test_bad_input_writes_neither_the_course_nor_the_meeting(org, client_for, catalog):
    client = client_for(org.admin)
    refused(client, meeting_form(course_source="new"), "Choose the category of the new course.")
    refused(client, meeting_form(course_source="new", new_course_category=catalog.clinical.pk,
                                 new_course_credits="2"), "Say which class of credits the course awards.")
    refused(client, meeting_form(course_source="new", new_course_category=catalog.clinical.pk,
                                 new_course_credits="-1"), "greater than or equal to 0")
    refused(client, meeting_form(course_source="new", new_course_category=catalog.clinical.pk,
                                 new_course_kind="video"), "Select a valid choice")
    refused(client, meeting_form(course_source="new", new_course_category=catalog.clinical.pk,
                                 ends_at="2026-03-10T08:00"), "The meeting must end after it starts.")
    refused(client, meeting_form(course_source="existing"),
            "Choose the course this meeting counts for, or create a new one.")
    # A video course is not one a meeting can count for.
    refused(client, meeting_form(course_source="existing", course=catalog.video.pk), "Select a valid choice")


def test_only_training_admins_schedule_meetings(org, client_for, catalog):
    for who in (org.learner, org.head, org.auditor):
        client = client_for(who)
        assert client.get(reverse("checkin:meeting_new")).status_code == 403
        response = client.post(reverse("checkin:meeting_new"), meeting_form(
            course_source="new", new_course_category=catalog.clinical.pk))
        assert response.status_code == 403
    assert not Meeting.objects.exists() and not Course.objects.filter(title="Ward safety briefing").exists()


def test_an_edited_meeting_keeps_its_course_unless_told(org, client_for, catalog):
    start = dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)
    meeting = Meeting.objects.create(course=catalog.meeting, title="March meeting", starts_at=start,
                                     ends_at=start + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
    client = client_for(org.admin)
    page = client.get(reverse("checkin:meeting_edit", args=[meeting.pk])).text
    assert checked_course_source(page) == ["existing"]
    response = client.post(reverse("checkin:meeting_edit", args=[meeting.pk]), meeting_form(
        course_source="existing", course=catalog.meeting.pk, title="March meeting, moved"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.title, meeting.course) == ("March meeting, moved", catalog.meeting)
