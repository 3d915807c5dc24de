"""The demo organisation and `learntrace serve` (what `make run` starts)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from learntrace.demo.organisation import DEMO_PASSWORD
from learntrace.org.access import roles_of, visible_employees
from learntrace.org.models import Department, Employee, Level


def test_the_demo_has_a_company_and_a_hospital_with_every_role(db, capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out and "hr" in out and "auditor" in out
    assert 250 <= Employee.objects.count() <= 350
    assert Employee.objects.filter(level=Level.MANAGER, department__path__startswith=Department.objects.get(
        code="TECH").path).count() == 50
    assert Employee.objects.filter(level=Level.DEPARTMENT_HEAD, department__path__startswith=Department.objects.get(
        code="HOSP").path).count() == 30
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    assert roles_of(users.get(username="hr")).is_admin
    assert roles_of(users.get(username="auditor")).is_auditor
    head = users.get(username="head")
    assert roles_of(head).is_head
    subtree = Department.objects.get(code="HOSP-IM").path
    assert all(e.department.path.startswith(subtree) for e in visible_employees(head))
    assert roles_of(users.get(username="manager")).names == ["learner"]
    assert users.get(username="root").is_superuser
    assert users.get(username="manager").check_password(DEMO_PASSWORD)


def test_the_demo_seals_what_it_wrote(db, capsys):
    from learntrace.core.models import AuditEntry
    from learntrace.evidence import services as evidence
    from learntrace.evidence.models import Seal
    from learntrace.records.models import CreditedTime

    call_command("demo", verbosity=0)
    assert CreditedTime.objects.exists() and evidence.unsealed_count() == 0
    capsys.readouterr()
    call_command("verify")
    facts = sum(Seal.objects.values_list("fact_count", flat=True))
    assert capsys.readouterr().out == f"{Seal.objects.count()} seals, {facts} facts: intact\n"
    entry = AuditEntry.objects.get(action="seal")
    assert entry.actor is None and entry.summary.startswith(f"demo: {facts} facts in seal #1")


def test_the_demo_refuses_a_database_that_holds_an_organisation(org):
    with pytest.raises(CommandError):
        call_command("demo")
    call_command("demo", "--if-empty")  # what `make run` calls: a quiet no-op
    assert Employee.objects.count() == 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_the_web_server_and_the_worker_and_stops_both(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "HUEY_IMMEDIATE": "0"}
    subprocess.run([sys.executable, "-m", "learntrace", "migrate", "-v0"], env=env, check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "learntrace", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        body = None
        deadline = time.monotonic() + 120  # a loaded machine takes its time to start gunicorn
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.3)
        assert body is not None and "csrfmiddlewaretoken" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/learntrace/site.css", timeout=2) as response:
            assert response.status == 200
        children = subprocess.run(["pgrep", "-f", "-g", str(server.pid), "run_huey"], capture_output=True, text=True)
        assert children.stdout.strip(), "the worker is not running"
    finally:
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    leftover = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


def test_the_demo_has_the_articles_plans_with_history(db):
    from django.utils import timezone

    from learntrace.plans.models import Assignment, LearningPlan, Reflection
    from learntrace.plans.progress import progress_for
    from learntrace.records.models import CourseProgress

    call_command("demo", verbosity=0)
    tech = LearningPlan.objects.get(name="管理层月度学习计划")
    hospital = LearningPlan.objects.get(name="科室主任月度管理培训")
    assert tech.periods.count() == 3 and hospital.periods.count() == 3
    current = tech.periods.order_by("-starts_at").first()
    assert current.assignments.count() == 50
    assert hospital.periods.order_by("-starts_at").first().assignments.count() == 30
    past = Assignment.objects.filter(period__plan=tech, period__ends_at__lte=timezone.now()).select_related(
        "period__plan")
    done = sum(p.complete for p in progress_for(past))
    assert 0.6 < done / past.count() < 0.95  # most, not all, finished: the article's starting point
    assert Reflection.objects.filter(status=Reflection.Status.SUBMITTED).exists()  # waiting for review
    watched = CourseProgress.objects.filter(course__title="战略管理")
    average = sum(p.credited_seconds for p in watched) / watched.count()
    assert 20 * 60 < average < 40 * 60  # about 30 of 60 minutes
    from learntrace.notify.models import ReminderSchedule

    reminders = ReminderSchedule.objects.get(plan=hospital)
    assert reminders.days_of_month == [15, 25] and reminders.meeting_days_before == 3
    assert sorted(reminders.channels.values_list("kind", flat=True)) == ["email", "inapp"]


def test_the_demo_meetings_were_checked_in_by_qr(db):
    from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
    from learntrace.records.models import CreditedTime, Source

    call_command("demo", verbosity=0)
    assert Meeting.objects.count() == 6
    assert Attendance.objects.filter(method="scan").count() > 50
    assert CheckInEvent.objects.filter(kind=CheckInEvent.Kind.CHECK_IN).count() == Attendance.objects.count()
    assert CreditedTime.objects.filter(source=Source.CHECKIN).count() == Attendance.objects.count()


def test_the_demo_hospital_judges_each_year_by_its_rules_and_has_a_nurses_declaration(db):
    from learntrace.core.months import today
    from learntrace.creditrules.selectors import rule_set_for
    from learntrace.declarations.models import Declaration, DeclarationStep
    from learntrace.evidence.services import seal_of
    from learntrace.plans.models import LearningPlan

    call_command("demo", verbosity=0)
    year = today().year
    assert rule_set_for(year).name == "National rules of October 2024"
    assert rule_set_for(year - 1).lines.count() == 2 and rule_set_for(year - 2) is None
    assert LearningPlan.objects.get(name="科室主任月度管理培训").follows_credit_rules
    declaration = Declaration.objects.get()
    assert declaration.employee.position == "主管护师" and declaration.certificate_type == "image/png"
    assert declaration.status == Declaration.Status.APPROVED and seal_of(7, declaration.fact.pk) is not None
    assert list(declaration.steps.values_list("kind", flat=True)) == [
        DeclarationStep.Kind.SUBMITTED, DeclarationStep.Kind.HEAD_APPROVED, DeclarationStep.Kind.APPROVED]
    assert declaration.head_approved_by.employee.level == "department_head"
    assert declaration.approved_by.username == "hr"


def test_the_demo_hospital_has_a_compliance_exam_with_results_and_certificates(db):
    import datetime as dt

    from learntrace.certificates import reminders
    from learntrace.certificates.models import Certificate
    from learntrace.certificates.services import add_months
    from learntrace.core.months import local_date, local_zone
    from learntrace.demo import load_demo
    from learntrace.evidence import services as evidence
    from learntrace.exams.models import Exam, ExamResult
    from learntrace.notify.models import Delivery

    # Yesterday at 11:00: after the reminders' 09:00, and in the past whenever the test runs.
    now = dt.datetime.combine(local_date(dt.datetime.now(dt.UTC)) - dt.timedelta(days=1), dt.time(11, 0),
                              tzinfo=local_zone())
    load_demo(now=now)
    exam = Exam.objects.get(title="年度医疗合规考试")
    assert (exam.time_limit_minutes, exam.pass_mark, exam.attempts_allowed, exam.items.count()) == (20, 80, 2, 5)
    results = [(r.employee.employee_no, r.number, r.score, r.passed, r.ending)
               for r in ExamResult.objects.select_related("employee").order_by("employee__employee_no", "number")]
    head, second, retaker, failed, fifth = (row[0] for row in results if row[1] == 1)
    assert head == "H-IM-00" and results == [
        ("H-IM-00", 1, 100, True, "submitted"), (second, 1, 100, True, "submitted"),
        (retaker, 1, 40, False, "submitted"), (retaker, 2, 100, True, "submitted"),
        (failed, 1, 40, False, "submitted"), (fifth, 1, 100, True, "submitted")]
    certificates = {c.employee.employee_no: c for c in Certificate.objects.select_related("employee")}
    assert sorted(certificates) == sorted(["H-IM-00", second, retaker, fifth])
    expiring = certificates["H-IM-00"]
    assert local_date(expiring.expires_at) == local_date(now) + dt.timedelta(days=30)
    assert add_months(expiring.issued_at, 12) == expiring.expires_at  # a year before: it was a pass
    assert reminders.send_due(now=now) == 2  # what the worker queues: in the app and by e-mail
    assert sorted(Delivery.objects.filter(purpose="certificate").values_list("recipient__employee_no", "reminder_day")
                  ) == [("H-IM-00", local_date(now))] * 2
    assert all(evidence.seal_of(9, c.pk) for c in certificates.values()) and evidence.unsealed_count() == 0

