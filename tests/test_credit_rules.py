"""Yearly credit rule sets: which set judges a year, caps, conversions, and a yearly plan judged by them."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from learntrace.catalog.models import Course, CourseKind
from learntrace.creditrules.judge import Cap, CreditItem, Line, judge
from learntrace.creditrules.models import CreditRuleSet, CreditSource
from learntrace.creditrules.presets import create_from_preset
from learntrace.creditrules.selectors import judge_year, rule_set_for
from learntrace.org.models import Level
from learntrace.plans import services as plan_services
from learntrace.plans.models import Assignment, LearningPlan, PeriodType, PlanDepartment
from learntrace.plans.progress import progress_for
from learntrace.records.models import OutsideCredit
from learntrace.records.services import record_completion

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600
D = Decimal


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def item(key, day, credits, *, hours=0, source=CreditSource.MEETING, credit_class=None, category=None):
    return CreditItem(key=key, label=key, on=dt.date(2026, 1, day), credits=D(credits), seconds=hours * HOUR,
                      source=source, credit_class_id=credit_class, category_id=category)


def rules(**fields):
    return CreditRuleSet(from_year=2026, name="test", **fields)


def test_self_study_is_counted_up_to_its_cap_in_the_order_earned():
    rule_set = rules(min_credits=D("25"))
    items = [item("a", 1, "6", source=CreditSource.SELF_STUDY), item("b", 2, "6", source=CreditSource.SELF_STUDY),
             item("c", 3, "3", source=CreditSource.SELF_STUDY), item("d", 4, "12")]
    judged = judge(rule_set, items, year=2026, lines=[], caps=[Cap(CreditSource.SELF_STUDY, "self", D("10"))],
                   professional_category_ids=set())
    assert [(j.item.key, j.counted, j.cut_by) for j in judged.items] == [
        ("a", D("6"), []), ("b", D("4"), ["source"]), ("c", D("0"), ["source"]), ("d", D("12"), [])]
    assert judged.counted == D("22") and not judged.met
    assert judged.missing == [{"what": "credits", "owed": "3", "credit_class": "", "category": ""}]
    assert judged.caps[0].used == D("10")


def test_three_hours_make_a_credit_and_a_project_counts_at_most_ten():
    rule_set = rules(min_credits=D("25"), hours_per_credit=D("3"), max_credits_per_project=D("10"))
    items = [item("long", 1, "2", hours=45), item("short", 2, "9", hours=7), item("none", 3, "1", hours=0)]
    judged = judge(rule_set, items, year=2026, lines=[], caps=[], professional_category_ids=set())
    # 45 h / 3 = 15, cut to 10; 7 h / 3 = 2.33 (stated credits ignored); 0 h earn nothing.
    assert [(j.earned, j.counted, j.cut_by) for j in judged.items] == [
        (D("10"), D("10"), ["project"]), (D("2.33"), D("2.33"), []), (D("0.00"), D("0.00"), [])]
    assert judged.counted == D("12.33")


def test_older_scheme_counts_class_i_up_to_ten_and_asks_for_both_minimums():
    rule_set = rules(min_credits=D("25"))
    lines = [Line(1, None, "I", D("5"), D("10")), Line(2, None, "II", D("15"), D("20"))]
    items = [item("i1", 1, "8", credit_class=1), item("i2", 2, "8", credit_class=1),
             item("ii", 3, "12", credit_class=2)]
    judged = judge(rule_set, items, year=2026, lines=lines, caps=[], professional_category_ids=set())
    assert [j.counted for j in judged.items] == [D("8"), D("2"), D("12")]
    assert judged.items[1].cut_by == ["line"]
    assert (judged.lines[0].done, judged.lines[1].done, judged.counted) == (D("10"), D("12"), D("22"))
    assert judged.missing == [{"what": "credits", "owed": "3", "credit_class": "", "category": ""},
                              {"what": "credits", "owed": "3", "credit_class": "II", "category": ""}]


def test_professional_subjects_need_two_thirds_of_the_hours_exactly():
    rule_set = rules(min_credits=D("0"), min_hours=D("90"), professional_min_share="2/3")
    items = [item("p", 1, "1", hours=60, category=7), item("q", 2, "1", hours=30, category=8)]
    judged = judge(rule_set, items, year=2026, lines=[], caps=[], professional_category_ids={7})
    assert judged.seconds == 90 * HOUR and judged.hours_met and judged.share_met and judged.met
    short = judge(rule_set, items[:1] + [item("q", 2, "1", hours=31, category=8)], year=2026, lines=[], caps=[],
                  professional_category_ids={7})
    assert not short.share_met
    assert short.missing == [{"what": "credits", "rule": "professional_share", "share": "2/3"}]
    few = judge(rule_set, items[:1], year=2026, lines=[], caps=[], professional_category_ids={7})
    assert few.missing == [{"what": "credits", "rule": "hours", "owed": 30 * HOUR}]


@pytest.fixture
def two_rule_sets(db):
    older = create_from_preset(actor=None, code="classes_i_ii", from_year=2025)
    national = create_from_preset(actor=None, code="national_2024", from_year=2026)
    return older, national


def test_each_year_is_judged_by_the_rule_set_in_force(two_rule_sets):
    older, national = two_rule_sets
    assert rule_set_for(2024) is None
    assert rule_set_for(2025) == older and rule_set_for(2026) == national and rule_set_for(2031) == national
    assert (national.min_credits, national.min_hours, list(national.caps.values_list("source", "max_credits"))) == (
        D("25"), D("90"), [(CreditSource.SELF_STUDY, D("10"))])
    assert list(older.lines.values_list("credit_class__code", "min_credits", "max_credits")) == [
        ("cme-class-1", D("5"), D("10")), ("cme-class-2", D("15"), D("20"))]


def test_a_credit_on_31_december_counts_in_its_year_and_one_on_1_january_in_the_next(org, catalog, two_rule_sets):
    older, _national = two_rule_sets
    class_i = older.lines.first().credit_class
    catalog.video.credit_class = class_i
    catalog.video.save()
    record_completion(employee=org.learner, course=catalog.video, completed_at=at(2025, 12, 31, 23, 59),
                      source="manual")
    record_completion(employee=org.learner, course=catalog.clinical_video, completed_at=at(2026, 1, 1, 0, 1),
                      source="manual")
    year_2025 = judge_year([org.learner.pk], 2025)[org.learner.pk]
    year_2026 = judge_year([org.learner.pk], 2026)[org.learner.pk]
    assert year_2025.rule_set == older and [j.item.label for j in year_2025.items] == ["Leading a ward"]
    assert (year_2025.lines[0].done, year_2025.lines[0].owed, year_2025.lines[1].owed) == (D("2"), D("3"), D("15"))
    assert year_2026.rule_set.from_year == 2026 and [j.item.label for j in year_2026.items] == ["Sepsis update"]
    # The national rules: self-study (a video) counts, the hours are the course's length.
    assert (year_2026.counted, year_2026.seconds, year_2026.lines) == (D("5"), HOUR, [])


def yearly_plan(org, **fields) -> LearningPlan:
    plan = LearningPlan.objects.create(name="Continuing education", period_type=PeriodType.YEARLY,
                                       starts_on=dt.date(2026, 1, 1), audience_levels=[Level.MANAGER], **fields)
    PlanDepartment.objects.create(plan=plan, department=org.root, include_subtree=True)
    return plan


def outside(employee, catalog, credits, on, *, kind=OutsideCredit.Kind.CONFERENCE, hours=0):
    return OutsideCredit.objects.create(
        employee=employee, kind=kind, title=f"Conference {on}", started_on=on, ended_on=on,
        credited_at=dt.datetime.combine(on, dt.time.min, tzinfo=SHANGHAI), credits=D(credits), seconds=hours * HOUR,
        category=catalog.clinical, certificate_sha256="0" * 64)


def test_a_yearly_plan_is_complete_only_when_the_rules_of_its_year_are_met(org, catalog, two_rule_sets):
    plan = yearly_plan(org, follows_credit_rules=True)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 1))
    assignment = Assignment.objects.select_related("period__plan").get(employee=org.learner)
    record_completion(employee=org.learner, course=catalog.clinical_video, completed_at=at(2026, 2, 1),
                      source="manual")
    long_course = Course.objects.create(title="Ward rounds", kind=CourseKind.VIDEO, category=catalog.clinical,
                                        duration_seconds=80 * HOUR, credits=D("12"), is_published=True)
    record_completion(employee=org.learner, course=long_course, completed_at=at(2026, 2, 2), source="manual")
    progress = progress_for([assignment], now=at(2026, 3, 1))[0]
    # Self-study 5 + 12 capped at 10; 81 h of 90.
    assert progress.rules.counted == D("10") and not progress.complete
    assert progress.figures.missing == [
        {"what": "credits", "owed": "15.00", "credit_class": "", "category": ""},
        {"what": "credits", "rule": "hours", "owed": 9 * HOUR}]
    outside(org.learner, catalog, "15", dt.date(2026, 12, 31), hours=9)
    progress = progress_for([assignment], now=at(2026, 3, 1))[0]
    assert progress.rules.counted == D("25") and progress.rules.met and progress.complete
    assert progress.figures.missing == [] and progress.figures.credits_year == D("32")


def test_credits_earned_elsewhere_count_towards_a_plans_own_credit_targets(org, catalog):
    from learntrace.plans.models import PlanCreditTarget

    plan = yearly_plan(org)
    PlanCreditTarget.objects.create(plan=plan, category=catalog.clinical, min_credits=D("4"))
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 1))
    assignment = Assignment.objects.select_related("period__plan").get(employee=org.learner)
    outside(org.learner, catalog, "3", dt.date(2025, 12, 31))  # the year before: not counted
    outside(org.learner, catalog, "4", dt.date(2026, 1, 1))
    progress = progress_for([assignment], now=at(2026, 3, 1))[0]
    assert progress.credits[0].done == D("4") and progress.credits[0].met and progress.rules is None
