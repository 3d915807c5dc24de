"""Compliance rules with exact values: the windows a period closes, each rule's verdict, each
consequence's entry, and the boundaries where a verdict turns."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from learntrace.compliance import services
from learntrace.compliance.models import Consequence, DepartmentOutcome, PeriodState, Rule, Standing
from learntrace.core.models import AuditEntry
from learntrace.plans.models import Assignment, PlanPeriod
from learntrace.records.services import correct_time
from test_compliance import HOUR, monthly_plan, period_of, watch

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def month(year, number) -> PlanPeriod:
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return PlanPeriod(starts_at=at(year, number, 1), ends_at=at(following.year, following.month, 1))


def test_a_period_closes_the_quarter_and_the_year_it_ends():
    march, june, december, may = month(2026, 3), month(2026, 6), month(2026, 12), month(2026, 5)
    assert services.window_bounds("period", may) == (at(2026, 5, 1), at(2026, 6, 1))
    assert services.window_bounds("quarter", march) == (at(2026, 1, 1), at(2026, 4, 1))
    assert services.window_bounds("quarter", june) == (at(2026, 4, 1), at(2026, 7, 1))
    assert services.window_bounds("quarter", december) == (at(2026, 10, 1), at(2027, 1, 1))
    assert services.window_bounds("quarter", may) is None
    assert services.window_bounds("year", december) == (at(2026, 1, 1), at(2027, 1, 1))
    assert services.window_bounds("year", march) is None
    assert services.window_label("quarter", (at(2026, 1, 1), at(2026, 4, 1))) == "2026-Q1"
    assert services.window_label("quarter", (at(2026, 4, 1), at(2026, 7, 1))) == "2026-Q2"
    assert services.window_label("quarter", (at(2026, 10, 1), at(2027, 1, 1))) == "2026-Q4"
    assert services.window_label("year", (at(2026, 1, 1), at(2027, 1, 1))) == "2026"
    assert services.window_label("period", (at(2026, 5, 1), at(2026, 6, 1))) == ""


def test_a_period_ending_other_than_at_a_local_midnight_closes_no_quarter():
    odd = [PlanPeriod(starts_at=at(2026, 3, 1), ends_at=end)
           for end in (at(2026, 4, 2), at(2026, 4, 1, 1), at(2026, 4, 1, 0, 1))]
    assert [services.window_bounds("quarter", period) for period in odd] == [None, None, None]
    # A quarter in another zone's midnight is not a local one.
    utc = PlanPeriod(starts_at=at(2026, 3, 1), ends_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert services.window_bounds("quarter", utc) is None


def person(employee_id, **figures) -> Standing:
    """A standing as judging reads it: no database."""
    return Standing(employee_id=employee_id, department_id=figures.pop("department_id", 1), **figures)


def test_a_rule_is_met_only_by_what_it_counts():
    everything = Rule(counts_hours=True, counts_courses=True, counts_credits=True, counts_reflection=True,
                      counts_quizzes=True)
    done = dict(missing=[], required_total=3, required_done=3, reflection_status="submitted",
                quizzes_required=2, quizzes_passed=2)
    assert services.rule_met(everything, person(1, **done)) is True
    assert services.rule_met(everything, person(1, **{**done, "reflection_status": ""})) is True  # not required
    misses = [
        ("hours", {"missing": [{"what": "hours", "kind": "total", "owed": 1}]}),
        ("courses", {"required_done": 2}),
        ("credits", {"missing": [{"what": "credits", "owed": "1"}]}),
        ("reflection", {"reflection_status": "none"}),
        ("quizzes", {"quizzes_passed": 1}),
    ]
    for counted, miss in misses:
        standing = person(1, **{**done, **miss})
        assert services.rule_met(everything, standing) is False, counted
        assert services.rule_met(Rule(**{f"counts_{name}": name != counted for name in
                                         ("hours", "courses", "credits", "reflection", "quizzes")}),
                                 standing) is True, counted
    # Something else missing (a course, a reflection) is not a missing hour or credit.
    assert services.rule_met(everything, person(1, **{**done, "missing": [{"what": "reflection"}]})) is True
    # More than required counts as done.
    assert services.rule_met(everything, person(1, **{**done, "required_done": 4, "quizzes_passed": 3})) is True


def test_an_accepted_reflection_may_be_required():
    strict = Rule(counts_reflection=True, reflection_must_be_accepted=True)
    lenient = Rule(counts_reflection=True, reflection_must_be_accepted=False)
    verdicts = {status: (services.rule_met(strict, person(1, reflection_status=status)),
                         services.rule_met(lenient, person(1, reflection_status=status)))
                for status in ("none", "submitted", "accepted", "returned")}
    assert verdicts == {"none": (False, False), "submitted": (False, True), "accepted": (True, True),
                        "returned": (False, False)}


def consequence(kind, applies_to, name="Allowance", value="0", **fields) -> Consequence:
    return Consequence(pk=fields.pop("pk", None), rule_id=7, kind=kind, applies_to=applies_to, name=name,
                       value=Decimal(value), **fields)


def test_each_kind_of_consequence_writes_its_entry():
    assert services._entry(consequence("percent", "non_compliant", "Bonus", "-5.00"), "") == {
        "rule": 7, "name": "Bonus", "kind": "percent", "applies_to": "non_compliant", "value": "-5.00"}
    assert services._entry(consequence("score", "compliant", "Points", "2.50"), "2026-Q1") == {
        "rule": 7, "name": "Points", "kind": "score", "applies_to": "compliant", "value": "2.50",
        "window": "2026-Q1"}
    assert services._entry(consequence("flag", "non_compliant"), "") == {
        "rule": 7, "name": "Allowance", "kind": "flag", "applies_to": "non_compliant", "eligible": False}
    assert services._entry(consequence("flag", "compliant"), "2026") == {
        "rule": 7, "name": "Allowance", "kind": "flag", "applies_to": "compliant", "eligible": True,
        "window": "2026"}
    assert services._entry(consequence("title", "top", "Star"), "", members=3) == {
        "rule": 7, "name": "Star", "kind": "title", "applies_to": "top", "members": 3}


def judged(*standings):
    for standing in standings:
        standing.consequences, standing.recognitions, standing.score = [], [], Decimal("0")
    return list(standings)


def test_person_consequences_go_to_whom_they_apply_to():
    # 1 met and is above target, 2 met exactly at target, 3 missed above target (hours but not the rest).
    counted = judged(person(1, total_seconds=7201, target_seconds=7200),
                     person(2, total_seconds=7200, target_seconds=7200),
                     person(3, total_seconds=9000, target_seconds=7200))
    met, hours = {1: True, 2: True, 3: False}, {1: 7201, 2: 7200, 3: 9000}

    def chosen(applies_to, top=frozenset()):
        judged(*counted)
        services._person_consequence(consequence("flag", applies_to), "", counted, met, hours, set(top))
        return [s.employee_id for s in counted if s.consequences]

    assert chosen("compliant") == [1, 2]
    assert chosen("non_compliant") == [3]
    assert chosen("above_target") == [1]
    assert chosen("top", {2}) == [2]


def test_scores_add_up_and_a_title_is_held_once():
    counted = judged(person(1), person(2))
    met = {1: True, 2: False}
    for given in (consequence("score", "compliant", "Points", "5"), consequence("score", "compliant", "Points", "2.5"),
                  consequence("score", "non_compliant", "Points", "-3"),
                  consequence("title", "compliant", "Star"), consequence("title", "compliant", "Star"),
                  consequence("percent", "compliant", "Bonus", "10")):
        services._person_consequence(given, "", counted, met, {}, set())
    first, second = counted
    assert (first.score, second.score) == (Decimal("7.5"), Decimal("-3"))
    assert (first.recognitions, second.recognitions) == (["Star"], [])
    assert [c["name"] for c in first.consequences] == ["Points", "Points", "Star", "Star", "Bonus"]
    assert [c["name"] for c in second.consequences] == ["Points"]


def test_a_department_consequence_applies_from_its_share_of_members_who_miss():
    # Department 1: 4 members, 1 misses (25 %); department 2: 2 members, none misses; department 3: 3 of 3.
    counted = [person(n, department_id=d) for n, d in ((1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (6, 2),
                                                        (7, 3), (8, 3), (9, 3))]
    met = {1: False, 2: True, 3: True, 4: True, 5: True, 6: True, 7: False, 8: False, 9: False}

    def applied(applies_to, share):
        outcomes: dict = {}
        services._department_consequence(consequence("percent", applies_to, "Bonus", "-5", level="department",
                                                      department_share=share), "", counted, met, outcomes)
        return {d: (f["members"], f["non_compliant"], [(c["non_compliant"], c["members"]) for c in f["consequences"]])
                for d, f in outcomes.items()}

    assert applied("non_compliant", 0) == {1: (4, 1, [(1, 4)]), 2: (2, 0, []), 3: (3, 3, [(3, 3)])}
    assert applied("non_compliant", 25) == {1: (4, 1, [(1, 4)]), 2: (2, 0, []), 3: (3, 3, [(3, 3)])}
    assert applied("non_compliant", 26) == {1: (4, 1, []), 2: (2, 0, []), 3: (3, 3, [(3, 3)])}
    assert applied("non_compliant", 100) == {1: (4, 1, []), 2: (2, 0, []), 3: (3, 3, [(3, 3)])}
    # "Those who comply": the departments where the share is not reached.
    assert applied("compliant", 25) == {1: (4, 1, []), 2: (2, 0, [(0, 2)]), 3: (3, 3, [])}
    assert applied("compliant", 26) == {1: (4, 1, [(1, 4)]), 2: (2, 0, [(0, 2)]), 3: (3, 3, [])}


def test_a_departments_share_of_members_who_miss_is_not_rounded():
    # 2 of 3 members miss: 66.67 %, which reaches a share of 66 % and not one of 67 %.
    counted = [person(n, department_id=1) for n in (1, 2, 3)]
    met = {1: False, 2: False, 3: True}

    def applied(share):
        outcomes: dict = {}
        services._department_consequence(consequence("flag", "non_compliant", level="department",
                                                      department_share=share), "", counted, met, outcomes)
        return [(c["non_compliant"], c["members"]) for c in outcomes[1]["consequences"]]

    assert (applied(66), applied(67)) == ([(2, 3)], [])


def test_a_departments_outcome_keeps_the_most_misses_of_its_rules():
    counted = [person(1, department_id=1), person(2, department_id=1)]
    outcomes: dict = {}
    for met in ({1: False, 2: False}, {1: True, 2: False}):
        services._department_consequence(consequence("flag", "non_compliant", level="department"), "2026-Q1",
                                         counted, met, outcomes)
    assert outcomes == {1: {"members": 2, "non_compliant": 2, "consequences": [
        {"rule": 7, "name": "Allowance", "kind": "flag", "applies_to": "non_compliant", "eligible": False,
         "window": "2026-Q1", "non_compliant": 2, "members": 2},
        {"rule": 7, "name": "Allowance", "kind": "flag", "applies_to": "non_compliant", "eligible": False,
         "window": "2026-Q1", "non_compliant": 1, "members": 2}]}}


def test_ids_are_read_in_batches_of_a_thousand():
    assert [len(batch) for batch in services._batches(range(2001))] == [1000, 1000, 1]
    assert list(services._batches([5, 6, 7], 2)) == [[5, 6], [7]]
    assert list(services._batches([])) == []


# --- with the database: the hospital's monthly plan (5 people, 2 h a month by the 25th) -----------

def test_the_worker_says_how_many_periods_it_judged_froze_and_refreshed(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    # January and February are past their due day and closed; March is only past its due day.
    assert services.process_periods(now=at(2026, 3, 26, 1)) == {"evaluated": 3, "frozen": 2}
    assert services.process_periods(now=at(2026, 3, 26, 2)) == {"evaluated": 0, "frozen": 0}
    assert [services.is_frozen(period_of(plan, n)) for n in (1, 2, 3)] == [True, True, False]
    # Only March is open to a refresh; each of its 5 people is refreshed.
    assert services.refresh_open(now=at(2026, 3, 27, 9)) == 5
    assert services.refresh_period(march, now=at(2026, 3, 27, 9)) == 5
    assert services.evaluate_period(march, now=at(2026, 3, 27, 9)) == 5
    learner = march.assignments.get(employee=org.learner)
    assert services.judge_people(march, [learner.pk], now=at(2026, 3, 27, 9)) == 1
    # Frozen at the very moment it closes; then nothing is refreshed or judged in it.
    state = services.freeze_period(march, actor=org.admin.user, now=at(2026, 4, 1))
    assert state.frozen_at == at(2026, 4, 1) and services.is_frozen(march)
    assert services.refresh_period(march, now=at(2026, 4, 1, 1)) == 0
    assert services.evaluate_period(march, now=at(2026, 4, 1, 1)) == 0
    assert services.refresh_open(now=at(2026, 4, 1, 1)) == 0
    assert Standing.objects.get(period=march, employee=org.learner).frozen_at == at(2026, 4, 1)
    assert AuditEntry.objects.filter(action="freeze").count() == 1


def test_a_period_is_frozen_by_the_worker_at_the_moment_it_closes(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    with pytest.raises(ValidationError, match="can only be frozen once it has closed"):
        services.freeze_period(march, now=at(2026, 3, 31, 23, 59, 59))
    assert services.process_periods(now=at(2026, 3, 31, 23, 59, 59)) == {"evaluated": 3, "frozen": 2}
    assert services.process_periods(now=at(2026, 4, 1)) == {"evaluated": 0, "frozen": 1}
    assert PeriodState.objects.get(period=march).frozen_at == at(2026, 4, 1)
    assert AuditEntry.objects.filter(action="freeze").count() == 0  # the worker is no actor


def test_a_reopening_keeps_its_reason_to_its_column_and_the_audit_to_its_summary(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    services.process_periods(now=at(2026, 4, 1, 1))
    reason = "r" * 1200
    state = services.reopen_period(march, actor=org.admin.user, reason=f"  {reason}\n", now=at(2026, 4, 2, 10))
    state.refresh_from_db()
    assert (state.reopen_reason, state.reopened_at, state.reopened_by, state.frozen_at) == (
        "r" * 1000, at(2026, 4, 2, 10), org.admin.user, None)
    entry = AuditEntry.objects.get(action="reopen")
    assert entry.summary == f"{march}: {reason}"[:300] and len(entry.summary) == 300
    # Reopened: the worker leaves it open, and it is judged again at once.
    assert services.process_periods(now=at(2026, 4, 3)) == {"evaluated": 0, "frozen": 0}
    assert Standing.objects.get(period=march, employee=org.learner).evaluated_at == at(2026, 4, 2, 10)


def test_the_top_n_are_those_with_most_hours_among_those_who_met_the_rule(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Stars")
    Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Top one", top_n=1)
    Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Top sixty", top_n=60)
    Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Top nobody", top_n=None)
    # The head and the learner tie at 3 h (the one with the lower id wins); the outsider has 1 h and missed.
    watch(org.learner, catalog.video, 3, at(2026, 3, 3, 10))
    watch(org.head, catalog.video, 3, at(2026, 3, 3, 10))
    watch(org.admin, catalog.video, 2, at(2026, 3, 3, 10))
    watch(org.outsider, catalog.video, 1, at(2026, 3, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))
    first = min(org.learner, org.head, key=lambda employee: employee.pk)
    titles = {s.employee_id: s.recognitions for s in Standing.objects.filter(period=period_of(plan, 3))}
    assert titles == {first.pk: ["Top one", "Top sixty"],
                      ({org.learner.pk, org.head.pk} - {first.pk}).pop(): ["Top sixty"],
                      org.admin.pk: ["Top sixty"], org.outsider.pk: [], org.auditor.pk: []}


def test_a_quarters_top_n_counts_the_hours_of_the_whole_quarter(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Quarter's best", window="quarter")
    Consequence.objects.create(rule=rule, applies_to="top", kind="score", name="Best", value=3, top_n=1)
    # Every month met by both; the learner has 10 h in the quarter (2 in March), the head 7 h (3 in March).
    for person, months in ((org.learner, (6, 2, 2)), (org.head, (2, 2, 3))):
        for number, hours in enumerate(months, start=1):
            watch(person, catalog.video, hours, at(2026, number, 5, 10))
    services.process_periods(now=at(2026, 4, 1, 1))
    march = {s.employee_id: (s.score, [c["window"] for c in s.consequences])
             for s in Standing.objects.filter(period=period_of(plan, 3), employee__in=[org.learner, org.head])}
    assert march == {org.learner.pk: (Decimal("3"), ["2026-Q1"]), org.head.pk: (Decimal("0"), [])}


def test_each_entry_point_dates_what_it_writes_with_the_moment_it_is_given(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    watch(org.learner, catalog.video, 1, at(2026, 3, 3, 10))
    services.refresh_changed(now=at(2026, 3, 4, 9))
    mine = Standing.objects.get(period=march, employee=org.learner)
    assert (mine.refreshed_at, mine.changed_at, mine.evaluated_at) == (at(2026, 3, 4, 9), at(2026, 3, 4, 9), None)
    watch(org.learner, catalog.video, 1, at(2026, 3, 5, 10))
    services.refresh_open(now=at(2026, 3, 6, 9))
    mine.refresh_from_db()
    assert (mine.refreshed_at, mine.complete, mine.completed_at) == (at(2026, 3, 6, 9), True, at(2026, 3, 5, 10))
    correct_time(actor=org.admin.user, fact=watch(org.outsider, catalog.video, 1, at(2026, 3, 5, 10)),
                 seconds_delta=-60, reason="Paused")
    services.refresh_assignments([march.assignments.get(employee=org.outsider).pk], now=at(2026, 3, 7, 9))
    theirs = Standing.objects.get(period=march, employee=org.outsider)
    assert (theirs.refreshed_at, theirs.total_seconds) == (at(2026, 3, 7, 9), 3540)
    services.process_periods(now=at(2026, 3, 26, 1))
    assert PeriodState.objects.get(period=march).evaluated_at == at(2026, 3, 26, 1)
    services.evaluate_period(march, now=at(2026, 3, 27, 9))
    services.judge_people(march, [theirs.assignment_id], now=at(2026, 3, 28, 9))
    judged = dict(Standing.objects.filter(period=march).values_list("employee_id", "evaluated_at"))
    assert judged[org.learner.pk] == at(2026, 3, 27, 9) and judged[org.outsider.pk] == at(2026, 3, 28, 9)
    assert PeriodState.objects.get(period=march).evaluated_at == at(2026, 3, 27, 9)  # a whole judgement only


def test_a_standing_keeps_the_moment_it_became_complete_until_it_is_no_longer(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    first = watch(org.learner, catalog.video, 1, at(2026, 3, 3, 10))
    second = watch(org.learner, catalog.video, 1, at(2026, 3, 9, 10))
    services.refresh_changed(now=at(2026, 3, 10, 9))
    assert Standing.objects.get(period=march, employee=org.learner).completed_at == at(2026, 3, 9, 10)
    # An hour more on the 10th, and the hour of the 9th taken off: complete since the 9th all the
    # same (nothing it shows changed: not even written).
    watch(org.learner, catalog.video, 1, at(2026, 3, 10, 10))
    correct_time(actor=org.admin.user, fact=second, seconds_delta=-HOUR, reason="Proxy")
    services.refresh_changed(now=at(2026, 3, 11, 9))
    mine = Standing.objects.get(period=march, employee=org.learner)
    assert (mine.total_seconds, mine.complete, mine.completed_at, mine.refreshed_at) == (
        2 * HOUR, True, at(2026, 3, 9, 10), at(2026, 3, 10, 9))
    # Another hour taken off: no longer complete, and no moment of completion.
    correct_time(actor=org.admin.user, fact=first, seconds_delta=-HOUR, reason="Proxy")
    services.refresh_changed(now=at(2026, 3, 12, 9))
    mine.refresh_from_db()
    assert (mine.total_seconds, mine.complete, mine.completed_at) == (HOUR, False, None)


def test_a_refresh_that_changes_nothing_writes_nothing(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    services.refresh_period(march, now=at(2026, 3, 4, 9))
    services.refresh_period(march, now=at(2026, 3, 5, 9))
    assert set(Standing.objects.filter(period=march).values_list("refreshed_at", "changed_at")) == {
        (at(2026, 3, 4, 9), at(2026, 3, 4, 9))}


def test_nobody_is_added_to_a_frozen_period(org, catalog):
    from conftest import make_employee

    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    services.process_periods(now=at(2026, 4, 1, 1))
    late = march.assignments.create(employee=make_employee("N001", "Newcomer", org.b), joined_at=at(2026, 3, 30))
    assert services.refresh_period(march, now=at(2026, 4, 2, 9)) == 0
    assert services.refresh_changed(now=at(2026, 4, 2, 9)) == 0
    assert not Standing.objects.filter(assignment=late).exists()
    assert Standing.objects.filter(period=march).count() == 5


def quarterly_appraisal(plan) -> Rule:
    rule = Rule.objects.create(plan=plan, name="Quarterly appraisal", window="quarter")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="percent", name="Appraisal",
                               value=Decimal("-10"))
    return rule


def appraisals(plan, month) -> dict:
    return {s.employee_id: [c["window"] for c in s.consequences]
            for s in Standing.objects.filter(period=period_of(plan, month))}


def test_a_quarter_is_judged_from_every_period_of_whoever_is_still_counted(org, catalog):
    plan = monthly_plan(org, catalog)
    quarterly_appraisal(plan)
    # The outsider left the audience in March, after meeting January and February: no longer judged.
    period_of(plan, 3).assignments.filter(employee=org.outsider).update(removed_at=at(2026, 3, 10))
    for person, months in ((org.outsider, (1, 2)), (org.learner, (1, 3)), (org.head, (1, 2, 3))):
        for number in months:
            watch(person, catalog.video, 2, at(2026, number, 5, 10))
    services.process_periods(now=at(2026, 4, 1, 1))
    assert appraisals(plan, 3) == {org.learner.pk: ["2026-Q1"], org.head.pk: [], org.outsider.pk: [],
                                   org.admin.pk: ["2026-Q1"], org.auditor.pk: ["2026-Q1"]}


def test_a_reopened_earlier_period_changes_the_quarter_judged_in_a_later_one(org, catalog):
    plan = monthly_plan(org, catalog)
    quarterly_appraisal(plan)
    for number, hours in ((1, 2), (2, 1), (3, 2)):  # February missed by an hour
        watch(org.learner, catalog.video, hours, at(2026, number, 5, 10))
    services.refresh_changed(now=at(2026, 3, 25, 12))  # the worker keeps the standings
    services.process_periods(now=at(2026, 3, 26, 1))  # March judged at its due day; February frozen
    assert appraisals(plan, 3)[org.learner.pk] == ["2026-Q1"]
    services.reopen_period(period_of(plan, 2), actor=org.admin.user, reason="Lost records", now=at(2026, 3, 26, 9))
    watch(org.learner, catalog.meeting, 1, at(2026, 2, 20, 14))  # the February meeting, recorded late
    watch(org.outsider, catalog.video, 2, at(2026, 3, 26, 9, 30))  # and someone catching up on March
    services.refresh_changed(now=at(2026, 3, 26, 10))
    assert standing_of(plan, org.learner, 2).compliant is True
    assert standing_of(plan, org.outsider, 3).compliant is True
    march = standing_of(plan, org.learner, 3)
    assert (march.consequences, march.evaluated_at) == ([], at(2026, 3, 26, 10))
    # Nobody else's March verdict was touched.
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).evaluated_at == at(2026, 3, 26, 1)


def standing_of(plan, employee, month) -> Standing:
    return Standing.objects.get(period=period_of(plan, month), employee=employee)


def test_the_worker_refreshing_after_the_due_day_gives_the_due_day_judgement_once(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    services.refresh_changed(now=at(2026, 3, 26, 0, 59))
    assert PeriodState.objects.get(period=march).evaluated_at == at(2026, 3, 26, 0, 59)
    assert set(Standing.objects.filter(period=march).values_list("evaluated_at", flat=True)) == {
        at(2026, 3, 26, 0, 59)}
    # Then only who changed is judged again; the period keeps the moment of its judgement.
    watch(org.outsider, catalog.video, 2, at(2026, 3, 26, 10))
    services.refresh_changed(now=at(2026, 3, 26, 11))
    assert PeriodState.objects.get(period=march).evaluated_at == at(2026, 3, 26, 0, 59)
    judged = dict(Standing.objects.filter(period=march).values_list("employee_id", "evaluated_at"))
    assert judged == {org.outsider.pk: at(2026, 3, 26, 11), org.learner.pk: at(2026, 3, 26, 0, 59),
                      org.head.pk: at(2026, 3, 26, 0, 59), org.admin.pk: at(2026, 3, 26, 0, 59),
                      org.auditor.pk: at(2026, 3, 26, 0, 59)}
    assert Standing.objects.get(period=march, employee=org.outsider).compliant is True


def test_a_rule_that_closes_no_window_leaves_the_next_rule_judged(org, catalog):
    plan = monthly_plan(org, catalog)
    quarterly_appraisal(plan)  # the first rule: February closes no quarter
    monthly = Rule.objects.create(plan=plan, name="Monthly allowance")
    Consequence.objects.create(rule=monthly, applies_to="non_compliant", kind="flag", name="Allowance")
    services.process_periods(now=at(2026, 2, 26, 1))
    february = standing_of(plan, org.learner, 2)
    assert (february.compliant, february.consequences) == (False, [
        {"rule": monthly.pk, "name": "Allowance", "kind": "flag", "applies_to": "non_compliant", "eligible": False}])


def test_a_refresh_sums_the_departments_it_changed_at_once(org, catalog):
    from learntrace.compliance.models import PeriodFigures

    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    watch(org.learner, catalog.video, 1, at(2026, 3, 3, 10))
    services.refresh_period(march, now=at(2026, 3, 4, 9))
    assert PeriodFigures.objects.get(period=march, department=org.a1).done_seconds == HOUR
    watch(org.learner, catalog.video, 0.5, at(2026, 3, 4, 10))
    services.refresh_assignments([march.assignments.get(employee=org.learner).pk], now=at(2026, 3, 5, 9))
    figures = PeriodFigures.objects.get(period=march, department=org.a1)
    assert (figures.people, figures.done_seconds, figures.owed_seconds) == (1, 1.5 * HOUR, 0.5 * HOUR)


def test_a_batch_of_frozen_standings_does_not_stop_the_refresh_of_the_next(org, catalog):
    from learntrace.org.models import Employee

    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    people = Employee.objects.bulk_create(Employee(employee_no=f"F{n:04d}", name=f"Frozen {n}", department=org.b)
                                          for n in range(services.BATCH))
    frozen = march.assignments.bulk_create(march.assignments.model(period=march, employee=person,
                                                                   joined_at=at(2026, 3, 1)) for person in people)
    Standing.objects.bulk_create(Standing(
        assignment=assignment, plan=plan, period=march, employee=assignment.employee, department=org.b,
        department_path=org.b.path, period_starts_at=march.starts_at, joined_at=assignment.joined_at,
        frozen_at=at(2026, 3, 5), refreshed_at=at(2026, 3, 5), changed_at=at(2026, 3, 5)) for assignment in frozen)
    # Sorted, the newcomer's assignment comes after a whole batch of frozen ones.
    frozen_ids = sorted(a.pk for a in frozen)
    newcomer = march.assignments.create(employee=Employee.objects.create(employee_no="N1", name="N", department=org.b),
                                        joined_at=at(2026, 3, 6))
    assert newcomer.pk > frozen_ids[-1] and len(frozen_ids) == services.BATCH
    assert services.refresh_assignments([*frozen_ids, newcomer.pk], now=at(2026, 3, 7, 9)) == 1
    assert Standing.objects.get(assignment=newcomer).refreshed_at == at(2026, 3, 7, 9)


@pytest.mark.django_db(transaction=True)
def test_freezing_and_reopening_each_run_in_their_own_transaction(org, catalog):
    # Outside any caller's transaction (the worker, a shell): the lock on the period's state needs one.
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    assert services.freeze_period(march, actor=org.admin.user, now=at(2026, 4, 1)).frozen_at == at(2026, 4, 1)
    state = services.reopen_period(march, actor=org.admin.user, reason="Lost records", now=at(2026, 4, 2))
    assert (state.frozen_at, state.reopened_at, state.reopen_reason) == (None, at(2026, 4, 2), "Lost records")
    assert Standing.objects.filter(period=march, frozen_at__isnull=True).count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_creating_the_same_standings_at_once_leave_one_each(org, catalog):
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("two writers at once are PostgreSQL's (SQLite has one writer at a time)")
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    errors: list = []

    def refresh():
        try:
            services.refresh_period(march, now=at(2026, 3, 4, 9))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    # Both count the same new standings, then wait for the period's lock, held here.
    with transaction.atomic():
        PeriodState.objects.select_for_update().get_or_create(period=march)
        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for thread in threads:
            thread.start()
        with connection.cursor() as cursor:
            for _ in range(600):
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one view per transaction
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database()")
                if cursor.fetchone()[0] == 2:
                    break
                time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert errors == []
    assert Standing.objects.filter(period=march).count() == 5


def test_a_judgement_tells_who_changed_and_what_they_had_before(org, catalog):
    from learntrace.compliance.signals import period_judged

    plan = monthly_plan(org, catalog)
    allowance = Rule.objects.create(plan=plan, name="Allowance")
    Consequence.objects.create(rule=allowance, applies_to="non_compliant", kind="flag", name="Allowance")
    march = period_of(plan, 3)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    services.refresh_period(march, now=at(2026, 3, 20, 9))
    sent: list = []

    def heard(sender, period, whole, at, changed, **kwargs):
        if period == march:  # January's and February's due-day judgements come with the refresh too
                sent.append((period.pk, whole, at, sorted((s.employee_id, compliant, consequences)
                                                      for s, compliant, consequences in changed)))

    flag = [{"rule": allowance.pk, "name": "Allowance", "kind": "flag", "applies_to": "non_compliant",
             "eligible": False}]
    period_judged.connect(heard)
    try:
        services.evaluate_period(march, now=at(2026, 3, 26, 1))
        # Everyone changed from not judged; then the outsider catches up, alone.
        assert sent == [(march.pk, True, at(2026, 3, 26, 1), sorted(
            (person.pk, None, []) for person in (org.learner, org.head, org.outsider, org.admin, org.auditor)))]
        watch(org.outsider, catalog.video, 2, at(2026, 3, 26, 9))
        services.refresh_changed(now=at(2026, 3, 26, 10))
        assert sent[1:] == [(march.pk, False, at(2026, 3, 26, 10), [(org.outsider.pk, False, flag)])]
        # Judged again with nothing changed: nobody is told about.
        services.evaluate_period(march, now=at(2026, 3, 26, 11))
        assert sent[2:] == [(march.pk, True, at(2026, 3, 26, 11), [])]
    finally:
        period_judged.disconnect(heard)


def test_a_quarters_top_n_counts_no_earlier_hours_for_who_was_not_counted_then(org, catalog):
    from conftest import make_employee

    # A rule that counts nothing: everyone meets it; the top two of the quarter by hours are rewarded.
    people = {name: make_employee(f"T{n}", name, org.b) for n, name in enumerate("WXYZ")}
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Quarter's best", window="quarter", counts_hours=False,
                               counts_courses=False, counts_credits=False, counts_reflection=False)
    Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Best two", top_n=2)
    # X and Z were not in the audience in January and February: nothing earlier counts for them,
    # while W and Y were, with no hours. March: W 3600 s, X 3600 s, Y 3601 s, Z 3601 s.
    Assignment.objects.filter(period__in=[period_of(plan, 1), period_of(plan, 2)],
                              employee__in=[people["X"], people["Z"]]).update(removed_at=at(2026, 1, 1))
    for name, seconds in (("W", 3600), ("X", 3600), ("Y", 3601), ("Z", 3601)):
        watch(people[name], catalog.video, seconds / HOUR, at(2026, 3, 5, 10))
    services.refresh_changed(now=at(2026, 3, 25, 12))
    services.process_periods(now=at(2026, 3, 26, 1))
    best = {s.employee.employee_no for s in Standing.objects.filter(period=period_of(plan, 3))
            if s.recognitions == ["Best two"]}
    assert best == {"T2", "T3"}  # Y and Z


def test_the_worker_creates_at_most_ten_thousand_new_standings_a_minute(org, catalog):
    from learntrace.org.models import Employee

    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    services.refresh_changed(now=at(2026, 3, 4, 9))  # the standings of everyone so far
    people = Employee.objects.bulk_create(Employee(employee_no=f"M{n:05d}", name=f"Newcomer {n}", department=org.b)
                                          for n in range(services.BATCH * 10 + 1))
    march.assignments.bulk_create(march.assignments.model(period=march, employee=person, joined_at=at(2026, 3, 4))
                                  for person in people)
    assert services.refresh_changed(now=at(2026, 3, 4, 10)) == 10_000
    assert services.refresh_changed(now=at(2026, 3, 4, 10, 1)) == 1
    assert Standing.objects.filter(period=march).count() == 10_006


def test_a_department_judged_again_for_one_person_counts_all_its_members(org, catalog):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Department hours")  # department consequences only
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="percent", name="Department bonus",
                               value=Decimal("-5"), level="department", department_share=50)
    march = period_of(plan, 3)
    services.refresh_changed(now=at(2026, 3, 25, 12))
    services.process_periods(now=at(2026, 3, 26, 1))
    watch(org.admin, catalog.video, 2, at(2026, 3, 26, 9))  # HR: the admin catches up, the auditor does not
    services.refresh_changed(now=at(2026, 3, 26, 10))
    hr = DepartmentOutcome.objects.get(period=march, department=org.hr)
    assert (hr.members, hr.non_compliant, [c["name"] for c in hr.consequences], hr.evaluated_at) == (
        2, 1, ["Department bonus"], at(2026, 3, 26, 10))


def test_the_quarter_of_any_period_that_closes_one_starts_at_its_first_month():
    september = month(2026, 9)
    quarterly = PlanPeriod(starts_at=at(2026, 1, 1), ends_at=at(2026, 4, 1))
    two_months = PlanPeriod(starts_at=at(2026, 5, 1), ends_at=at(2026, 7, 1))
    yearly = PlanPeriod(starts_at=at(2026, 1, 1), ends_at=at(2027, 1, 1))
    assert services.window_bounds("quarter", september) == (at(2026, 7, 1), at(2026, 10, 1))
    assert services.window_bounds("quarter", quarterly) == (at(2026, 1, 1), at(2026, 4, 1))
    assert services.window_bounds("quarter", two_months) == (at(2026, 4, 1), at(2026, 7, 1))
    assert services.window_bounds("year", yearly) == (at(2026, 1, 1), at(2027, 1, 1))
    assert services.window_label("quarter", (at(2026, 7, 1), at(2026, 10, 1))) == "2026-Q3"


def test_the_worker_judges_a_quarter_after_the_earlier_months_it_reads(org, catalog):
    plan = monthly_plan(org, catalog)
    quarterly_appraisal(plan)
    # Nothing refreshed before: the worker's first pass meets January, February and March at once.
    watch(org.learner, catalog.video, 2, at(2026, 3, 5, 10))  # March met, January and February missed
    for number in (1, 2, 3):
        watch(org.head, catalog.video, 2, at(2026, number, 5, 10))
    services.process_periods(now=at(2026, 4, 1, 1))
    assert appraisals(plan, 3)[org.learner.pk] == ["2026-Q1"]
    assert appraisals(plan, 3)[org.head.pk] == []


def test_a_renamed_top_n_leaves_its_old_holders_to_the_next_whole_judgement(org, catalog):
    plan = monthly_plan(org, catalog)
    march = period_of(plan, 3)
    rule = Rule.objects.create(plan=plan, name="Stars")
    top = Consequence.objects.create(rule=rule, applies_to="top", kind="title", name="Top two", top_n=2)
    watch(org.learner, catalog.video, 4, at(2026, 3, 3, 10))
    watch(org.head, catalog.video, 3, at(2026, 3, 3, 10))
    services.process_periods(now=at(2026, 3, 26, 1))

    def titles():
        return {s.employee_id: s.recognitions for s in Standing.objects.filter(period=march) if s.recognitions}

    assert titles() == {org.learner.pk: ["Top two"], org.head.pk: ["Top two"]}
    top.name, top.top_n = "Top one", 1
    top.save()
    # Judging one person again also judges who enters the renamed top and who holds it under its new
    # name (nobody yet), not who holds an entry under the old name: 2 standings, the head's untouched.
    outsider = march.assignments.get(employee=org.outsider).pk
    assert services.judge_people(march, [outsider], now=at(2026, 3, 27, 9)) == 2
    assert titles() == {org.learner.pk: ["Top one"], org.head.pk: ["Top two"]}
    assert Standing.objects.get(period=march, employee=org.head).evaluated_at == at(2026, 3, 26, 1)
    # The next whole judgement settles it.
    services.evaluate_period(march, now=at(2026, 3, 28, 9))
    assert titles() == {org.learner.pk: ["Top one"]}
