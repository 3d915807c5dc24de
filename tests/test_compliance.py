"""Compliance: standings from the records, rules and consequences, due-day evaluation, freezing."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from learntrace.compliance import services
from learntrace.compliance.models import Consequence, DepartmentOutcome, PeriodState, Rule, Standing
from learntrace.core.models import AuditEntry
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan, PeriodType, PlanDepartment, PlanPeriod
from learntrace.records.services import correct_time, record_credited_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def monthly_plan(org, catalog, **overrides) -> LearningPlan:
    """Everyone in the hospital owes 2 hours a month, by the 25th."""
    fields = dict(name="Monthly 2 hours", period_type=PeriodType.MONTHLY, starts_on=dt.date(2026, 1, 1),
                  due_day=25, min_total_seconds=2 * HOUR)
    fields.update(overrides)
    plan = LearningPlan.objects.create(**fields)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 2, 9))
    return plan


def period_of(plan, month) -> PlanPeriod:
    return PlanPeriod.objects.get(plan=plan, starts_at=at(2026, month, 1))


def watch(employee, course, hours, when):
    return record_credited_time(employee=employee, course=course, seconds=int(hours * HOUR), occurred_at=when)


def standing(plan, employee, month) -> Standing:
    return Standing.objects.get(period=period_of(plan, month), employee=employee)


def test_standings_hold_the_figures_of_the_period(org, catalog):
    plan = monthly_plan(org, catalog)
    watch(org.learner, catalog.video, 1.5, at(2026, 3, 3, 10))
    watch(org.learner, catalog.meeting, 1, at(2026, 3, 9, 14))
    watch(org.learner, catalog.video, 5, at(2026, 2, 20, 10))  # February: another period
    watch(org.outsider, catalog.video, 0.5, at(2026, 3, 4, 10))

    services.refresh_changed(now=at(2026, 3, 10, 9))

    mine = standing(plan, org.learner, 3)
    assert (mine.video_seconds, mine.offline_seconds, mine.total_seconds) == (5400, 3600, 9000)
    assert mine.complete and mine.owed_seconds == 0 and mine.missing == []
    assert mine.completed_at == at(2026, 3, 9, 14)  # the fact that made the last missing piece
    assert mine.department == org.a1 and mine.department_path == org.a1.path
    assert mine.compliant is None  # not judged before the due day
    theirs = standing(plan, org.outsider, 3)
    assert not theirs.complete and theirs.owed_seconds == 1.5 * HOUR and theirs.completed_at is None
    assert theirs.missing == [{"what": "hours", "kind": "total", "owed": 5400}]
    assert standing(plan, org.learner, 2).total_seconds == 5 * HOUR
    assert standing(plan, org.head, 3).total_seconds == 0


def test_new_facts_are_picked_up_once(org, catalog):
    plan = monthly_plan(org, catalog)
    services.refresh_changed(now=at(2026, 3, 10, 9))
    watch(org.outsider, catalog.video, 2, at(2026, 3, 11, 10))
    assert services.refresh_changed(now=at(2026, 3, 11, 11)) == 3  # the outsider's Jan, Feb and March
    assert standing(plan, org.outsider, 3).complete
    assert services.refresh_changed(now=at(2026, 3, 11, 12)) == 0


def allowance_rule(plan, **fields) -> Rule:
    rule = Rule.objects.create(plan=plan, name="Monthly hours", **fields)
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Management allowance")
    Consequence.objects.create(rule=rule, applies_to="compliant", kind="score", name="Performance", value=5)
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="score", name="Performance", value=-5)
    return rule


def test_the_due_day_judges_and_the_close_freezes(org, catalog):
    plan = monthly_plan(org, catalog)
    allowance_rule(plan)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    watch(org.outsider, catalog.video, 1, at(2026, 3, 4, 10))

    services.refresh_changed(now=at(2026, 3, 20, 9))
    services.process_periods(now=at(2026, 3, 20, 9))
    assert standing(plan, org.learner, 3).compliant is None  # not due yet

    services.process_periods(now=at(2026, 3, 26, 0, 5))  # the 25th is over
    outsider = standing(plan, org.outsider, 3)
    assert outsider.compliant is False and outsider.score == -5
    assert outsider.consequences[0] == {"rule": plan.compliance_rules.get().pk, "name": "Management allowance",
                                        "kind": "flag", "applies_to": "non_compliant", "eligible": False}
    learner = standing(plan, org.learner, 3)
    assert learner.compliant is True and learner.score == 5
    assert [c["name"] for c in learner.consequences] == ["Performance"]

    # Catching up after the due day still counts until the month closes...
    late = watch(org.outsider, catalog.video, 1, at(2026, 3, 28, 10))
    services.refresh_changed(now=at(2026, 3, 28, 11))
    assert standing(plan, org.outsider, 3).compliant is True

    # ...but not once the period is frozen.
    services.process_periods(now=at(2026, 4, 1, 0, 5))
    march = period_of(plan, 3)
    assert PeriodState.objects.get(period=march).frozen_at == at(2026, 4, 1, 0, 5)
    correct_time(actor=org.admin.user, fact=late, seconds_delta=-HOUR, reason="Watched on a colleague's account")
    services.refresh_changed(now=at(2026, 4, 2, 9))
    services.refresh_open(now=at(2026, 4, 2, 9))
    frozen = standing(plan, org.outsider, 3)
    assert frozen.compliant is True and frozen.total_seconds == 2 * HOUR

    # An admin reopens it with a reason: the correction now counts; freezing again is explicit.
    with pytest.raises(ValidationError):
        services.reopen_period(march, actor=org.admin.user, reason="  ", now=at(2026, 4, 2, 10))
    services.reopen_period(march, actor=org.admin.user, reason="Proxy watching found", now=at(2026, 4, 2, 10))
    reopened = standing(plan, org.outsider, 3)
    assert reopened.compliant is False and reopened.total_seconds == HOUR and reopened.frozen_at is None
    assert AuditEntry.objects.filter(action="reopen", summary__contains="Proxy watching found").exists()
    services.process_periods(now=at(2026, 4, 3, 0, 5))
    assert PeriodState.objects.get(period=march).frozen_at is None  # stays open for the admin
    services.freeze_period(march, actor=org.admin.user, now=at(2026, 4, 3, 9))
    assert standing(plan, org.outsider, 3).frozen_at == at(2026, 4, 3, 9)
    with pytest.raises(ValidationError):
        services.freeze_period(march, actor=org.admin.user, now=at(2026, 4, 3, 9))


def test_without_rules_compliance_means_every_target_met(org, catalog):
    plan = monthly_plan(org, catalog, requires_reflection=True)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))
    learner = standing(plan, org.learner, 3)
    assert learner.compliant is False and learner.missing == [{"what": "reflection"}]
    assert learner.reflection_status == "none"
    rule = Rule.objects.create(plan=plan, name="Hours only", counts_reflection=False)
    services.evaluate_period(period_of(plan, 3), now=at(2026, 3, 26, 2))
    assert standing(plan, org.learner, 3).compliant is True
    rule.delete()


def test_a_department_bonus_is_cut_when_a_share_of_its_members_miss(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Department hours")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="percent", name="Department bonus",
                               value=Decimal("-5"), level="department")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Excellent department",
                               level="department", department_share=60)
    # HR has the admin and the auditor: one of two misses (50 %).
    watch(org.admin, catalog.video, 2, at(2026, 3, 3, 10))
    watch(org.head, catalog.video, 2, at(2026, 3, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))

    outcomes = {o.department: o for o in DepartmentOutcome.objects.filter(period=period_of(plan, 3))}
    hr = outcomes[org.hr]
    assert (hr.members, hr.non_compliant) == (2, 1)
    assert [(c["name"], c.get("value")) for c in hr.consequences] == [("Department bonus", "-5.00")]
    surgery = outcomes[org.b]  # the outsider alone, missing: 100 %
    assert [c["name"] for c in surgery.consequences] == ["Department bonus", "Excellent department"]
    assert outcomes[org.a].consequences == []  # the head did the hours


def test_a_quarterly_consequence_follows_from_monthly_misses(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Quarterly appraisal", window="quarter")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="percent", name="Appraisal",
                               value=Decimal("-10"))
    for month in (1, 3):  # the learner misses February
        watch(org.learner, catalog.video, 2, at(2026, month, 5, 10))
    for month in (1, 2, 3):
        watch(org.head, catalog.video, 2, at(2026, month, 5, 10))
    services.process_periods(now=at(2026, 4, 1, 1))

    assert standing(plan, org.learner, 1).consequences == []
    assert standing(plan, org.learner, 2).compliant is False
    assert standing(plan, org.learner, 2).consequences == []  # February does not close the quarter
    march = standing(plan, org.learner, 3)
    assert march.compliant is True
    assert [(c["name"], c["value"], c["window"]) for c in march.consequences] == [("Appraisal", "-10.00", "2026-Q1")]
    assert standing(plan, org.head, 3).consequences == []


def test_recognition_for_those_above_target_and_the_top(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Stars")
    Consequence.objects.create(rule=rule, applies_to="above_target", kind="title", name="培训之星")
    Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Top learner", top_n=1)
    watch(org.learner, catalog.video, 4, at(2026, 3, 3, 10))
    watch(org.head, catalog.video, 2, at(2026, 3, 3, 10))  # exactly the target: not above it
    watch(org.outsider, catalog.video, 1, at(2026, 3, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))
    assert standing(plan, org.learner, 3).recognitions == ["培训之星", "Top learner"]
    assert standing(plan, org.head, 3).recognitions == []
    assert standing(plan, org.outsider, 3).recognitions == []


def test_someone_removed_from_the_audience_is_not_judged(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    march.assignments.filter(employee=org.outsider).update(removed_at=at(2026, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))
    assert Standing.objects.get(period=march, employee=org.outsider).compliant is None


def test_a_period_cannot_be_frozen_before_it_closes(org, catalog):
    plan = monthly_plan(org, catalog)
    with pytest.raises(ValidationError):
        services.freeze_period(period_of(plan, 3), actor=org.admin.user, now=at(2026, 3, 30))
    with pytest.raises(ValidationError):
        services.reopen_period(period_of(plan, 3), actor=org.admin.user, reason="x", now=at(2026, 3, 30))


def test_refreshing_costs_the_same_queries_for_ten_or_forty_people(org, catalog, django_assert_max_num_queries):
    from conftest import make_employee

    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)

    def refresh_all():
        services.refresh_period(march, now=at(2026, 3, 10, 9))

    refresh_all()
    with django_assert_max_num_queries(20) as few:
        refresh_all()
    for n in range(35):
        person = make_employee(f"N{n:03d}", f"New {n}", org.b)
        march.assignments.create(employee=person, joined_at=at(2026, 3, 2))
        watch(person, catalog.video, 1, at(2026, 3, 3, 10))
    refresh_all()
    with django_assert_max_num_queries(len(few.captured_queries)):
        refresh_all()
    assert Standing.objects.filter(period=march).count() == 40


def test_the_declared_sums_are_the_columns_of_the_per_department_figures():
    from learntrace.compliance.models import PeriodFigures
    from learntrace.compliance.rollup import SUMS

    where = {"id", "period", "plan", "department", "department_path"}
    assert tuple(f.name for f in PeriodFigures._meta.get_fields() if f.concrete and f.name not in where) == SUMS

