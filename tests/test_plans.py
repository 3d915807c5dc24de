"""Plans: audience, periods and rollover, progress against targets, reflections."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from learntrace.catalog.models import CourseKind, Question, Quiz
from learntrace.org.models import Level
from learntrace.plans import services
from learntrace.plans.models import (
    Assignment,
    LearningPlan,
    PeriodType,
    PlanCreditTarget,
    PlanDepartment,
    PlanItem,
    PlanPeriod,
    Reflection,
)
from learntrace.plans.progress import COMPLETED, IN_PROGRESS, NOT_STARTED, progress_for
from learntrace.plans.selectors import current_assignments
from learntrace.records.services import record_completion, record_credited_time, submit_quiz

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def hospital_plan(org, catalog, **overrides) -> LearningPlan:
    """The article's hospital: department heads owe 8 h of management training a month,
    4 h by video and 4 h in meetings, and 25 credits a year, 5 of them in management."""
    fields = dict(name="Department heads' monthly management training", period_type=PeriodType.MONTHLY,
                  starts_on=dt.date(2026, 1, 1), due_day=25, audience_levels=[Level.DEPARTMENT_HEAD],
                  min_total_seconds=8 * HOUR, min_video_seconds=4 * HOUR, min_offline_seconds=4 * HOUR)
    fields.update(overrides)
    plan = LearningPlan.objects.create(**fields)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plan.counted_categories.add(catalog.management)
    PlanCreditTarget.objects.create(plan=plan, min_credits=Decimal("25"))
    PlanCreditTarget.objects.create(plan=plan, category=catalog.management, min_credits=Decimal("5"))
    return plan


def test_publishing_opens_the_current_period_for_the_audience(org, catalog):
    plan = hospital_plan(org, catalog)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10, 9))
    periods = list(PlanPeriod.objects.filter(plan=plan).order_by("starts_at"))
    assert [p.starts_at for p in periods] == [at(2026, 1, 1), at(2026, 2, 1), at(2026, 3, 1)]
    march = periods[-1]
    assert march.ends_at == at(2026, 4, 1) and march.due_at == at(2026, 3, 26)
    assert set(Assignment.objects.filter(period=march).values_list("employee_id", flat=True)) == {org.head.pk}


def test_a_plan_without_audience_or_target_cannot_be_published(org, catalog):
    empty = LearningPlan.objects.create(name="Nothing", starts_on=dt.date(2026, 1, 1), min_total_seconds=HOUR)
    with pytest.raises(ValidationError, match="no audience"):
        services.publish_plan(actor=None, plan=empty)
    aimless = LearningPlan.objects.create(name="Aimless", starts_on=dt.date(2026, 1, 1),
                                          audience_levels=[Level.MANAGER])
    with pytest.raises(ValidationError, match="asks for nothing"):
        services.publish_plan(actor=None, plan=aimless)
    assert not PlanPeriod.objects.exists()


def test_the_audience_combines_kinds_of_criteria_and_named_people(org, catalog):
    plan = LearningPlan.objects.create(name="Cardiology managers", starts_on=dt.date(2026, 1, 1),
                                       audience_levels=[Level.MANAGER], min_total_seconds=HOUR)
    PlanDepartment.objects.create(plan=plan, department=org.a, include_subtree=False)
    plan.audience_employees.add(org.outsider)
    from learntrace.plans.audience import audience

    assert set(audience(plan)) == {org.outsider}  # the manager is in A1, below A: no subtree
    PlanDepartment.objects.filter(plan=plan).update(include_subtree=True)
    assert set(audience(plan)) == {org.learner, org.outsider}


def test_a_promotion_a_new_hire_and_a_departure_follow_the_audience(org, catalog):
    plan = hospital_plan(org, catalog)
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        services.publish_plan(actor=None, plan=plan)
        org.learner.level = Level.DEPARTMENT_HEAD
        org.learner.save()
        services.sync_employee(employee=org.learner)
        from conftest import make_employee

        newcomer = make_employee("N900", "New head", org.b, level=Level.DEPARTMENT_HEAD)
        org.head.is_active = False
        org.head.save()
    with time_machine.travel(at(2026, 3, 20, 9), tick=False):
        services.roll_over()
    march = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 3, 1))
    active = set(Assignment.objects.filter(period=march, removed_at__isnull=True).values_list("employee_id", flat=True))
    assert active == {org.learner.pk, newcomer.pk}
    gone = Assignment.objects.get(period=march, employee=org.head)
    assert gone.removed_at is not None
    # History is not rewritten: the head still owed February.
    february = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 2, 1))
    assert Assignment.objects.get(period=february, employee=org.head).removed_at is None


def test_rollover_happens_at_local_midnight_not_utc(org, catalog):
    plan = hospital_plan(org, catalog)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 1, 31, 12))
    # 16:30 UTC on 31 January is already 00:30 on 1 February in Shanghai.
    with time_machine.travel(dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.UTC), tick=False):
        services.roll_over()
        assert [a.period.starts_at for a in current_assignments(org.head)] == [at(2026, 2, 1)]
    assert PlanPeriod.objects.filter(plan=plan).count() == 2
    services.roll_over(now=dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.UTC))  # again: nothing new
    assert PlanPeriod.objects.filter(plan=plan).count() == 2


def test_a_due_day_of_31_in_february_is_the_last_day_of_february(org, catalog):
    plan = hospital_plan(org, catalog, due_day=31)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 2, 10))
    february = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 2, 1))
    assert february.due_at == at(2026, 3, 1)  # the end of 28 February
    january = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 1, 1))
    assert january.due_at == at(2026, 2, 1)


def test_quarterly_yearly_and_one_off_periods(org, catalog):
    quarterly = hospital_plan(org, catalog, period_type=PeriodType.QUARTERLY, starts_on=dt.date(2026, 4, 1),
                              due_day=15)
    services.publish_plan(actor=None, plan=quarterly, now=at(2026, 5, 5))
    q2 = PlanPeriod.objects.get(plan=quarterly)
    assert (q2.starts_at, q2.ends_at, q2.due_at) == (at(2026, 4, 1), at(2026, 7, 1), at(2026, 6, 16))
    yearly = hospital_plan(org, catalog, period_type=PeriodType.YEARLY, due_day=None)
    services.publish_plan(actor=None, plan=yearly, now=at(2026, 5, 5))
    year = PlanPeriod.objects.get(plan=yearly)
    assert (year.starts_at, year.ends_at, year.due_at) == (at(2026, 1, 1), at(2027, 1, 1), at(2027, 1, 1))
    one_off = hospital_plan(org, catalog, period_type=PeriodType.ONE_OFF, starts_on=dt.date(2026, 5, 4),
                            ends_on=dt.date(2026, 5, 20))
    services.publish_plan(actor=None, plan=one_off, now=at(2026, 6, 1))
    services.roll_over(now=at(2026, 9, 1))
    only = PlanPeriod.objects.get(plan=one_off)
    assert (only.starts_at, only.ends_at, only.due_at) == (at(2026, 5, 4), at(2026, 5, 21), at(2026, 5, 21))


def test_hours_by_kind_count_only_the_period_and_the_counted_categories(org, catalog):
    plan = hospital_plan(org, catalog)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    record_credited_time(employee=org.head, course=catalog.video, seconds=3 * HOUR, occurred_at=at(2026, 3, 2, 9))
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=2 * HOUR, occurred_at=at(2026, 3, 5))
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR,
                         occurred_at=at(2026, 3, 6))  # clinical: not counted by this plan
    record_credited_time(employee=org.head, course=catalog.video, seconds=HOUR,
                         occurred_at=at(2026, 2, 28, 23, 59))  # February
    record_credited_time(employee=org.head, course=catalog.video, seconds=HOUR,
                         occurred_at=at(2026, 4, 1, 0, 0))  # April
    assignment = Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)
    progress = progress_for([assignment])[0]
    assert (progress.total.done, progress.total.owed) == (5 * HOUR, 3 * HOUR)
    assert progress.by_kind[CourseKind.VIDEO].done == 3 * HOUR and progress.by_kind[CourseKind.VIDEO].owed == HOUR
    assert progress.by_kind[CourseKind.OFFLINE].owed == 2 * HOUR
    assert set(progress.by_kind) == {CourseKind.VIDEO, CourseKind.OFFLINE}
    assert not progress.complete


def test_credit_targets_by_class_and_category_count_the_calendar_year(org, catalog):
    plan = hospital_plan(org, catalog, min_total_seconds=0, min_video_seconds=0, min_offline_seconds=0)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    record_completion(employee=org.head, course=catalog.video, completed_at=at(2026, 1, 5), source="manual")
    record_completion(employee=org.head, course=catalog.clinical_video, completed_at=at(2026, 3, 5), source="manual")
    record_completion(employee=org.head, course=catalog.meeting, completed_at=at(2025, 12, 31, 23),
                      source="manual")  # last year
    progress = progress_for([Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)])[0]
    total, management = progress.credits
    assert total.done == Decimal("7") and total.owed == Decimal("18")
    assert management.done == Decimal("2") and management.owed == Decimal("3")


def test_required_items_move_from_not_started_to_completed(org, catalog):
    plan = hospital_plan(org, catalog)
    PlanItem.objects.create(plan=plan, course=catalog.video, position=1)
    PlanItem.objects.create(plan=plan, course=catalog.clinical_video, position=2)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignment = Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)
    first, second = progress_for([assignment])[0].items
    assert (first.state, second.state) == (NOT_STARTED, NOT_STARTED)
    record_credited_time(employee=org.head, course=catalog.video, seconds=HOUR, occurred_at=at(2026, 3, 2))
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 3, 3))
    first, second = progress_for([assignment])[0].items
    assert (first.state, first.percent) == (IN_PROGRESS, 25)  # 1 h credited of the 4 h course (95 % completes it)
    assert (second.state, second.completed_at) == (COMPLETED, at(2026, 3, 3))


def test_a_course_with_a_quiz_completes_only_once_the_quiz_is_passed(org, catalog):
    quiz = Quiz.objects.create(course=catalog.clinical_video, pass_mark=100, attempts_allowed=2)
    question = Question.objects.create(quiz=quiz, text="Give antibiotics within?")
    right = question.choices.create(text="1 hour", is_correct=True)
    wrong = question.choices.create(text="1 day", is_correct=False)
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 3, 3))
    assert not org.head.completions.exists()
    failed = submit_quiz(employee=org.head, quiz=quiz, answers={question.pk: {wrong.pk}}, at=at(2026, 3, 4))
    assert not failed.passed and failed.score == 0
    passed = submit_quiz(employee=org.head, quiz=quiz, answers={question.pk: {right.pk}}, at=at(2026, 3, 5))
    assert passed.passed and passed.number == 2
    assert org.head.completions.get().completed_at == at(2026, 3, 5)
    from learntrace.records.services import QuizClosed

    with pytest.raises(QuizClosed):
        submit_quiz(employee=org.head, quiz=quiz, answers={question.pk: {right.pk}}, at=at(2026, 3, 6))


def test_the_reflection_lifecycle(org, catalog):
    plan = hospital_plan(org, catalog, requires_reflection=True, reflection_min_chars=20)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignment = Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)
    draft = services.reflection_save(assignment=assignment, text="短", submit=False)
    assert draft.status == Reflection.Status.DRAFT
    with pytest.raises(ValidationError, match="at least 20"):
        services.reflection_save(assignment=assignment, text="还是太短了", submit=True)
    text = "本月学习了病区管理,最大的收获是如何与护理团队沟通排班与质控问题。"
    submitted = services.reflection_save(assignment=assignment, text=text, submit=True)
    assert submitted.status == Reflection.Status.SUBMITTED
    with pytest.raises(ValidationError):
        services.reflection_save(assignment=assignment, text=text + "改", submit=False)
    with pytest.raises(ValidationError, match="Say what should change"):
        services.reflection_review(actor=org.admin.user, reflection=submitted, accept=False, comment=" ")
    returned = services.reflection_review(actor=org.admin.user, reflection=submitted, accept=False,
                                          comment="请补充具体的改进措施")
    assert returned.status == Reflection.Status.RETURNED
    again = services.reflection_save(assignment=assignment, text=text + "下月将推行每周质控例会。", submit=True)
    accepted = services.reflection_review(actor=org.admin.user, reflection=again, accept=True, comment="")
    assert accepted.status == Reflection.Status.ACCEPTED
    # Each step is a fact for the evidence: submitted, returned, submitted again, accepted.
    events = list(accepted.events.order_by("id").values_list("kind", "actor"))
    assert events == [("submitted", None), ("returned", org.admin.user.pk), ("submitted", None),
                      ("accepted", org.admin.user.pk)]
    from learntrace.evidence import services as evidence

    evidence.seal_pending()
    assert evidence.verify().ok
    progress = progress_for([assignment])[0]
    assert progress.reflection_met


def test_progress_for_many_people_uses_a_bounded_number_of_queries(org, catalog, django_assert_max_num_queries):
    plan = hospital_plan(org, catalog, audience_levels=[])
    PlanItem.objects.create(plan=plan, course=catalog.video)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignments = list(Assignment.objects.select_related("period__plan"))
    assert len(assignments) >= 15  # 5 people × 3 periods
    with django_assert_max_num_queries(30):
        progress_for(assignments)


def test_changing_an_employee_in_the_ui_updates_their_open_assignments(org, catalog, client_for,
                                                                       django_capture_on_commit_callbacks):
    plan = hospital_plan(org, catalog)
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        services.publish_plan(actor=None, plan=plan)
        data = {"employee_no": org.learner.employee_no, "name": org.learner.name, "department": org.a1.pk,
                "level": "department_head", "is_active": "on"}
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(org.admin).post(f"/org/employees/{org.learner.pk}/edit/", data)
        assert response.status_code == 302
    march = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 3, 1))
    assert Assignment.objects.filter(period=march, employee=org.learner, removed_at__isnull=True).exists()


def test_editing_a_plan_changes_open_periods_only(org, catalog):
    plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 1, 1))
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        services.publish_plan(actor=None, plan=plan)
        plan.min_total_seconds = 10 * HOUR
        plan.save()
        services.plan_configure(actor=None, plan=plan, departments=[(org.root, True)],
                                levels=[Level.DEPARTMENT_HEAD], positions=[], tags=[], people=[],
                                courses=[catalog.video])
    january = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 1, 1))
    march = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 3, 1))
    assert january.targets["min_total_seconds"] == 8 * HOUR and january.targets["course_ids"] == []
    assert march.targets["min_total_seconds"] == 10 * HOUR and march.targets["course_ids"] == [catalog.video.pk]
    old = progress_for([Assignment.objects.get(period=january, employee=org.head)])[0]
    assert old.total.target == 8 * HOUR and old.items == []


def test_hours_by_kind_imply_the_total(org, catalog):
    plan = hospital_plan(org, catalog, min_total_seconds=0)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    progress = progress_for([Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)])[0]
    assert progress.total.target == 8 * HOUR


def test_yearly_credit_targets_decide_completeness_only_at_year_end(org, catalog):
    plan = hospital_plan(org, catalog, min_total_seconds=0, min_video_seconds=0, min_offline_seconds=0,
                         starts_on=dt.date(2026, 11, 1))
    services.publish_plan(actor=None, plan=plan, now=at(2026, 12, 5))
    november, december = progress_for(Assignment.objects.filter(employee=org.head).select_related("period__plan")
                                      .order_by("period__starts_at"))
    assert not november.credits[0].met and november.complete
    assert not december.credits[0].met and not december.complete
