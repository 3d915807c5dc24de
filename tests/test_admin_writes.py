"""Every admin create, update and delete page writes through a service that records the audit
entry in the same transaction: the entry names the action, the object and each changed field."""

import datetime as dt

from django.urls import reverse

from learntrace.api.models import RecordStore
from learntrace.catalog.models import Category, Question, Quiz
from learntrace.checkin.models import Meeting
from learntrace.compliance.models import Rule
from learntrace.core.models import AuditEntry
from learntrace.plans.models import LearningPlan


def entries(object_type):
    return list(AuditEntry.objects.filter(object_type=object_type).order_by("pk")
                .values_list("action", "summary", "changes"))


def test_a_category_created_then_renamed_is_in_the_audit_trail_with_its_changes(org, client_for):
    admin = client_for(org.admin)
    admin.post(reverse("catalog:categories"), {"code": "ethics", "name": "伦理", "name_en": "Ethics",
                                               "is_active": "on"})
    category = Category.objects.get()
    admin.post(reverse("catalog:category_edit", args=[category.pk]),
               {"code": "ethics", "name": "医学伦理", "name_en": "Ethics", "is_active": "on"})
    (created, _, _), (updated, summary, changes) = entries("category")
    assert (created, updated, summary) == ("create", "update", "医学伦理")
    assert changes == {"name": ["伦理", "医学伦理"]}


def test_a_quiz_and_its_questions_are_audited(org, client_for, catalog):
    admin = client_for(org.admin)
    admin.post(reverse("catalog:quiz_edit", args=[catalog.video.pk]),
               {"save_quiz": "1", "pass_mark": "80", "attempts_allowed": "2"})
    admin.post(reverse("catalog:quiz_edit", args=[catalog.video.pk]),
               {"add_question": "1", "text": "When?", "kind": "single", "choice_0": "Now", "correct_0": "on",
                "choice_1": "Later"})
    question = Question.objects.get()
    admin.post(reverse("catalog:question_delete", args=[catalog.video.pk, question.pk]))
    assert [(action, summary) for action, summary, _ in entries("quiz")] == [("create", "Leading a ward")]
    assert [(action, summary) for action, summary, _ in entries("question")] == [
        ("create", "Leading a ward: When?"), ("delete", "Leading a ward: When?")]
    assert not Question.objects.exists() and Quiz.objects.get().pass_mark == 80


def test_a_meeting_saves_its_roster_and_organisers_with_the_entry(org, client_for, catalog):
    client_for(org.admin).post(reverse("checkin:meeting_new"), {
        "course": catalog.meeting.pk, "title": "March meeting", "starts_at": "2026-03-10T09:00",
        "ends_at": "2026-03-10T11:00", "roster": "people", "people": "E001, E002", "organiser_numbers": "H001",
        "opens_minutes_before": "15", "closes_minutes_after": "30", "late_after_minutes": "5",
        "credit": "scheduled", "rotation_seconds": "10",
    })
    meeting = Meeting.objects.get()
    assert sorted(meeting.roster_people.values_list("employee_no", flat=True)) == ["E001", "E002"]
    assert list(meeting.organisers.values_list("employee_no", flat=True)) == ["H001"]
    [(action, summary, changes)] = entries("meeting")
    assert (action, summary) == ("create", "March meeting")
    assert changes["organiser_numbers"] == [None, "Head of medicine (H001)"]


def test_opening_check_out_is_audited(org, client_for, catalog):
    start = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    meeting = Meeting.objects.create(course=catalog.meeting, title="March meeting", starts_at=start,
                                     ends_at=start + dt.timedelta(hours=2))
    admin = client_for(org.admin)
    admin.post(reverse("checkin:toggle_checkout", args=[meeting.pk]))
    admin.post(reverse("checkin:toggle_checkout", args=[meeting.pk]))
    assert [(a, s) for a, s, _ in entries("meeting")] == [("open_checkout", "March meeting"),
                                                          ("close_checkout", "March meeting")]
    assert Meeting.objects.get().checkout_open is False


def test_compliance_rules_are_created_and_deleted_with_their_entries(org, client_for):
    plan = LearningPlan.objects.create(name="Monthly", period_type="monthly", starts_on=dt.date(2026, 1, 1))
    admin = client_for(org.admin)
    admin.post(reverse("compliance:rule_new", args=[plan.pk]), {"name": "Allowance", "window": "period",
                                                                 "counts_hours": "on"})
    rule = Rule.objects.get()
    admin.post(reverse("compliance:rule_delete", args=[rule.pk]))
    assert [a for a, _, _ in entries("rule")] == ["create", "delete"]
    assert not Rule.objects.exists()


def test_a_store_password_change_is_audited_without_its_value(org, client_for):
    client_for(org.admin).post(reverse("api:store_new"), {
        "name": "LRS", "endpoint": "https://lrs.example.com/xapi/", "username": "u", "password": "s3cret",
        "is_active": "on"})
    [(action, summary, changes)] = entries("recordstore")
    assert (action, summary, changes["password"]) == ("create", "LRS", ["***", "***"])
    assert "s3cret" not in str(AuditEntry.objects.values_list("changes", flat=True)[0])
    assert RecordStore.objects.get().password == "s3cret"
