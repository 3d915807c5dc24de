"""Every URL of the site, for every role: a page of the training admin (or of readers, or of department
heads) is never answered to someone with less, no GET answers 500 for anyone, no log line of the walk holds
personal data, and no POST without the CSRF token is accepted. The walk reads the URL resolver, so a page
added later is walked too, and must be named below if a lesser role may open it."""

import logging
import re
import uuid

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from exam_fixtures import all_right, make_exam_centre
from learntrace.org.access import visible_employees
from learntrace.org.models import Employee

# The object each path parameter names. "other": a row of someone outside the demo head's subtree and
# not the demo learner, so that their own pages answer 404 to both.
PARAMETERS = {
    "employee_id": ("org.Employee", "other"), "department_id": ("org.Department", None),
    "grant_id": ("org.RoleGrant", None), "batch_id": ("accounts.LinkBatch", None),
    "identity_id": ("accounts.LinkedIdentity", None), "course_id": ("catalog.Course", None),
    "question_id": ("catalog.Question", None), "category_id": ("catalog.Category", None),
    "credit_class_id": ("catalog.CreditClass", None), "plan_id": ("plans.LearningPlan", None),
    "assignment_id": ("plans.Assignment", "other"), "reflection_id": ("plans.Reflection", None),
    "placed_id": ("tracking.PlacedQuestion", None), "meeting_id": ("checkin.Meeting", None),
    "attendance_id": ("checkin.Attendance", "other"), "import_id": ("onlineattendance.ParticipantImport", None),
    "exam_id": ("exams.Exam", None), "sitting_id": ("exams.Sitting", "other"),
    "result_id": ("exams.ExamResult", "other"), "bank_id": ("exams.QuestionBank", None),
    "certificate_id": ("certificates.Certificate", "other"), "kind_id": ("certificates.CertificateKind", None),
    "rule_id": ("compliance.Rule", None), "consequence_id": ("compliance.Consequence", None),
    "period_id": ("plans.PlanPeriod", None), "rule_set_id": ("creditrules.CreditRuleSet", None),
    "declaration_id": ("declarations.Declaration", "other"), "fact_id": ("records.OutsideCredit", "other"),
    "notification_id": ("notify.Notification", "other"), "channel_id": ("notify.Channel", None),
    "schedule_id": ("notify.ReminderSchedule", None), "delivery_id": ("notify.Delivery", None),
    "token_id": ("api.ApiToken", None), "store_id": ("api.RecordStore", None),
    "export_id": ("api.CreditExport", None),
}
VALUES = {"year": "2026", "token": "not-a-token", "ticket": "not-a-ticket", "code": "NOTACODE",
          "report": "people", "file_format": "csv", "name": "duration", "employee_no": "T-HR-01"}
MISSING = "999999"  # no such row in the demo: the page must still refuse, or answer 404

# Pages anyone may open, signed in or not.
PUBLIC = {"accounts:login", "accounts:forgot_password", "accounts:link", "checkin:scan", "evidence:public_key",
          "home:favicon", "certificates:verify", "xapi_extension", "api-v1:openapi-json", "api-v1:openapi-view",
          "platforms:dingtalk_start", "platforms:wecom_start", "platforms:feishu_start", "sso:oidc_start",
          "sso:cas_start"}
# Pages every signed-in person may open (their own learning; the catalogue; the API, which scopes its rows).
LEARNER = PUBLIC | {
    "home:home", "accounts:password_change", "org:me", "catalog:courses", "catalog:course", "catalog:course_video",
    "catalog:course_document", "plans:my", "plans:history", "checkin:code", "checkin:ticket", "exams:my",
    "certificates:mine", "trainingfile:my_file", "trainingfile:my_transcript", "trainingfile:my_bundle",
    "trainingfile:my_certificate", "creditrules:my_year", "declarations:mine", "notify:inbox",
    # A path of the API is listed under each of its operations: its GET lists (scoped), its PUT is the admin's.
    "api-v1:departments", "api-v1:employees", "api-v1:upsert_departments", "api-v1:upsert_employees",
    "api-v1:courses", "api-v1:categories", "api-v1:credit_classes",
    "api-v1:plans", "api-v1:periods", "api-v1:standings", "api-v1:completions", "api-v1:attendance",
    "api-v1:exam_results", "api-v1:certificates", "api-v1:meetings", "api-v1:create_course", "api-v1:create_plan",
    "api-v1:create_meeting"}
# Pages a department head opens too (for the people of their subtree).
HEAD = LEARNER | {
    "org:departments", "org:employees", "plans:team", "tracking:course_learners", "compliance:outcomes",
    "compliance:export_csv", "compliance:export_xlsx", "declarations:review", "reports:dashboard",
    "reports:people", "reports:courses", "reports:course", "reports:export", "reports:export_jobs",
    "checkin:suspicious"}
REFUSED = (400, 401, 403, 404, 405, 429)  # what a page above the role may answer, besides a redirect to log in
# Pages the auditor reads besides (everything, read only): the evidence, the audit trail, the delivery logs.
AUDITOR = HEAD | {
    "accounts:signin_log", "home:audit", "evidence:overview", "webhooks:deliveries", "webhooks:delivery",
    "notify:deliveries", "notify:plan_reminders", "org:employee", "plans:plans", "plans:plan", "plans:assignment",
    "plans:person", "plans:person_history", "trainingfile:file", "trainingfile:certificate", "trainingfile:bundle",
    "trainingfile:transcript", "tracking:learner_detail", "checkin:meetings", "checkin:meeting", "checkin:export",
    "creditrules:rule_sets", "creditrules:person_year", "exams:banks", "exams:bank",
    "exams:exams", "exams:exam", "exams:result", "certificates:list", "certificates:certificate", "certificates:pdf",
    "api-v1:employee", "api-v1:person_progress", "api-v1:person_training_file"}
OPEN = {"anonymous": PUBLIC, "learner": LEARNER, "head": HEAD, "auditor": AUDITOR, "admin": None}
# Views that take POSTs without Django's CSRF token, and why: signed calls of other servers (directory
# events, CAS single sign-out) and the API (its session authentication checks the token itself).
CSRF_EXEMPT = ("directory:", "sso:cas_callback", "api-v1:")


def walk(ids: dict) -> list[tuple[str, str, object]]:
    """(name, url, view) of every URL pattern, its parameters filled from `ids`."""
    found = []

    def fill(match: re.Match) -> str:
        converter, parameter = match.group(1), match.group(2)
        if converter == "uuid":
            return str(uuid.uuid4())
        return str(ids.get(parameter, VALUES.get(parameter, MISSING)))

    def visit(patterns, prefix, namespaces):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                visit(pattern.url_patterns, route, namespaces + ([pattern.namespace] if pattern.namespace else []))
            elif isinstance(pattern, URLPattern):
                url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route).lstrip("^").rstrip("$")
                found.append((":".join([*namespaces, pattern.name or route]), url, pattern.callback))

    visit(get_resolver().url_patterns, "", [])
    return [row for row in found if not row[0].startswith("admin:")]  # Django's admin: staff only, its own check


def add_exam_and_certificate(person):
    """An exam with a bank, and `person`'s sitting, result and certificate (the demo's are other people's),
    so that those pages are walked with real ids."""
    from django.utils import timezone

    from learntrace.catalog.models import Category
    from learntrace.certificates.models import CertificateKind
    from learntrace.certificates.services import issue
    from learntrace.exams import services as exams

    centre = make_exam_centre(Category.objects.order_by("pk").first())
    result = exams.submit(sitting=exams.start(exam=centre.exam, employee=person), answers=all_right(centre))
    kind = CertificateKind.objects.create(title="Ward safety", exam=centre.exam, valid_months=12)
    issue(kind=kind, employee_id=person.pk, issued_at=timezone.now(), exam_result=result)


@pytest.fixture
def site(db):
    """The demo (every page has rows to show), its training admin `hr`, head `head` and learner `manager`."""
    call_command("demo", verbosity=0)
    add_exam_and_certificate(get_user_model().objects.get(username="hr").employee)
    users = {who: get_user_model().objects.get(username=name)
             for who, name in (("admin", "hr"), ("head", "head"), ("learner", "manager"), ("auditor", "auditor"))}
    inside = set(visible_employees(users["head"]).values_list("pk", flat=True)) | {users["learner"].employee.pk}
    ids = {}
    for parameter, (label, whose) in PARAMETERS.items():
        rows = apps.get_model(label).objects.order_by("pk")
        if whose:
            rows = rows.exclude(**{("pk" if label == "org.Employee" else "employee") + "__in": inside})
        row = rows.first()
        if row is not None:
            ids[parameter] = row.pk
    return users, walk(ids)


# What the auditor may post besides their own learning, and why: the language of their pages; starting a check
# of the seals (it records only the check's result); CAS single sign-out, a call of the CAS server.
AUDITOR_POSTS = {"accounts:language", "evidence:verify", "sso:cas_callback"}
# The forms of every page's layout: the language switch and logging out change nothing recorded.
LAYOUT_FORMS = ("accounts:language", "accounts:logout")


def posting_forms(response) -> list[str]:
    """The action of every POST form of an HTML page ("" for one posted to the page itself)."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    forms = re.findall(r"<form\b[^>]*>", response.content.decode(errors="replace"))
    return [(re.search(r'action="([^"]*)"', form) or re.search("()", "")).group(1)
            for form in forms if re.search(r'method="post"', form, re.IGNORECASE)]


def client_as(user=None, **options) -> Client:
    client = Client(raise_request_exception=False, **options)
    if user is not None:
        client.force_login(user)
    return client


def personal_data() -> set[str]:
    """What no log line may hold: the people's names, e-mail addresses, phone and national ID numbers."""
    found = set()
    for employee in Employee.objects.all():
        found |= {employee.name, employee.email, employee.mobile, employee.national_id}
    return {value for value in found if value and len(value) >= 2}


def test_no_page_answers_a_role_below_it_and_none_fails(site, caplog):
    users, urls = site
    caplog.set_level(logging.INFO)
    layout_forms = {reverse(name) for name in LAYOUT_FORMS}
    auditor_posts = {reverse(name) for name in AUDITOR_POSTS if name != "sso:cas_callback"}
    problems = []
    for who in ("anonymous", "learner", "head", "auditor", "admin"):
        client = client_as(users.get(who))
        for name, url, _view in urls:
            response = client.get(url)
            status = response.status_code
            to_login = status == 302 and response["Location"].startswith("/accounts/login/")
            if status >= 500:
                problems.append(f"{who} GET {url} ({name}): {status}")
            elif OPEN[who] is not None and name not in OPEN[who] and not (to_login or status in REFUSED):
                problems.append(f"{who} GET {url} ({name}): {status}, a page above this role")
            elif who == "auditor" and status == 200 and name not in LEARNER:
                problems += [f"auditor GET {url} ({name}): a form that changes data, to {action or 'itself'}"
                             for action in posting_forms(response) if action not in layout_forms | auditor_posts]
    assert problems == [], "\n".join(problems)
    assert len(urls) >= 200  # the walk reached the whole site
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records and [value for value in personal_data() if value in logged] == []


def test_no_post_without_the_csrf_token_is_accepted(site):
    users, urls = site
    client = client_as(users["admin"], enforce_csrf_checks=True)  # the role that may post everywhere
    problems = []
    for name, url, view in urls:
        status = client.post(url).status_code
        exempt = getattr(view, "csrf_exempt", False)
        if exempt and not name.startswith(CSRF_EXEMPT):
            problems.append(f"{url} ({name}) is exempt from the CSRF check")
        elif name.startswith("api-v1:") and status not in (403, 405):
            problems.append(f"POST {url} ({name}) without the token answered {status}")
        elif not exempt and status != 403:
            problems.append(f"POST {url} ({name}) without the token answered {status}")
    assert problems == [], "\n".join(problems)


def test_an_auditor_reads_but_no_post_of_theirs_changes_anything(site):
    """The auditor reads everything; every POST outside their own learning is refused, and none of them
    left a row in the audit trail (what every change writes)."""
    from learntrace.core.models import AuditEntry

    users, urls = site
    client = client_as(users["auditor"])
    before = AuditEntry.objects.count()
    problems = []
    for name, url, _view in urls:
        # Their own learning is theirs to change; the API's writes are refused by scope (tested with the API).
        if name in LEARNER or name in AUDITOR_POSTS or name.startswith("api-v1:"):
            continue
        response = client.post(url)
        to_login = response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        if not (to_login or response.status_code in REFUSED):
            problems.append(f"auditor POST {url} ({name}): {response.status_code}")
    assert problems == [], "\n".join(problems)
    assert AuditEntry.objects.count() == before
