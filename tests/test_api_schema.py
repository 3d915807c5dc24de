"""Property-based calls of every API operation (schemathesis), in-process through the WSGI
application against the test database: valid and invalid input, with an admin's, an auditor's,
a department head's and a learner's token, on data shaped like the demo's (one-off plans without
a due day, empty optional fields, dates not set yet), must never give a server error or a
response that contradicts the schema."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from learntrace.api import tokens
from learntrace.api.models import Scope, TokenUse
from learntrace.catalog.models import Course, CourseKind
from learntrace.certificates.models import CertificateKind
from learntrace.certificates.services import issue, revoke
from learntrace.checkin import services as checkin
from learntrace.checkin.models import CheckInEvent, Meeting
from learntrace.compliance.services import refresh_open
from learntrace.org.models import Employee, Level
from learntrace.plans.models import (
    LearningPlan,
    PeriodType,
    PlanCreditTarget,
    PlanDepartment,
    PlanItem,
    Reflection,
)
from learntrace.plans.selectors import current_assignments
from learntrace.plans.services import publish_plan, reflection_save
from learntrace.records.services import record_completion, record_credited_time

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


@pytest.fixture
def connection_kept_open():
    """The WSGI handler closes the connection after each request; the test database lives in it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_like(org, catalog):
    """What the demo holds, with every optional value left empty somewhere: a one-off plan (no due
    day, a required course, a reflection), a yearly plan without a due day whose credit target names
    no class or category, a monthly plan, standings, completions of a course without a credit class,
    a meeting without a location where one person was excused (no check-in time), and a person with
    no position, e-mail, mobile or hire date."""
    now = timezone.now()
    Employee.objects.filter(pk=org.learner.pk).update(position="", email="", mobile="", hire_date=None)
    no_class = Course.objects.create(title="Hand hygiene", kind=CourseKind.VIDEO, category=catalog.clinical,
                                     duration_seconds=600, is_published=True)
    one_off = LearningPlan.objects.create(
        name="Onboarding", period_type=PeriodType.ONE_OFF, starts_on=(now - dt.timedelta(days=3)).date(),
        ends_on=(now + dt.timedelta(days=30)).date(), due_day=None, min_total_seconds=3600,
        requires_reflection=True)
    yearly = LearningPlan.objects.create(name="Credits", period_type=PeriodType.YEARLY,
                                         starts_on=dt.date(now.year, 1, 1), due_day=None,
                                         audience_levels=[Level.MANAGER, Level.DEPARTMENT_HEAD])
    PlanCreditTarget.objects.create(plan=yearly, min_credits=Decimal("25"))
    monthly = LearningPlan.objects.create(name="Monthly", period_type=PeriodType.MONTHLY,
                                          starts_on=dt.date(now.year, 1, 1), due_day=25, min_video_seconds=3600)
    PlanItem.objects.create(plan=one_off, course=no_class, position=0)
    for plan in (one_off, monthly):
        PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    for plan in (one_off, yearly, monthly):
        publish_plan(actor=None, plan=plan, now=now)
    record_credited_time(employee=org.learner, course=no_class, seconds=600, occurred_at=now)
    record_completion(employee=org.learner, course=no_class, completed_at=now, source="manual")
    record_completion(employee=org.head, course=catalog.video, completed_at=now, source="manual")
    reflection_save(assignment=current_assignments(org.learner).get(period__plan=one_off), text="x" * 300,
                    submit=False, now=now)
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward round", starts_at=now,
                                     ends_at=now + dt.timedelta(hours=1), roster=Meeting.Roster.OPEN)
    checkin.manual(meeting=meeting, employee=org.learner, actor=org.head.user, reason="Night shift",
                   kind=CheckInEvent.Kind.EXCUSED)
    checkin.manual(meeting=meeting, employee=org.head, actor=org.head.user, reason="Badge forgotten",
                   kind=CheckInEvent.Kind.MANUAL_IN)
    refresh_open(now=now)
    # Certificates: one that never expires and has no exam result, one revoked.
    lifelong = CertificateKind.objects.create(title="Lifelong", plan=yearly)
    yearly_kind = CertificateKind.objects.create(title="Yearly", plan=monthly, valid_months=12)
    issue(kind=lifelong, employee_id=org.learner.pk, issued_at=now)
    revoke(actor=org.admin.user, certificate=issue(kind=yearly_kind, employee_id=org.head.pk, issued_at=now),
           reason="Issued in error")
    return SimpleNamespace(one_off=one_off, yearly=yearly, monthly=monthly, meeting=meeting)


def test_no_operation_fails_or_breaks_its_schema(org, catalog, demo_like, settings, connection_kept_open):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    secrets = [tokens.create_token(actor=None, user=person.user, name="fuzz", scopes=list(Scope.values),
                                   expires_days=1)[1] for person in (org.admin, org.auditor, org.head)]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                for secret in secrets:
                    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

            call()
    # Every operation was really called (each call is logged), but the beat: it takes the session only.
    assert TokenUse.objects.order_by().values("method", "endpoint").distinct().count() == len(operations) - 1
    assert TokenUse.objects.filter(status=200).count() > 100


def test_every_read_of_demo_like_data_keeps_its_schema(org, catalog, demo_like, settings, connection_kept_open):
    """Each read operation with ids that exist, for every role: the fuzzing above rarely hits them."""
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    reads = {operation.path.removeprefix("/api/v1"): operation for operation in
             (result.ok() for result in schema.get_all_operations()) if operation.method == "get"}
    plans = (demo_like.one_off, demo_like.yearly, demo_like.monthly)
    calls = [("/departments", {}, {}), ("/employees", {}, {}), ("/courses", {}, {}), ("/categories", {}, {}),
             ("/credit-classes", {}, {}), ("/plans", {}, {}), ("/records/completions", {}, {}),
             ("/records/attendance", {}, {}), ("/records/exam-results", {}, {}),
             ("/meetings", {}, {"since": "2000-01-01"}), ("/certificates", {}, {})]
    calls += [("/plans/{plan_id}/periods", {"plan_id": plan.pk}, {}) for plan in plans]
    calls += [("/compliance/plans/{plan_id}/standings", {"plan_id": plan.pk}, {}) for plan in plans]
    calls += [(path, {"employee_no": person.employee_no}, {}) for person in (org.learner, org.head, org.outsider)
              for path in ("/employees/{employee_no}", "/people/{employee_no}/progress",
                           "/people/{employee_no}/training-file")]
    calls += [("/reflections", {}, {"status": status}) for status in ("draft", "submitted")]
    assert {path for path, _p, _q in calls} == set(reads)  # a new read operation joins this list
    answered = {}
    for person in (org.admin, org.auditor, org.head, org.learner):
        secret = tokens.create_token(actor=None, user=person.user, name="reads", scopes=list(Scope.values),
                                     expires_days=1)[1]
        for path, path_parameters, query in calls:
            case = reads[path].Case(path_parameters=path_parameters, query=query)
            response = case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
            answered[(person.user.username, path, str(path_parameters))] = response.status_code
    admin_plans = Client().get("/api/v1/plans", HTTP_AUTHORIZATION=f"Bearer {secret_of(org.admin)}").json()
    assert {(plan["name"], plan["due_day"]) for plan in admin_plans} == {
        ("Onboarding", None), ("Credits", None), ("Monthly", 25)}
    for username in ("admin", "auditor", "head"):
        assert answered[(username, "/plans", "{}")] == 200
        for plan in plans:
            assert answered[(username, "/compliance/plans/{plan_id}/standings", str({"plan_id": plan.pk}))] == 200
        assert answered[(username, "/people/{employee_no}/progress", str({"employee_no": "E001"}))] == 200


def test_writes_to_objects_that_exist_keep_their_schema(org, catalog, demo_like, settings, connection_kept_open):
    """The changes of a course, meeting or plan, publishing and reviewing, fuzzed on ids that exist
    (the fuzzing above rarely hits one): the page forms behind them answer every value without a
    server error, with an admin's and a department head's token."""
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    operations = {(operation.method, operation.path.removeprefix("/api/v1")): operation for operation in
                  (result.ok() for result in schema.get_all_operations())}
    reflection = Reflection.objects.get()
    existing = {("patch", "/courses/{course_id}"): {"course_id": catalog.meeting.pk},
                ("patch", "/meetings/{meeting_id}"): {"meeting_id": demo_like.meeting.pk},
                ("patch", "/plans/{plan_id}"): {"plan_id": demo_like.one_off.pk},
                ("post", "/plans/{plan_id}/publish"): {"plan_id": demo_like.monthly.pk},
                ("post", "/reflections/{reflection_id}/review"): {"reflection_id": reflection.pk}}
    secrets = [secret_of(person) for person in (org.admin, org.head)]
    for key, path_parameters in existing.items():
        fuzz_on(operations[key], path_parameters, secrets)
    assert TokenUse.objects.filter(method="PATCH", status=200).exists()


def fuzz_on(operation, path_parameters: dict, secrets: list[str]) -> None:
    @hypothesis_settings(max_examples=15, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def call(case):
        case.path_parameters = path_parameters
        for secret in secrets:
            case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

    call()


def secret_of(employee) -> str:
    return tokens.create_token(actor=None, user=employee.user, name="check", scopes=list(Scope.values),
                               expires_days=1)[1]
