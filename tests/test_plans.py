"""Plans: audience, periods and rollover, progress against targets, reflections."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from exam_fixtures import all_right, make_exam_centre
from learntrace.catalog.models import CourseKind, Question, Quiz
from learntrace.creditrules.presets import create_from_preset
from learntrace.exams import services as exams
from learntrace.org.models import Level
from learntrace.plans import services
from learntrace.plans.models import (
    Assignment,
    LearningPlan,
    PeriodType,
    PlanCreditTarget,
    PlanDepartment,
    PlanExam,
    PlanItem,
    PlanPeriod,
    Reflection,
)
from learntrace.plans.progress import COMPLETED, IN_PROGRESS, NOT_STARTED, progress_for
from learntrace.plans.selectors import current_assignments
from learntrace.records.models import OutsideCredit
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


def outside_credit(employee, catalog, credits, credited_at):
    """Credits earned elsewhere (an approved declaration), counted from the start of its last day."""
    day = credited_at.date()
    return OutsideCredit.objects.create(
        employee=employee, kind=OutsideCredit.Kind.CONFERENCE, title=f"Conference {day}", started_on=day, ended_on=day,
        credited_at=credited_at, credits=Decimal(credits), category=catalog.clinical, certificate_sha256="0" * 64)


def passing_quiz(course):
    quiz = Quiz.objects.create(course=course, pass_mark=100, attempts_allowed=3)
    question = Question.objects.create(quiz=quiz, text="Wash hands for?")
    right = question.choices.create(text="20 s", is_correct=True)
    question.choices.create(text="2 s", is_correct=False)
    return quiz, {question.pk: {right.pk}}


def test_a_periods_figures_are_exact(org, catalog):
    """March of the hospital plan: 10 h in all, 4 h by video (met exactly), 4 h offline, three required
    courses; a course completed at the very start of the period counts, one completed in February does not."""
    plan = hospital_plan(org, catalog, min_total_seconds=10 * HOUR)
    PlanCreditTarget.objects.create(plan=plan, credit_class=catalog.cme1, min_credits=Decimal("7"))
    for position, course in enumerate([catalog.video, catalog.meeting, catalog.clinical_video]):
        PlanItem.objects.create(plan=plan, course=course, position=position)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    record_completion(employee=org.head, course=catalog.clinical_video, completed_at=at(2026, 2, 10),
                      source="manual")
    outside_credit(org.head, catalog, "3", at(2026, 1, 1))  # the first moment of the year
    outside_credit(org.head, catalog, "4", at(2025, 12, 31))  # last year
    record_credited_time(employee=org.head, course=catalog.video, seconds=4 * HOUR, occurred_at=at(2026, 3, 1))
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=HOUR, occurred_at=at(2026, 3, 5))
    assignment = Assignment.objects.select_related("period__plan").get(period__starts_at=at(2026, 3, 1),
                                                                       employee=org.head)
    progress = progress_for([assignment], now=at(2026, 3, 20))[0]
    assert (progress.plan, progress.period) == (plan, assignment.period)
    assert [(i.course, i.state, i.percent, i.completed_at) for i in progress.items] == [
        (catalog.video, COMPLETED, 100, at(2026, 3, 1)), (catalog.meeting, IN_PROGRESS, 50, None),
        (catalog.clinical_video, NOT_STARTED, 0, None)]
    video, offline = progress.by_kind[CourseKind.VIDEO], progress.by_kind[CourseKind.OFFLINE]
    assert (video.done, video.owed, video.met, offline.done, offline.owed, offline.met) == (
        4 * HOUR, 0, True, HOUR, 3 * HOUR, False)
    assert [(c.done, c.owed, c.met) for c in progress.credits] == [
        (Decimal("10"), Decimal("15"), False), (Decimal("2"), Decimal("3"), False), (Decimal("7"), 0, True)]
    assert progress.days_left(now=at(2026, 3, 20, 23, 30)) == 5  # due at the end of 25 March
    assert vars(progress.figures) == {
        "video_seconds": 4 * HOUR, "document_seconds": 0, "offline_seconds": HOUR, "live_seconds": 0,
        "total_seconds": 5 * HOUR, "target_seconds": 10 * HOUR, "owed_seconds": 5 * HOUR,
        "required_total": 3, "required_done": 1, "credits": Decimal("2"), "credits_year": Decimal("10"),
        "reflection_status": "", "complete": False, "completed_at": None, "quizzes_required": 0,
        "quizzes_passed": 0, "joined_after_due": False,
        "missing": [{"what": "hours", "kind": "total", "owed": 5 * HOUR},
                    {"what": "hours", "kind": CourseKind.OFFLINE, "owed": 3 * HOUR},
                    {"what": "course", "course_id": catalog.meeting.pk, "title": "Monthly management meeting"},
                    {"what": "course", "course_id": catalog.clinical_video.pk, "title": "Sepsis update"}]}


def test_more_time_than_asked_owes_nothing_and_the_largest_gap_is_owed(org, catalog):
    plan = hospital_plan(org, catalog, min_total_seconds=0)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    record_credited_time(employee=org.head, course=catalog.video, seconds=8 * HOUR, occurred_at=at(2026, 3, 2))
    progress = progress_for([Assignment.objects.get(period__starts_at=at(2026, 3, 1), employee=org.head)])[0]
    video = progress.by_kind[CourseKind.VIDEO]
    assert (progress.total.done, progress.total.owed, progress.total.met) == (8 * HOUR, 0, True)
    assert (video.done, video.owed, video.met) == (8 * HOUR, 0, True)
    # 8 h in all is the whole total, yet 4 h offline are still owed.
    assert (progress.figures.owed_seconds, progress.figures.missing) == (
        4 * HOUR, [{"what": "hours", "kind": CourseKind.OFFLINE, "owed": 4 * HOUR}])


def test_a_period_is_completed_when_its_last_missing_piece_arrives(org, catalog):
    """An hour, an exam and a reflection: completed when the last of them arrives, never after `now`."""
    centre = make_exam_centre(catalog.management)
    plan = hospital_plan(org, catalog, min_total_seconds=HOUR, min_video_seconds=0, min_offline_seconds=0,
                         requires_reflection=True)
    PlanExam.objects.create(plan=plan, exam=centre.exam)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignment = Assignment.objects.select_related("period__plan").get(period__starts_at=at(2026, 3, 1),
                                                                       employee=org.head)
    figures = progress_for([assignment], now=at(2026, 3, 20))[0].figures
    assert (figures.reflection_status, figures.required_total, figures.required_done) == ("none", 1, 0)
    assert figures.missing == [{"what": "hours", "kind": "total", "owed": HOUR},
                               {"what": "exam", "exam_id": centre.exam.pk, "title": "Ward safety exam"},
                               {"what": "reflection"}]
    record_credited_time(employee=org.head, course=catalog.video, seconds=HOUR, occurred_at=at(2026, 3, 3, 10))
    exams.submit(sitting=exams.start(exam=centre.exam, employee=org.head, now=at(2026, 3, 4)),
                 answers=all_right(centre), now=at(2026, 3, 4, 0, 10))
    reflection = Reflection.objects.create(assignment=assignment, text="本月的收获", status=Reflection.Status.DRAFT)
    progress = progress_for([assignment], now=at(2026, 3, 20))[0]
    assert progress.exams[0].passed_at == at(2026, 3, 4, 0, 10)
    assert (progress.figures.complete, progress.figures.reflection_status, progress.figures.missing) == (
        False, "draft", [{"what": "reflection"}])
    reflection.status, reflection.submitted_at = Reflection.Status.SUBMITTED, at(2026, 3, 8)
    reflection.save()
    figures = progress_for([assignment], now=at(2026, 3, 20))[0].figures
    assert (figures.complete, figures.completed_at, figures.required_done, figures.missing) == (
        True, at(2026, 3, 8), 1, [])
    assert progress_for([assignment], now=at(2026, 3, 7))[0].figures.completed_at == at(2026, 3, 7)
    reflection.status = Reflection.Status.RETURNED
    reflection.save()
    assert progress_for([assignment])[0].figures.complete is False
    reflection.status = Reflection.Status.ACCEPTED
    reflection.save()
    assert progress_for([assignment], now=at(2026, 3, 20))[0].figures.completed_at == at(2026, 3, 8)
    # Submitted before the hour and the exam: the exam was the last piece.
    reflection.submitted_at = at(2026, 3, 2)
    reflection.save()
    assert progress_for([assignment], now=at(2026, 3, 20))[0].figures.completed_at == at(2026, 3, 4, 0, 10)


def test_a_one_off_period_counts_what_was_done_before_it_and_not_at_its_end(org, catalog):
    """A one-off plan from 1 December to 10 January: a course completed in November counts; a quiz passed
    at the first moment after the period does not; credits of 1 January are the period's, not the year's."""
    plan = LearningPlan.objects.create(name="Ward safety campaign", period_type=PeriodType.ONE_OFF,
                                       starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2027, 1, 10),
                                       audience_levels=[Level.DEPARTMENT_HEAD])
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    for position, course in enumerate([catalog.video, catalog.meeting, catalog.clinical_video]):
        PlanItem.objects.create(plan=plan, course=course, position=position)
    meeting_quiz, meeting_right = passing_quiz(catalog.meeting)
    clinical_quiz, clinical_right = passing_quiz(catalog.clinical_video)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 12, 5))
    assignment = Assignment.objects.select_related("period__plan").get(period__plan=plan, employee=org.head)
    assert (assignment.period.starts_at, assignment.period.ends_at) == (at(2026, 12, 1), at(2027, 1, 11))
    record_completion(employee=org.head, course=catalog.video, completed_at=at(2026, 11, 15), source="manual")
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=2 * HOUR, occurred_at=at(2026, 12, 3))
    record_credited_time(employee=org.head, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 12, 4))
    figures = progress_for([assignment], now=at(2026, 12, 10))[0].figures
    assert (figures.quizzes_required, figures.quizzes_passed, figures.required_done) == (2, 0, 1)
    submit_quiz(employee=org.head, quiz=meeting_quiz, answers=meeting_right, at=at(2026, 12, 20))
    submit_quiz(employee=org.head, quiz=clinical_quiz, answers=clinical_right, at=at(2027, 1, 11))
    outside_credit(org.head, catalog, "4", at(2027, 1, 1))
    progress = progress_for([assignment], now=at(2027, 1, 20))[0]
    assert [(i.course, i.state, i.completed_at, i.quiz_passed) for i in progress.items] == [
        (catalog.video, COMPLETED, at(2026, 11, 15), False), (catalog.meeting, COMPLETED, at(2026, 12, 20), True),
        (catalog.clinical_video, NOT_STARTED, None, False)]
    figures = progress.figures
    assert (figures.quizzes_required, figures.quizzes_passed, figures.required_total, figures.required_done) == (
        2, 1, 3, 2)
    # In the period: the meeting (1) and 1 January's 4; in 2026: the video (2) and the meeting (1).
    assert (figures.credits, figures.credits_year) == (Decimal("5"), Decimal("3"))
    assert (figures.offline_seconds, figures.video_seconds, figures.total_seconds) == (2 * HOUR, HOUR, 3 * HOUR)
    assert (figures.complete, figures.missing) == (
        False, [{"what": "course", "course_id": catalog.clinical_video.pk, "title": "Sepsis update"}])


def test_a_period_whose_targets_predate_a_target_asks_nothing_of_it(org, catalog):
    plan = hospital_plan(org, catalog)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignment = Assignment.objects.select_related("period__plan").get(period__starts_at=at(2026, 3, 1),
                                                                       employee=org.head)
    assignment.period.targets = {}
    assignment.period.save()
    progress = progress_for([assignment], now=at(2026, 3, 20))[0]
    assert (progress.total.target, progress.by_kind, progress.items, progress.exams, progress.credits) == (
        0, {}, [], [], [])
    assert (progress.requires_reflection, progress.figures.complete, progress.figures.completed_at,
            progress.figures.missing) == (False, True, at(2026, 3, 20), [])


def test_year_end_credit_targets_by_class_and_category(org, catalog):
    plan = LearningPlan.objects.create(name="Credits", period_type=PeriodType.MONTHLY, starts_on=dt.date(2026, 12, 1),
                                       audience_levels=[Level.DEPARTMENT_HEAD])
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    PlanCreditTarget.objects.create(plan=plan, min_credits=Decimal("7"))
    PlanCreditTarget.objects.create(plan=plan, category=catalog.management, min_credits=Decimal("3"))
    PlanCreditTarget.objects.create(plan=plan, credit_class=catalog.cme1, min_credits=Decimal("7"))
    services.publish_plan(actor=None, plan=plan, now=at(2026, 12, 5))
    assignment = Assignment.objects.select_related("period__plan").get(period__plan=plan, employee=org.head)
    record_completion(employee=org.head, course=catalog.video, completed_at=at(2026, 3, 1), source="manual")
    record_completion(employee=org.head, course=catalog.meeting, completed_at=at(2026, 12, 2), source="manual")
    progress = progress_for([assignment], now=at(2026, 12, 10))[0]
    assert progress.credits_due and [(c.done, c.met) for c in progress.credits] == [
        (Decimal("3"), False), (Decimal("3"), True), (Decimal("2"), False)]
    assert (progress.figures.complete, progress.figures.missing) == (False, [
        {"what": "credits", "owed": "4.00", "credit_class": "", "category": ""},
        {"what": "credits", "owed": "5.00", "credit_class": str(catalog.cme1), "category": ""}])
    record_completion(employee=org.head, course=catalog.clinical_video, completed_at=at(2026, 12, 3),
                      source="manual")
    figures = progress_for([assignment], now=at(2026, 12, 10))[0].figures
    assert (figures.complete, figures.completed_at, figures.missing, figures.credits) == (
        True, at(2026, 12, 10), [], Decimal("6"))


def test_a_plan_that_follows_the_credit_rules_is_complete_when_they_are_met(org, catalog):
    create_from_preset(actor=None, code="national_2024", from_year=2026)
    plan = LearningPlan.objects.create(name="Continuing education", period_type=PeriodType.YEARLY,
                                       starts_on=dt.date(2026, 1, 1), audience_levels=[Level.MANAGER],
                                       follows_credit_rules=True)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 1))
    assignment = Assignment.objects.select_related("period__plan").get(employee=org.learner)
    progress = progress_for([assignment], now=at(2026, 3, 1))[0]
    assert progress.credits_due and progress.rules is not None and not progress.rules.met
    assert (progress.complete, progress.figures.missing) == (False, progress.rules.missing)
    assert len(progress.rules.missing) == 2
    outside = outside_credit(org.learner, catalog, "25", at(2026, 6, 1))
    outside.seconds = 90 * HOUR
    outside.save()
    progress = progress_for([assignment], now=at(2026, 7, 1))[0]
    assert progress.rules.met and progress.complete and progress.figures.missing == []
    assert progress.figures.completed_at == at(2026, 7, 1)


def test_a_period_is_complete_once_its_required_course_is(org, catalog):
    plan = hospital_plan(org, catalog, min_total_seconds=HOUR, min_video_seconds=0, min_offline_seconds=0)
    PlanItem.objects.create(plan=plan, course=catalog.video, position=1)
    services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 10))
    assignment = Assignment.objects.select_related("period__plan").get(period__starts_at=at(2026, 3, 1),
                                                                       employee=org.head)
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=HOUR, occurred_at=at(2026, 3, 2))
    figures = progress_for([assignment], now=at(2026, 3, 20))[0].figures
    assert (figures.complete, figures.missing) == (
        False, [{"what": "course", "course_id": catalog.video.pk, "title": "Leading a ward"}])
    record_completion(employee=org.head, course=catalog.video, completed_at=at(2026, 3, 7), source="manual")
    figures = progress_for([assignment], now=at(2026, 3, 20))[0].figures
    assert (figures.complete, figures.completed_at, figures.required_done, figures.missing) == (
        True, at(2026, 3, 7), 1, [])
