"""The REST API: tokens and scopes, what each role's token sees, upserts, records by cursor,
check-in by badge, the browser's beat, errors in one shape, and the OpenAPI document."""

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learntrace.api import tokens
from learntrace.api.models import ApiToken, Scope, TokenUse
from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
from learntrace.org.models import Employee
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan, PeriodType, PlanDepartment
from learntrace.records.models import CreditedTime
from learntrace.records.services import record_completion, void_completion

ALL = list(Scope.values)


@pytest.fixture
def token_for(db):
    def make(employee, scopes=ALL, days=30):
        _row, secret = tokens.create_token(actor=None, user=employee.user, name="test", scopes=scopes,
                                           expires_days=days)
        return secret

    return make


def call(method, path, token=None, body=None, **params):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    url = f"/api/v1{path}"
    if body is not None:
        response = getattr(client, method)(url, data=json.dumps(body), content_type="application/json", **headers)
    else:
        response = getattr(client, method)(url, params, **headers)
    return response.status_code, response.json()


def numbers(items):
    return sorted(item["employee_no"] for item in items)


# ---------------------------------------------------------------- tokens


def test_a_token_is_stored_hashed_and_works_until_revoked(org, token_for):
    secret = token_for(org.admin)
    row = ApiToken.objects.get()
    assert secret not in row.secret_hash and len(row.secret_hash) == 64 and secret.startswith(f"lt_{row.prefix}_")
    assert call("get", "/departments", secret)[0] == 200
    tokens.revoke_token(actor=org.admin.user, token=row)
    status, body = call("get", "/departments", secret)
    assert status == 401 and body["error"]["code"] == "token_revoked"


def test_it_refuses_expired_unknown_and_missing_tokens(org, token_for):
    secret = token_for(org.admin, days=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        status, body = call("get", "/departments", secret)
    assert status == 401 and body["error"]["code"] == "token_expired"
    assert call("get", "/departments", secret[:-2] + "xx")[1]["error"]["code"] == "invalid_token"
    status, body = call("get", "/departments")
    assert status == 401 and set(body["error"]) == {"code", "message", "fields"}


def test_every_use_is_logged_without_personal_data(org, token_for):
    secret = token_for(org.admin)
    call("get", f"/employees/{org.learner.employee_no}", secret)
    call("get", "/employees/NOBODY", secret)
    uses = list(TokenUse.objects.order_by("id").values_list("method", "endpoint", "status"))
    assert uses == [("GET", "/api/v1/employees/<employee_no>", 200), ("GET", "/api/v1/employees/<employee_no>", 404)]
    assert ApiToken.objects.get().last_used_at is not None
    assert tokens.forget_old_uses(now=timezone.now() + dt.timedelta(days=179)) == 0
    assert tokens.forget_old_uses(now=timezone.now() + dt.timedelta(days=181)) == 2


def test_a_token_without_a_scope_is_refused_that_operation(org, token_for):
    secret = token_for(org.admin, scopes=["org:read"])
    status, body = call("get", "/records/completions", secret)
    assert status == 403 and body["error"]["code"] == "insufficient_scope"
    assert call("get", "/employees", secret)[0] == 200
    for path in ("/courses", "/plans", "/records/attendance", "/meetings", "/people/E001/progress"):
        assert call("get", path, secret)[0] == 403, path
    assert call("put", "/employees", secret, {"employees": [{"employee_no": "E001", "name": "x"}]})[0] == 403


def test_the_rate_limit_answers_429_in_the_error_shape(org, token_for, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    secret = token_for(org.admin)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, 5, tzinfo=dt.UTC), tick=False):
        assert [call("get", "/categories", secret)[0] for _ in range(3)] == [200, 200, 429]
        response = Client().get("/api/v1/categories", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response["Retry-After"] == "55" and response.json()["error"]["code"] == "rate_limited"
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 1, 5, tzinfo=dt.UTC), tick=False):
        assert call("get", "/categories", secret)[0] == 200


def test_errors_speak_the_language_the_system_asks_for(org, token_for):
    secret = token_for(org.admin, scopes=["org:read"])
    for language, message in (("en", "This token lacks the scope records:read."),
                              ("zh-hans", "该令牌缺少权限范围 records:read。")):
        response = Client().get("/api/v1/records/completions", HTTP_AUTHORIZATION=f"Bearer {secret}",
                                HTTP_ACCEPT_LANGUAGE=language)
        assert response.json()["error"]["message"] == message


def test_the_token_command_prints_a_working_token(org, capsys):
    from django.core.management import call_command

    call_command("token", "create", "--user", "head", "--scope", "org:read", "--scope", "records:read",
                 "--expires-days", "7")
    secret = capsys.readouterr().out.strip()
    row = ApiToken.objects.get()
    assert row.scopes == ["org:read", "records:read"] and row.user == org.head.user
    assert (row.expires_at - timezone.now()).days == 6
    assert call("get", "/employees", secret)[0] == 200
    call_command("token", "revoke", secret)
    assert call("get", "/employees", secret)[0] == 401


# ---------------------------------------------------------------- organisation


def test_each_role_reads_only_the_people_it_may(org, token_for):
    everyone = {"H001", "E001", "E002", "A001", "U001"}
    assert set(numbers(call("get", "/employees", token_for(org.admin))[1]["items"])) == everyone
    assert set(numbers(call("get", "/employees", token_for(org.auditor))[1]["items"])) == everyone
    head = token_for(org.head)
    assert numbers(call("get", "/employees", head)[1]["items"]) == ["E001", "H001"]
    assert sorted(d["code"] for d in call("get", "/departments", head)[1]) == ["IM", "IM-CARD"]
    assert call("get", "/employees/E002", head)[0] == 404
    learner = token_for(org.learner)
    assert numbers(call("get", "/employees", learner)[1]["items"]) == ["E001"]
    assert call("get", "/departments", learner)[1] == []
    body = call("get", "/employees/E001", head)[1]
    assert body["department_code"] == "IM-CARD" and "national_id" not in body


def test_employees_page_by_cursor_and_updated_since(org, token_for):
    secret = token_for(org.admin)
    status, first = call("get", "/employees", secret, limit=2)
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    seen = numbers(first["items"])
    cursor = first["next_cursor"]
    while cursor:
        page = call("get", "/employees", secret, limit=2, cursor=cursor)[1]
        seen += numbers(page["items"])
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(Employee.objects.values_list("employee_no", flat=True))
    later = timezone.now() + dt.timedelta(seconds=1)
    Employee.objects.filter(pk=org.outsider.pk).update(updated_at=later + dt.timedelta(seconds=1))
    assert numbers(call("get", "/employees", secret, updated_since=later.isoformat())[1]["items"]) == ["E002"]
    status, body = call("get", "/employees", secret, cursor="not-a-cursor")
    assert status == 400 and "cursor" in body["error"]["fields"]


def test_an_admin_upserts_employees_by_number_keeping_what_is_left_out(org, token_for):
    secret = token_for(org.admin, scopes=["org:write"])
    status, body = call("put", "/employees", secret, {"employees": [
        {"employee_no": "E001", "position": "Cardiologist", "tags": ["新任经理"]},
        {"employee_no": "N100", "name": "New nurse", "department_code": "SURG", "level": "staff",
         "national_id": "11010519491231002X", "hire_date": "2026-03-01"},
    ]})
    assert status == 200, body
    assert body["counts"]["employees_created"] == 1 and body["counts"]["employees_updated"] == 1
    learner = Employee.objects.get(employee_no="E001")
    assert (learner.position, learner.tag_list, learner.name, learner.department.code) == (
        "Cardiologist", ["新任经理"], "Learner in cardiology", "IM-CARD")
    nurse = Employee.objects.get(employee_no="N100")
    assert nurse.national_id == "11010519491231002X" and nurse.user.username == "N100"
    again = call("put", "/employees", secret, {"employees": [{"employee_no": "E001", "position": "Cardiologist"}]})
    assert again[1]["counts"]["employees_unchanged"] == 1


def test_an_upsert_with_one_bad_value_writes_nothing(org, token_for):
    secret = token_for(org.admin, scopes=["org:write"])
    status, body = call("put", "/employees", secret, {"employees": [
        {"employee_no": "N200", "name": "Fine", "department_code": "SURG"},
        {"employee_no": "N201", "name": "Bad mail", "department_code": "SURG", "email": "not-an-address"},
        {"employee_no": "N202", "name": "Nowhere", "department_code": "NOPE"},
    ]})
    assert status == 400
    assert set(body["error"]["fields"]) == {"employees[1].email", "employees[2].department_code"}
    assert not Employee.objects.filter(employee_no__startswith="N2").exists()
    status, body = call("put", "/employees", secret, {"employees": [{"employee_no": "E001", "level": "boss"}]})
    assert status == 400 and "employees[0].level" in body["error"]["fields"]


def test_departments_upsert_by_code_and_refuse_a_cycle(org, token_for):
    secret = token_for(org.admin, scopes=["org:write", "org:read"])
    status, body = call("put", "/departments", secret, {"departments": [
        {"code": "ICU", "name": "Intensive care", "parent_code": "IM"}, {"code": "SURG", "name": "Surgery (all)"}]})
    assert status == 200 and body["counts"]["departments_created"] == 1
    assert {d["code"]: d["parent_code"] for d in call("get", "/departments", secret)[1]}["ICU"] == "IM"
    status, body = call("put", "/departments", secret, {"departments": [{"code": "IM", "parent_code": "IM-CARD"}]})
    assert status == 400 and "departments[0].parent_code" in body["error"]["fields"]
    status, body = call("put", "/departments", secret, {"departments": [{"code": "X"}]}, dry_run=True)
    assert status == 400 and "departments[0].name" in body["error"]["fields"]


def test_only_admins_write_the_organisation(org, token_for):
    for person in (org.head, org.auditor, org.learner):
        status, body = call("put", "/employees", token_for(person),
                            {"employees": [{"employee_no": "E001", "name": "Renamed"}]})
        assert status == 403 and body["error"]["code"] == "forbidden"
    assert Employee.objects.get(employee_no="E001").name == "Learner in cardiology"


def test_unknown_paths_and_methods_answer_in_the_error_shape(org, token_for):
    secret = token_for(org.admin)
    status, body = call("get", "/no-such-thing", secret)
    assert status == 404 and body["error"]["code"] == "not_found"
    response = Client().delete("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
    assert "PUT" in response["Allow"]


def test_listing_records_takes_a_bounded_number_of_queries(org, catalog, meeting, token_for,
                                                           django_assert_max_num_queries):
    admin = token_for(org.admin)
    for person in (org.learner, org.head, org.admin, org.auditor):
        record_completion(employee=person, course=catalog.video, completed_at=timezone.now(), source="manual")
        call("post", f"/meetings/{meeting.pk}/checkins", admin, {"employee_no": person.employee_no})
    for path in ("/records/completions", "/records/attendance"):
        with django_assert_max_num_queries(9):  # one of them counts the request for the rate limit
            status, body = call("get", path, admin)
        assert status == 200 and len(body["items"]) >= 2


def test_validation_errors_name_the_field(org, token_for):
    secret = token_for(org.admin)
    status, body = call("put", "/employees", secret, {"employees": [{"name": "no number"}]})
    assert status == 400 and "employees[0].employee_no" in body["error"]["fields"]
    status, body = call("get", "/employees", secret, limit=0)
    assert status == 400 and "limit" in body["error"]["fields"]
    response = Client().put("/api/v1/employees", data="{not json", content_type="application/json",
                            HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


# ---------------------------------------------------------------- catalogue, plans, compliance


def test_catalogue_hides_unpublished_courses_from_learners(org, catalog, token_for):
    catalog.clinical_video.is_published = False
    catalog.clinical_video.save()
    titles = [c["title"] for c in call("get", "/courses", token_for(org.learner))[1]["items"]]
    assert "Sepsis update" not in titles and "Leading a ward" in titles
    admin_items = call("get", "/courses", token_for(org.admin), kind="video")[1]["items"]
    assert {c["title"] for c in admin_items} == {"Leading a ward", "Sepsis update"}
    ward = next(c for c in admin_items if c["title"] == "Leading a ward")
    assert ward["credits"] == 2.0 and ward["credit_class"]["code"] == "cme-1"
    assert [c["code"] for c in call("get", "/credit-classes", token_for(org.learner))[1]] == ["cme-1", "cme-2"]


@pytest.fixture
def plan(org, catalog):
    plan = LearningPlan.objects.create(name="Monthly management", period_type=PeriodType.MONTHLY,
                                       starts_on=timezone.localdate().replace(day=1), due_day=25,
                                       min_total_seconds=3600)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plan_services.publish_plan(actor=None, plan=plan)
    return plan


def test_progress_of_a_person_for_those_who_may_see_them(org, catalog, plan, token_for):
    status, body = call("get", "/people/E001/progress", token_for(org.head))
    assert status == 200 and body[0]["plan"]["name"] == "Monthly management"
    assert body[0]["total"] == {"done_seconds": 0, "target_seconds": 3600, "owed_seconds": 3600}
    assert call("get", "/people/E002/progress", token_for(org.head))[0] == 404
    assert call("get", "/people/E001/progress", token_for(org.learner))[0] == 200
    assert call("get", "/people/E001/progress", token_for(org.outsider))[0] == 404
    assert [p["name"] for p in call("get", "/plans", token_for(org.learner))[1]] == ["Monthly management"]
    periods = call("get", f"/plans/{plan.pk}/periods", token_for(org.admin))[1]
    assert len(periods) == 1 and periods[0]["plan_id"] == plan.pk


def test_compliance_outcomes_and_consequences_per_period_for_payroll(org, catalog, token_for):
    from zoneinfo import ZoneInfo

    from learntrace.compliance import services as compliance
    from learntrace.compliance.models import Consequence, Rule
    from learntrace.records.services import record_credited_time

    def at(*args):
        return dt.datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))

    plan = LearningPlan.objects.create(name="Monthly 2 hours", period_type=PeriodType.MONTHLY,
                                       starts_on=dt.date(2026, 1, 1), due_day=25, min_total_seconds=7200)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 2, 9))
    rule = Rule.objects.create(plan=plan, name="Monthly hours")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Management allowance")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="score", name="Performance", value=-5)
    record_credited_time(employee=org.learner, course=catalog.video, seconds=7200, occurred_at=at(2026, 3, 3, 10))
    compliance.refresh_changed(now=at(2026, 3, 20, 9))
    payroll = token_for(org.admin, ["compliance:read"])
    path = f"/compliance/plans/{plan.pk}/standings"
    before = call("get", path, payroll, on="2026-03-10")[1]
    assert before["evaluated"] is False and {s["compliant"] for s in before["items"]} == {None}
    judged_at = at(2026, 3, 26, 0, 5)
    compliance.process_periods(now=judged_at)
    status, body = call("get", path, payroll, on="2026-03-10")
    assert status == 200 and body["evaluated"] is True and len(body["items"]) == 5
    outcomes = {s["employee_no"]: s for s in body["items"]}
    assert outcomes["E001"]["compliant"] is True and outcomes["E001"]["consequences"] == []
    outsider = outcomes["E002"]
    assert outsider["compliant"] is False and outsider["score"] == -5
    assert {c["name"] for c in outsider["consequences"]} == {"Management allowance", "Performance"}
    # What changed with the judgement is found by updated_since.
    since = (judged_at - dt.timedelta(seconds=1)).isoformat()
    assert len(call("get", path, payroll, on="2026-03-10", updated_since=since)[1]["items"]) == 5
    head = call("get", path, token_for(org.head), on="2026-03-10")[1]
    assert numbers(head["items"]) == ["E001", "H001"]
    assert call("get", path, token_for(org.admin, ["records:read"]), on="2026-03-10")[0] == 403
    assert call("get", path, payroll, on="2025-01-01")[0] == 404


# ---------------------------------------------------------------- records


def test_completions_by_cursor_scoped_and_voids_shown(org, catalog, token_for):
    first = record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(),
                              source="manual")
    record_completion(employee=org.outsider, course=catalog.video, completed_at=timezone.now(), source="manual")
    record_completion(employee=org.head, course=catalog.meeting, completed_at=timezone.now(), source="manual")
    void_completion(actor=org.admin.user, completion=first, reason="entered twice")
    head = token_for(org.head, ["records:read"])
    page = call("get", "/records/completions", head, limit=1)[1]
    items = page["items"] + call("get", "/records/completions", head, cursor=page["next_cursor"])[1]["items"]
    assert numbers(items) == ["E001", "H001"]
    voided = next(i for i in items if i["employee_no"] == "E001")
    assert voided["voided"] is True and voided["credit_class"] == "cme-1" and voided["credits"] == 2.0
    assert len(call("get", "/records/completions", token_for(org.admin))[1]["items"]) == 3
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert call("get", "/records/completions", token_for(org.admin), updated_since=future)[1]["items"] == []


@pytest.fixture
def meeting(org, catalog):
    now = timezone.now()
    item = Meeting.objects.create(course=catalog.meeting, title="Monthly management meeting", starts_at=now,
                                  ends_at=now + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner])
    item.organisers.set([org.head])
    return item


def test_a_badge_reader_checks_people_in_under_the_meeting_rules(org, meeting, token_for):
    kiosk = token_for(org.head, ["checkin:write"])
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "E001"})
    assert status == 200, body
    assert body["status"] == "on_time" and body["method"] == "manual" and body["credited_seconds"] == 7200
    assert CheckInEvent.objects.filter(meeting=meeting, employee=org.learner, kind="check_in").count() == 1
    assert CreditedTime.objects.get(employee=org.learner).seconds == 7200
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "E002"})
    assert status == 409 and body["error"]["code"] == "not_on_roster"
    assert CheckInEvent.objects.filter(employee=org.outsider, kind="refused").exists()
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "NOPE"})
    assert status == 400 and "employee_no" in body["error"]["fields"]
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", kiosk,
                        {"employee_no": "H001", "at": "2020-01-01T00:00:00Z"})
    assert status == 400 and "at" in body["error"]["fields"]
    assert [m["id"] for m in call("get", "/meetings", kiosk)[1]] == [meeting.pk]


def test_only_organisers_check_people_in(org, meeting, token_for):
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", token_for(org.learner), {"employee_no": "E001"})
    assert status == 404  # a learner does not see the meeting at all
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", token_for(org.auditor), {"employee_no": "E001"})
    assert status == 403
    assert not Attendance.objects.exists()
    assert call("post", f"/meetings/{meeting.pk}/checkins", token_for(org.admin), {"employee_no": "E001"})[0] == 200


def test_attendance_by_cursor_follows_its_latest_change(org, meeting, token_for):
    kiosk = token_for(org.head, ["checkin:write", "records:read"])
    call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "E001"})
    call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "H001"})
    page = call("get", "/records/attendance", kiosk)[1]
    assert numbers(page["items"]) == ["E001", "H001"] and page["next_cursor"] is None
    since = timezone.now() + dt.timedelta(seconds=1)
    with time_machine.travel(since + dt.timedelta(minutes=5)):
        assert call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "E001", "mode": "out"})[0] == 200
    changed = call("get", "/records/attendance", kiosk, updated_since=since.isoformat())[1]["items"]
    assert numbers(changed) == ["E001"] and changed[0]["checked_out_at"]
    assert call("get", "/records/attendance", token_for(org.outsider))[1]["items"] == []


def test_a_void_moves_the_completion_into_the_next_incremental_read(org, catalog, token_for):
    first = record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(),
                              source="manual")
    record_completion(employee=org.head, course=catalog.video, completed_at=timezone.now(), source="manual")
    admin = token_for(org.admin, ["records:read"])
    since = timezone.now() + dt.timedelta(seconds=1)
    assert call("get", "/records/completions", admin, updated_since=since.isoformat())[1]["items"] == []
    with time_machine.travel(since + dt.timedelta(minutes=5)):
        void = void_completion(actor=org.admin.user, completion=first, reason="entered for the wrong person")
    changed = call("get", "/records/completions", admin, updated_since=since.isoformat())[1]["items"]
    assert [(c["employee_no"], c["voided"], c["change"]) for c in changed] == [("E001", True, "voided")]
    moment = dt.datetime.fromisoformat
    assert moment(changed[0]["voided_at"]) == moment(changed[0]["updated_at"])
    assert abs(moment(changed[0]["voided_at"]) - void.recorded_at) < dt.timedelta(milliseconds=1)
    assert abs(moment(changed[0]["recorded_at"]) - first.recorded_at) < dt.timedelta(milliseconds=1)
    everything = call("get", "/records/completions", admin)[1]["items"]
    assert [(c["employee_no"], c["change"], c["voided_at"]) for c in everything] == [
        ("H001", "recorded", None), ("E001", "voided", changed[0]["voided_at"])]  # in the order of their change


def test_a_time_correction_moves_the_attendance_into_the_next_incremental_read(org, meeting, token_for):
    from learntrace.records.services import correct_time

    kiosk = token_for(org.head, ["checkin:write", "records:read"])
    call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "E001"})
    call("post", f"/meetings/{meeting.pk}/checkins", kiosk, {"employee_no": "H001"})
    since = timezone.now() + dt.timedelta(seconds=1)
    with time_machine.travel(since + dt.timedelta(minutes=5)):
        correct_time(actor=org.admin.user, fact=CreditedTime.objects.get(employee=org.learner), seconds_delta=-1800,
                     reason="left half an hour early")
    changed = call("get", "/records/attendance", kiosk, updated_since=since.isoformat())[1]["items"]
    assert [(a["employee_no"], a["credited_seconds"], a["change"]) for a in changed] == [("E001", 5400, "corrected")]
    assert changed[0]["corrected_at"] == changed[0]["updated_at"]
    rows = {a["employee_no"]: a for a in call("get", "/records/attendance", kiosk)[1]["items"]}
    assert (rows["H001"]["credited_seconds"], rows["H001"]["change"], rows["H001"]["corrected_at"]) == (
        7200, "attendance", None)


# ---------------------------------------------------------------- the browser's beat


def test_the_beat_endpoint_needs_the_session_and_its_csrf_token(org, catalog):
    from learntrace.tracking.services import start_attempt

    attempt = start_attempt(employee=org.learner, course=catalog.video)
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner.user)
    beat = {"attempt": str(attempt.pk), "beat": {"seq": 1, "segments": [[0, 10]], "elapsed_ms": 10000}}
    refused = client.post("/api/v1/tracking/beat", data=json.dumps(beat), content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    client.get(reverse("catalog:course", args=[catalog.video.pk]))
    csrf = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/tracking/beat", data=json.dumps(beat), content_type="application/json",
                           HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200 and accepted.json()["duplicate"] is False
    form = client.post("/api/v1/tracking/beat", {"attempt": str(attempt.pk), "beat": json.dumps(beat["beat"]),
                                                 "csrfmiddlewaretoken": csrf})
    assert form.status_code == 200 and form.json()["duplicate"] is True
    assert Client().post("/api/v1/tracking/beat", data=json.dumps(beat),
                         content_type="application/json").status_code == 401


def test_the_course_page_points_the_player_at_the_api(org, catalog, client_for):
    catalog.video.video_file.name = "courses/videos/ward.webm"  # only a playable course is tracked
    catalog.video.save()
    page = client_for(org.learner).get(reverse("catalog:course", args=[catalog.video.pk])).content.decode()
    assert 'data-beat-url="/api/v1/tracking/beat"' in page


# ---------------------------------------------------------------- the document


def test_the_openapi_document_is_valid_and_the_docs_need_no_cdn(client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert "/api/v1/records/completions" in document["paths"]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_times_with_offsets_postgresql_refuses_are_taken_in_utc(org, meeting, token_for):
    secret = token_for(org.admin)
    status, body = call("get", "/employees", secret, updated_since="0443-05-02T20:30:09.651098-20:45")
    assert status == 200 and len(body["items"]) == 5
    at = (timezone.now() - dt.timedelta(minutes=1)).astimezone(dt.timezone(-dt.timedelta(hours=20, minutes=45)))
    status, body = call("post", f"/meetings/{meeting.pk}/checkins", secret,
                        {"employee_no": "E001", "at": at.isoformat()})
    assert status == 200 and body["checked_in_at"].endswith("Z")
    status, body = call("get", "/employees", secret, updated_since="0001-01-01T00:00:00+10:00")
    assert status == 400 and "updated_since" in body["error"]["fields"]


OPERATIONS = [  # (method, path, body, the scope it needs)
    ("get", "/departments", None, "org:read"),
    ("get", "/employees", None, "org:read"),
    ("get", "/employees/E001", None, "org:read"),
    ("put", "/departments", {"departments": [{"code": "IM", "name": "Internal medicine"}]}, "org:write"),
    ("put", "/employees", {"employees": [{"employee_no": "E001", "position": "Nurse"}]}, "org:write"),
    ("get", "/courses", None, "catalog:read"),
    ("get", "/categories", None, "catalog:read"),
    ("get", "/credit-classes", None, "catalog:read"),
    ("get", "/plans", None, "plans:read"),
    ("get", "/people/E001/progress", None, "plans:read"),
    ("get", "/records/completions", None, "records:read"),
    ("get", "/records/attendance", None, "records:read"),
    ("post", "/meetings/{meeting}/checkins", {"employee_no": "E001"}, "checkin:write"),
]
# What each role's token (with every scope) gets from each operation.
BY_ROLE = {
    "admin": [200] * 13,
    "auditor": [200, 200, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 403],
    "head": [200, 200, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200],
    "learner": [200, 200, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 404],
    "outsider": [200, 200, 404, 403, 403, 200, 200, 200, 200, 404, 200, 200, 404],
}


def test_each_operation_needs_its_scope(org, meeting, token_for):
    for method, path, body, scope in OPERATIONS:
        path = path.format(meeting=meeting.pk)
        status, answer = call(method, path, token_for(org.admin, [s for s in ALL if s != scope]), body)
        assert (status, answer["error"]["code"]) == (403, "insufficient_scope"), (method, path)
        assert call(method, path, token_for(org.admin, [scope]), body)[0] == 200, (method, path)


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_each_operation_for_each_role(org, meeting, token_for, role):
    secret = token_for(getattr(org, role))
    answers = [call(method, path.format(meeting=meeting.pk), secret, body)[0] for method, path, body, _s in OPERATIONS]
    assert answers == BY_ROLE[role]


# ---------------------------------------------------------------- failures outside the operations


@pytest.fixture
def use_log_refuses_writes(db):
    """A trigger makes the database refuse every row of the token use log."""
    from django.db import connection

    table = TokenUse._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION refuse_token_use() RETURNS trigger LANGUAGE plpgsql AS "
                           "$$ BEGIN RAISE EXCEPTION 'the use log is full'; END $$")
            cursor.execute(f"CREATE TRIGGER refuse_token_use BEFORE INSERT ON {table} "
                           "FOR EACH ROW EXECUTE FUNCTION refuse_token_use()")
        else:
            cursor.execute(f"CREATE TRIGGER refuse_token_use BEFORE INSERT ON {table} "
                           "BEGIN SELECT RAISE(ABORT, 'the use log is full'); END")


def test_a_use_log_that_cannot_be_written_answers_the_error_shape(org, token_for, use_log_refuses_writes):
    secret = token_for(org.admin)
    response = Client(raise_request_exception=False).get("/api/v1/departments", HTTP_ACCEPT_LANGUAGE="en",
                                                          HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "server_error", "message": "Something went wrong on the server.",
                                         "fields": {}}}
    assert TokenUse.objects.count() == 0 and ApiToken.objects.get().last_used_at is None  # nothing half written


def test_answers_made_before_the_api_are_in_the_error_shape_too(org, token_for):
    secret = token_for(org.admin)
    # Django refuses a host it does not serve before any view runs.
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "en"
    response = client.get("/api/v1/departments", HTTP_HOST="evil.example", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "invalid", "message": "This request cannot be answered.",
                                         "fields": {}}}
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/api/v1/departments", HTTP_HOST="evil.example")
    assert response.status_code == 400 and response.json()["error"]["message"] == "无法处理此请求。"
