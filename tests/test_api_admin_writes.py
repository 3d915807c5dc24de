"""What an integrator does through the API that the admin pages do: courses with their credit data,
meetings, plans and publishing them, the history import (dry run and real), reviewing reflections,
and reading a person's training file. Each goes through the pages' forms and services: the same
checks, all or nothing, and the same audit entries."""

import datetime as dt
import json
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learntrace.api import tokens
from learntrace.api.models import Scope
from learntrace.api.v1.errors import invalid
from learntrace.catalog.models import Course
from learntrace.checkin.models import Meeting
from learntrace.core.models import AuditEntry
from learntrace.core.months import local_zone
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan, PeriodType, PlanDepartment, Reflection, ReflectionEvent
from learntrace.plans.selectors import current_assignments
from learntrace.records.history import HistoryImport
from learntrace.records.models import Completion, CreditedTime, Source
from learntrace.records.services import record_completion

ALL = list(Scope.values)
INVALID = invalid({}).status  # what every operation answers to values it refuses


@pytest.fixture
def token_for(db):
    def make(employee, scopes=ALL):
        return tokens.create_token(actor=None, user=employee.user, name="test", scopes=scopes, expires_days=30)[1]

    return make


def call(method, path, token, body=None, **params):
    url = f"/api/v1{path}"
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        response = Client().get(url, **headers)
    else:
        response = getattr(Client(), method)(url, data=json.dumps(body or {}), content_type="application/json",
                                             **headers)
    return response.status_code, response.json()


def audit(action, object_type):
    return list(AuditEntry.objects.filter(action=action, object_type=object_type).order_by("pk"))


def refused_fields(answer) -> set:
    assert answer["error"]["code"] == "invalid", answer
    return set(answer["error"]["fields"])


# ---------------------------------------------------------------- courses


def test_an_admin_creates_a_course_with_its_credits_and_changes_it(org, catalog, token_for):
    secret = token_for(org.admin, ["catalog:write", "catalog:read"])
    status, course = call("post", "/courses", secret, {
        "title": "Antibiotic stewardship", "kind": "offline", "category": "clinical", "duration_minutes": 90,
        "credits": 2.5, "credit_class": "cme-1", "project_number": "2026-04-01-017", "credit_hours": 1.5,
        "location": "Hall 2", "published": True})
    assert status == 201, course
    saved = Course.objects.get(pk=course["id"])
    assert (saved.duration_seconds, saved.credits, saved.credit_class, saved.credit_hours, saved.is_published,
            saved.created_by) == (5400, Decimal("2.5"), catalog.cme1, Decimal("1.5"), True, org.admin.user)
    assert course["credit_class"]["code"] == "cme-1" and course["project_number"] == "2026-04-01-017"
    [created] = audit("create", "course")
    assert created.actor == org.admin.user and created.object_id == str(saved.pk)

    status, course = call("patch", f"/courses/{saved.pk}", secret, {"credits": 3, "credit_class": "cme-2"})
    assert status == 200 and course["credits"] == 3.0 and course["credit_class"]["code"] == "cme-2"
    saved.refresh_from_db()
    assert saved.title == "Antibiotic stewardship" and saved.location == "Hall 2" and saved.duration_seconds == 5400
    [updated] = audit("update", "course")
    assert set(updated.changes) == {"credits", "credit_class"} and updated.actor == org.admin.user


def test_a_course_with_bad_values_is_refused_whole(org, catalog, token_for):
    secret = token_for(org.admin)
    status, answer = call("post", "/courses", secret, {
        "title": "No class", "kind": "video", "category": "NOPE", "duration_minutes": 10, "credits": 2})
    assert status == INVALID
    # every bad field at once: the unknown category, credits without a class, a video without a video
    assert refused_fields(answer) == {"category", "credit_class", "external_url"}
    status, answer = call("patch", f"/courses/{catalog.meeting.pk}", secret,
                          {"title": "", "completion_threshold": 101})
    assert status == INVALID and refused_fields(answer) == {"title", "completion_threshold"}
    assert Course.objects.count() == 3 and not AuditEntry.objects.filter(object_type="course").exists()
    catalog.meeting.refresh_from_db()
    assert catalog.meeting.title == "Monthly management meeting"


def test_only_admins_with_the_scope_write_courses(org, catalog, token_for):
    body = {"title": "x", "kind": "offline", "category": "clinical", "duration_minutes": 10}
    status, answer = call("post", "/courses", token_for(org.admin, ["catalog:read"]), body)
    assert (status, answer["error"]["code"]) == (403, "insufficient_scope")
    for person in (org.auditor, org.head, org.learner):
        status, answer = call("patch", f"/courses/{catalog.video.pk}", token_for(person), {"title": "x"})
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert call("patch", "/courses/999999", token_for(org.admin), {"title": "x"})[0] == 404
    assert Course.objects.count() == 3


# ---------------------------------------------------------------- meetings


def test_an_admin_schedules_a_meeting_with_its_roster_and_changes_it(org, catalog, token_for):
    secret = token_for(org.admin, ["meetings:write"])
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    status, meeting = call("post", "/meetings", secret, {
        "course_id": catalog.meeting.pk, "title": "Ward round", "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(), "roster": "people",
        "people": ["E001", "H001"], "organisers": ["H001"], "allowed_networks": ["10.8.0.0/16"]})
    assert status == 201, meeting
    saved = Meeting.objects.get(pk=meeting["id"])
    assert saved.starts_at == starts and saved.allowed_networks.strip() == "10.8.0.0/16"
    assert set(saved.roster_people.all()) == {org.learner, org.head} and list(saved.organisers.all()) == [org.head]
    assert audit("create", "meeting")[0].actor == org.admin.user

    status, meeting = call("patch", f"/meetings/{saved.pk}", secret, {"title": "Ward round (moved)",
                                                                     "people": ["E002"]})
    assert status == 200 and meeting["title"] == "Ward round (moved)"
    assert list(saved.roster_people.all()) == [org.outsider] and list(saved.organisers.all()) == [org.head]
    assert "title" in audit("update", "meeting")[0].changes


def test_a_change_of_a_meeting_with_bad_values_writes_nothing(org, catalog, token_for):
    starts = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward round", starts_at=starts,
                                     ends_at=starts + dt.timedelta(hours=1), roster=Meeting.Roster.OPEN)
    status, answer = call("patch", f"/meetings/{meeting.pk}", token_for(org.admin), {
        "title": "Moved", "ends_at": (starts - dt.timedelta(hours=1)).isoformat(), "organisers": ["NOBODY"]})
    assert status == INVALID and refused_fields(answer) == {"ends_at", "organisers"}
    meeting.refresh_from_db()
    assert meeting.title == "Ward round" and not AuditEntry.objects.filter(object_type="meeting").exists()
    status, answer = call("patch", f"/meetings/{meeting.pk}", token_for(org.head), {"title": "Moved"})
    assert (status, answer["error"]["code"]) == (403, "forbidden")


def test_a_meeting_with_bad_values_is_refused_whole(org, catalog, token_for):
    secret = token_for(org.admin)
    starts = timezone.now() + dt.timedelta(days=1)
    status, answer = call("post", "/meetings", secret, {
        "course_id": catalog.video.pk, "title": "Wrong", "starts_at": starts.isoformat(),
        "ends_at": (starts - dt.timedelta(hours=1)).isoformat(), "roster": "people", "people": ["NOBODY"],
        "allowed_networks": ["not a network"]})
    assert status == INVALID
    assert refused_fields(answer) == {"course_id", "ends_at", "people", "allowed_networks"}
    assert not Meeting.objects.exists() and not AuditEntry.objects.filter(object_type="meeting").exists()
    for person in (org.auditor, org.head):
        status, answer = call("post", "/meetings", token_for(person), {"title": "x"})
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = call("post", "/meetings", token_for(org.admin, ["checkin:write"]), {"title": "x"})
    assert (status, answer["error"]["code"]) == (403, "insufficient_scope")


# ---------------------------------------------------------------- plans


def test_an_admin_creates_changes_and_publishes_a_plan(org, catalog, token_for):
    secret = token_for(org.admin, ["plans:write", "plans:read"])
    status, plan = call("post", "/plans", secret, {
        "name": "Yearly credits", "period_type": "yearly", "starts_on": f"{timezone.now().year}-01-01",
        "due_day": 31, "departments_with_subtree": ["IM"], "levels": ["manager"], "people": ["E002"],
        "required_courses": [catalog.video.pk], "min_total_hours": 10,
        "credit_targets": [{"credit_class": "cme-1", "min_credits": 5}, {"category": "clinical", "min_credits": 2}]})
    assert status == 201, plan
    saved = LearningPlan.objects.get(pk=plan["id"])
    assert (saved.status, saved.min_total_seconds, saved.audience_levels) == ("draft", 36000, ["manager"])
    assert [(d.department, d.include_subtree) for d in saved.audience_departments.all()] == [(org.a, True)]
    assert list(saved.audience_employees.all()) == [org.outsider]
    assert [item.course for item in saved.items.all()] == [catalog.video]
    assert {(t.credit_class, t.category, t.min_credits) for t in saved.credit_targets.all()} == {
        (catalog.cme1, None, Decimal("5")), (None, catalog.clinical, Decimal("2"))}
    assert [e.action for e in AuditEntry.objects.filter(object_type="learningplan").order_by("pk")] == [
        "create", "configure"]

    status, plan = call("patch", f"/plans/{saved.pk}", secret, {"credit_targets": [{"min_credits": 12}],
                                                               "name": "Yearly CME"})
    assert status == 200 and plan["name"] == "Yearly CME"
    assert [(t.credit_class, t.min_credits) for t in saved.credit_targets.all()] == [(None, Decimal("12"))]
    assert list(saved.audience_employees.all()) == [org.outsider]  # what was not sent stays
    assert saved.items.count() == 1

    status, plan = call("post", f"/plans/{saved.pk}/publish", secret)
    assert status == 200 and plan["status"] == "published"
    assert current_assignments(org.learner).filter(period__plan=saved).exists()
    assert call("post", f"/plans/{saved.pk}/publish", secret)[0] == 200  # a retry changes nothing
    assert len(audit("publish", "learningplan")) == 1


def test_a_plan_with_bad_values_is_refused_whole(org, catalog, token_for):
    secret = token_for(org.admin)
    status, answer = call("post", "/plans", secret, {
        "name": "Monthly", "period_type": "monthly", "starts_on": "2026-01-01",
        "departments_only": ["NOPE"], "people": ["NOBODY"],
        "credit_targets": [{"credit_class": "cme-1", "min_credits": -1}]})
    assert status == INVALID
    assert refused_fields(answer) == {"due_day", "departments_only", "people", "credit_targets[0].min_credits"}
    for person in (org.auditor, org.head):
        status, answer = call("post", "/plans", token_for(person), {"name": "x"})
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = call("post", "/plans", token_for(org.admin, ["plans:read"]), {"name": "x"})
    assert (status, answer["error"]["code"]) == (403, "insufficient_scope")
    assert not LearningPlan.objects.exists() and not AuditEntry.objects.filter(object_type="learningplan").exists()


def test_a_published_plan_must_stay_publishable(org, catalog, token_for):
    secret = token_for(org.admin)
    status, plan = call("post", "/plans", secret, {"name": "Monthly video", "period_type": "monthly",
                                                   "starts_on": "2026-01-01", "due_day": 25,
                                                   "departments_only": ["IM"], "min_video_hours": 1})
    assert call("post", f"/plans/{plan['id']}/publish", secret)[0] == 200
    status, answer = call("patch", f"/plans/{plan['id']}", secret, {"departments_only": [], "name": "Renamed"})
    assert status == INVALID and refused_fields(answer) == {"request"}
    saved = LearningPlan.objects.get(pk=plan["id"])
    assert saved.name == "Monthly video" and saved.audience_departments.count() == 1
    assert not audit("update", "learningplan")


def test_publishing_a_plan_that_asks_nothing_is_refused(org, token_for):
    plan = LearningPlan.objects.create(name="Empty", period_type=PeriodType.MONTHLY, starts_on=dt.date(2026, 1, 1),
                                       due_day=25)
    status, answer = call("post", f"/plans/{plan.pk}/publish", token_for(org.admin))
    assert status == INVALID and refused_fields(answer) == {"plan"}
    plan.refresh_from_db()
    assert plan.status == "draft" and not plan.periods.exists() and not audit("publish", "learningplan")
    for person in (org.auditor, org.head):
        assert call("post", f"/plans/{plan.pk}/publish", token_for(person))[0] == 403
    assert call("post", f"/plans/{plan.pk}/publish", token_for(org.admin, ["plans:read"]))[0] == 403


# ---------------------------------------------------------------- reflections


@pytest.fixture
def submitted(org, catalog):
    now = timezone.now()
    plan = LearningPlan.objects.create(name="Onboarding", period_type=PeriodType.ONE_OFF,
                                       starts_on=(now - dt.timedelta(days=3)).date(),
                                       ends_on=(now + dt.timedelta(days=30)).date(), requires_reflection=True)
    PlanDepartment.objects.create(plan=plan, department=org.a, include_subtree=True)
    plan_services.publish_plan(actor=None, plan=plan, now=now)
    assignment = current_assignments(org.learner).get(period__plan=plan)
    return plan_services.reflection_save(assignment=assignment, text="What I learnt.", submit=True, now=now)


def test_an_admin_reads_the_queue_and_returns_then_accepts_a_reflection(org, submitted, token_for):
    secret = token_for(org.admin, ["plans:read", "plans:write"])
    status, page = call("get", "/reflections", secret)
    assert status == 200 and [(r["id"], r["employee_no"], r["text"]) for r in page["items"]] == [
        (submitted.pk, "E001", "What I learnt.")]
    status, answer = call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "return"})
    assert status == INVALID and refused_fields(answer) == {"comment"}
    status, answer = call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "maybe"})
    assert status == INVALID and refused_fields(answer) == {"decision"}
    assert not ReflectionEvent.objects.exclude(kind="submitted").exists()

    status, reflection = call("post", f"/reflections/{submitted.pk}/review", secret,
                              {"decision": "return", "comment": "Say what you will change."})
    assert status == 200 and reflection["status"] == "returned"
    assert call("get", "/reflections", secret, status="returned")[1]["items"][0]["id"] == submitted.pk
    status, answer = call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "accept"})
    assert (status, answer["error"]["code"]) == (409, "not_submitted")

    plan_services.reflection_save(assignment=submitted.assignment, text="What I learnt, and will change.",
                                  submit=True)
    status, reflection = call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "accept"})
    assert status == 200 and reflection["status"] == "accepted" and reflection["reviewed_at"]
    assert call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "accept"})[0] == 200
    assert [e.action for e in AuditEntry.objects.filter(object_type="reflection").order_by("pk")] == [
        "return_reflection", "accept_reflection"]
    assert list(ReflectionEvent.objects.order_by("pk").values_list("kind", flat=True)) == [
        "submitted", "returned", "submitted", "accepted"]


def test_only_admins_review_reflections(org, submitted, token_for):
    for person in (org.auditor, org.head, org.learner):
        secret = token_for(person)
        assert call("get", "/reflections", secret)[1]["error"]["code"] == "forbidden"
        status, answer = call("post", f"/reflections/{submitted.pk}/review", secret, {"decision": "accept"})
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = call("post", f"/reflections/{submitted.pk}/review", token_for(org.admin, ["plans:read"]),
                          {"decision": "accept"})
    assert (status, answer["error"]["code"]) == (403, "insufficient_scope")
    submitted.refresh_from_db()
    assert submitted.status == Reflection.Status.SUBMITTED


# ---------------------------------------------------------------- history import


HISTORY = [
    {"employee_no": "E001", "course": "Leading a ward", "date": "2019-05-06", "hours": 3, "note": "paper sheet"},
    {"employee_no": "E002", "course": "#{sepsis}", "date": "2020-01-10", "completed": False},
]


def history_rows(catalog):
    return [dict(row, course=row["course"].format(sepsis=catalog.clinical_video.pk)) for row in HISTORY]


def test_a_dry_run_counts_then_the_import_records_once(org, catalog, token_for):
    secret = token_for(org.admin, ["records:write"])
    status, result = call("post", "/records/history", secret, {"rows": history_rows(catalog)}, dry_run="true")
    assert (status, result) == (200, {"dry_run": True, "rows": 2, "facts": 2, "completions": 1, "unchanged": 0})
    assert not CreditedTime.objects.exists() and not Completion.objects.exists()
    assert not AuditEntry.objects.filter(action="import_history").exists()

    status, result = call("post", "/records/history", secret, {"rows": history_rows(catalog)})
    assert (status, result["facts"], result["completions"]) == (200, 2, 1)
    fact = CreditedTime.objects.get(employee=org.learner)
    assert (fact.seconds, fact.source, fact.details["note"]) == (3 * 3600, Source.IMPORTED, "paper sheet")
    completion = Completion.objects.get()
    assert (completion.employee, completion.credits, completion.source) == (org.learner, Decimal("2"), "imported")
    [entry] = AuditEntry.objects.filter(action="import_history")
    assert entry.actor == org.admin.user and entry.changes["facts"] == [None, 2]

    status, result = call("post", "/records/history", secret, {"rows": history_rows(catalog)})
    assert (status, result["unchanged"], result["facts"]) == (200, 2, 0)
    assert CreditedTime.objects.count() == 2


def test_the_history_import_lists_every_error_and_writes_nothing(org, catalog, token_for):
    secret = token_for(org.admin)
    rows = history_rows(catalog) + [
        {"employee_no": "NOBODY", "course": "No such course", "date": "2020-01-10", "credit_class": "x"},
        {"employee_no": "E001", "course": "Sepsis update", "date": "2020-01-10", "hours": 5000}]
    for dry_run in ("true", "false"):
        status, answer = call("post", "/records/history", secret, {"rows": rows}, dry_run=dry_run)
        assert status == INVALID
        assert refused_fields(answer) == {"rows[2].employee_no", "rows[2].course", "rows[2].credit_class",
                                          "rows[3].hours"}
    status, answer = call("post", "/records/history", secret, {"rows": [{"employee_no": "E001"}]})
    assert status == INVALID and refused_fields(answer) == {"rows[0].course", "rows[0].date"}
    assert not CreditedTime.objects.exists() and not Completion.objects.exists()
    assert not AuditEntry.objects.filter(action="import_history").exists()
    for person in (org.auditor, org.head):
        assert call("post", "/records/history", token_for(person), {"rows": rows})[1]["error"]["code"] == "forbidden"
    status, answer = call("post", "/records/history", token_for(org.admin, ["records:read"]), {"rows": rows})
    assert answer["error"]["code"] == "insufficient_scope"


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_rows_at_once_record_them_once(org, catalog, token_for, monkeypatch):
    """Both calls are held at the point where each reads what was imported before: without turns,
    both would find nothing and write every row twice."""
    secret = token_for(org.admin)
    meeting_point = threading.Barrier(2, timeout=3)
    read_tables = HistoryImport._tables

    def held(importer):
        try:
            meeting_point.wait()
        except threading.BrokenBarrierError:  # the other call waits for its turn, as it should
            pass
        return read_tables(importer)

    monkeypatch.setattr(HistoryImport, "_tables", held)
    answers = []

    def send():
        try:
            answers.append(call("post", "/records/history", secret, {"rows": history_rows(catalog)})[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200]
    assert CreditedTime.objects.count() == 2 and Completion.objects.count() == 1


# ---------------------------------------------------------------- training file


def test_a_training_file_for_those_who_may_see_the_person(org, catalog, token_for):
    now = timezone.now()
    record_completion(employee=org.learner, course=catalog.video, completed_at=now, source="manual")
    status, found = call("get", "/people/E001/training-file", token_for(org.head, ["records:read"]))
    assert status == 200 and found["employee_no"] == "E001" and found["department_code"] == "IM-CARD"
    assert [(c["course_title"], c["credits"], c["credit_class"], c["voided"]) for c in found["completions"]] == [
        ("Leading a ward", 2.0, "cme-1", False)]
    [year] = found["years"]
    assert year["year"] == now.astimezone(local_zone()).year
    assert [(row["credit_class"], row["credits"]) for row in year["credits"]] == [("I类学分", 2.0)]
    assert found["unsealed_facts"] == 1 and found["seal"] is None
    assert call("get", "/people/E001/training-file", token_for(org.learner))[0] == 200
    assert call("get", "/people/E001/training-file", token_for(org.outsider))[0] == 404
    assert call("get", "/people/E001/training-file", token_for(org.admin, ["plans:read"]))[0] == 403


def test_an_admin_in_the_browser_writes_with_the_csrf_token_only(org, catalog):
    body = json.dumps({"title": "Fire drill", "kind": "offline", "category": "management", "duration_minutes": 30})
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.admin.user)
    refused = client.post("/api/v1/courses", data=body, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
    assert Course.objects.count() == 3
    client.get(reverse("catalog:courses"))
    created = client.post("/api/v1/courses", data=body, content_type="application/json",
                          HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert created.status_code == 201 and Course.objects.filter(title="Fire drill").exists()
