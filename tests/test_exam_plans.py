"""Exams as required items of a plan: passing within the period completes it, compliance counts
it, and a plan's certificate is issued once the period is complete."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from exam_fixtures import all_right, make_exam_centre
from learntrace.certificates import services as certificates
from learntrace.certificates.models import Certificate, CertificateKind
from learntrace.compliance import services as compliance
from learntrace.compliance.models import Standing
from learntrace.compliance.selectors import describe_missing
from learntrace.exams import services as exams
from learntrace.org.models import Level
from learntrace.plans import services
from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanDepartment, PlanExam
from learntrace.plans.progress import progress_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def plan_with_exam(org, catalog):
    centre = make_exam_centre(catalog.management)
    plan = LearningPlan.objects.create(name="Ward safety each month", period_type=PeriodType.MONTHLY,
                                       starts_on=dt.date(2026, 1, 1), due_day=25,
                                       audience_levels=[Level.DEPARTMENT_HEAD])
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    PlanExam.objects.create(plan=plan, exam=centre.exam)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    return plan, centre


def test_a_required_exam_counts_when_passed_within_the_period(plan_with_exam, org):
    plan, centre = plan_with_exam
    march = Assignment.objects.get(period__plan=plan, period__starts_at=at(2026, 3, 1), employee=org.head)
    figures = progress_for([march])[0].figures
    assert (figures.complete, figures.required_total, figures.required_done) == (False, 1, 0)
    assert figures.missing == [{"what": "exam", "exam_id": centre.exam.pk, "title": "Ward safety exam"}]
    assert describe_missing(figures.missing[0]) == "exam “Ward safety exam”"
    # A failed attempt in March, then a pass in February: neither counts for March.
    exams.submit(sitting=exams.start(exam=centre.exam, employee=org.head, now=at(2026, 2, 20)),
                 answers=all_right(centre), now=at(2026, 2, 20, 0, 10))
    assert progress_for([march])[0].figures.complete is False
    february = Assignment.objects.get(period__plan=plan, period__starts_at=at(2026, 2, 1), employee=org.head)
    progress = progress_for([february])[0]
    assert progress.figures.complete and progress.figures.completed_at == at(2026, 2, 20, 0, 10)
    assert progress.exams[0].passed_at == at(2026, 2, 20, 0, 10)


def test_compliance_follows_exam_results_and_a_plan_certificate_is_issued(plan_with_exam, org):
    plan, centre = plan_with_exam
    kind = CertificateKind.objects.create(title="Ward safety, monthly", plan=plan, valid_months=1)
    now = at(2026, 3, 12)
    compliance.refresh_changed(now=now)
    standing = Standing.objects.get(plan=plan, employee=org.head, period__starts_at=at(2026, 3, 1))
    assert (standing.complete, standing.required_total, standing.required_done) == (False, 1, 0)
    exams.submit(sitting=exams.start(exam=centre.exam, employee=org.head, now=now), answers=all_right(centre),
                 now=now)
    compliance.refresh_changed(now=now)
    standing.refresh_from_db()
    assert (standing.complete, standing.required_done, standing.completed_at) == (True, 1, now)
    assert certificates.issue_due() == 1 and certificates.issue_due() == 0
    certificate = Certificate.objects.get(kind=kind)
    assert (certificate.employee, certificate.assignment_id, certificate.issued_at) == (org.head,
                                                                                     standing.assignment_id, now)
    assert certificate.expires_at == at(2026, 4, 12)


def test_the_plan_form_sets_required_exams(plan_with_exam, org, client_for):
    plan, centre = plan_with_exam
    form = client_for(org.admin).get(f"/plans/{plan.pk}/edit/")
    assert form.status_code == 200 and "Ward safety exam" in form.content.decode()
    assert plan.targets_snapshot()["exam_ids"] == [centre.exam.pk]
