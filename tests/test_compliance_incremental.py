"""The worker judges only who changed: the verdicts, department outcomes and sums it leaves equal
a whole judgement, its queries do not grow with the period, and a judging run and a refresh at
the same time on PostgreSQL wait for each other instead of deadlocking."""

import contextlib
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learntrace.compliance import services
from learntrace.compliance.models import Consequence, DepartmentOutcome, PeriodFigures, Rule, Standing
from learntrace.org.models import Employee
from learntrace.records.models import CreditedTime
from learntrace.records.services import correct_time
from test_compliance import HOUR, at, monthly_plan, period_of, watch

PEOPLE = 12


def rules_of_every_kind(plan) -> None:
    hours = Rule.objects.create(plan=plan, name="Monthly hours")
    for applies_to, kind, name, value in (("non_compliant", "flag", "Allowance", 0), ("compliant", "score", "Score", 5),
                                          ("above_target", "title", "培训之星", 0)):
        Consequence.objects.create(rule=hours, applies_to=applies_to, kind=kind, name=name, value=Decimal(value))
    Consequence.objects.create(rule=hours, applies_to="top", kind="title", name="Top three", top_n=3)
    Consequence.objects.create(rule=hours, applies_to="non_compliant", kind="percent", name="Department bonus",
                               value=Decimal("-5"), level="department", department_share=50)
    quarter = Rule.objects.create(plan=plan, name="Quarterly appraisal", window="quarter")
    Consequence.objects.create(rule=quarter, applies_to="non_compliant", kind="percent", name="Appraisal",
                               value=Decimal("-10"))
    Consequence.objects.create(rule=quarter, applies_to="top", kind="score", name="Quarter's best", value=3, top_n=2)


def outcome(period) -> tuple:
    """Everything judging and the roll-up write for a period, in a comparable shape."""
    standings = sorted(Standing.objects.filter(period=period).values_list(
        "employee_id", "department_id", "total_seconds", "compliant", "consequences", "score", "recognitions"))
    departments = sorted(DepartmentOutcome.objects.filter(period=period).values_list(
        "department_id", "members", "non_compliant", "consequences"))
    figures = sorted(tuple(row.values())[1:]  # without the row's id
                     for row in PeriodFigures.objects.filter(period=period).values().order_by())
    return standings, departments, figures


@pytest.fixture
def judged_march(org, catalog):
    """A March past its due day (the 25th) and judged, with people in four departments."""
    from conftest import make_employee

    plan = monthly_plan(org, catalog)
    rules_of_every_kind(plan)
    departments = [org.a, org.a1, org.b, org.hr]
    for n in range(PEOPLE - 5):
        make_employee(f"P{n:03d}", f"Person {n}", departments[n % 4])
    plan_services_sync(plan)
    people = list(Employee.objects.order_by("pk"))
    for index, person in enumerate(people):
        for month in (1, 2, 3):
            watch(person, catalog.video, (index % 4 + 1) * 0.5, at(2026, month, 5, 10))
    services.refresh_changed(now=at(2026, 3, 26, 1))
    services.process_periods(now=at(2026, 3, 26, 1))  # judges March at its due day
    return period_of(plan, 3), people, departments


def plan_services_sync(plan) -> None:
    from learntrace.plans import services as plan_services

    for period in plan.periods.all():
        plan_services.sync_assignments(period=period, now=at(2026, 3, 2, 9))


change = st.tuples(st.integers(0, PEOPLE - 1), st.sampled_from(["watch", "correct", "move"]), st.integers(1, 9))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(change, min_size=1, max_size=5))
def test_judging_who_changed_gives_what_judging_everyone_gives(judged_march, catalog, org, changes):
    march, people, departments = judged_march
    for index, what, amount in changes:
        person = people[index]
        if what == "watch":
            watch(person, catalog.video, amount * 0.25, at(2026, 3, 26, 9))
        elif what == "correct":
            fact = CreditedTime.objects.filter(employee=person, occurred_at__gte=march.starts_at).last()
            with contextlib.suppress(ValidationError):  # nothing left to take back
                correct_time(actor=org.admin.user, fact=fact, seconds_delta=-amount * 300,
                             reason="Watched on a colleague's account")
        else:
            person.department = departments[amount % len(departments)]
            person.save(update_fields=["department"])
    services.refresh_changed(now=at(2026, 3, 27, 9))
    services.refresh_open(now=at(2026, 3, 27, 9))  # catches the moves, which no fact reports
    incremental = outcome(march)

    services.evaluate_period(march, now=at(2026, 3, 27, 10))
    assert incremental == outcome(march)


def test_the_winners_of_a_top_n_change_places_when_someone_overtakes(judged_march, catalog):
    march, people, _departments = judged_march
    before = {s.employee_id for s in Standing.objects.filter(period=march) if "Top three" in s.recognitions}
    assert len(before) == 3
    newcomer = next(p for p in people if p.pk not in before)
    watch(newcomer, catalog.video, 30, at(2026, 3, 26, 9))
    services.refresh_changed(now=at(2026, 3, 27, 9))
    after = {s.employee_id for s in Standing.objects.filter(period=march) if "Top three" in s.recognitions}
    assert newcomer.pk in after and len(after) == 3 and len(before - after) == 1


def test_judging_a_change_costs_the_same_queries_in_a_larger_period(judged_march, catalog,
                                                                    django_assert_max_num_queries):
    from conftest import make_employee

    march, people, departments = judged_march

    def one_person_learns(person, hour):
        watch(person, catalog.video, 0.5, at(2026, 3, 26, hour))
        services.refresh_changed(now=at(2026, 3, 26, hour, 30))

    one_person_learns(people[0], 9)
    with django_assert_max_num_queries(200) as few:
        one_person_learns(people[0], 10)
    for n in range(60):
        make_employee(f"Q{n:03d}", f"More {n}", departments[n % 4])
    plan_services_sync(march.plan)
    services.refresh_open(now=at(2026, 3, 26, 11))
    assert Standing.objects.filter(period=march).count() == PEOPLE + 60
    with django_assert_max_num_queries(len(few.captured_queries)):
        one_person_learns(people[0], 12)
    assert Standing.objects.get(period=march, employee=people[0]).total_seconds == 2 * HOUR


@pytest.mark.django_db(transaction=True)
def test_judging_and_refreshing_at_once_do_not_deadlock(org, catalog):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks are PostgreSQL's (SQLite has one writer at a time)")
    from conftest import make_employee

    plan = monthly_plan(org, catalog)
    rules_of_every_kind(plan)
    for n in range(80):
        make_employee(f"P{n:03d}", f"Person {n}", [org.a, org.a1, org.b, org.hr][n % 4])
    plan_services_sync(plan)
    march = period_of(plan, 3)
    services.refresh_period(march, now=at(2026, 3, 26, 1))
    services.process_periods(now=at(2026, 3, 26, 1))
    people = list(Employee.objects.order_by("pk"))
    errors, start = [], threading.Barrier(2)

    def run(work):
        try:
            start.wait()
            for round_ in range(4):
                work(round_)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    def judge(round_):
        services.evaluate_period(march, now=at(2026, 3, 27, 9, round_))

    def refresh(round_):
        # Everyone learns, in the reverse order of the judging's rows.
        for person in reversed(people):
            watch(person, catalog.video, 0.25, at(2026, 3, 27, 8, round_))
        services.refresh_period(march, now=at(2026, 3, 27, 9, round_))

    threads = [threading.Thread(target=run, args=(work,)) for work in (judge, refresh)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(Standing.objects.filter(period=march).values_list("total_seconds", flat=True)) == {HOUR}
    services.refresh_changed(now=at(2026, 3, 27, 10))
    settled = outcome(march)
    services.evaluate_period(march, now=at(2026, 3, 27, 11))
    assert outcome(march) == settled


# ---------------------------------------------------------------- facts that commit after a higher id


def late_fact(pk, employee, course, hours, when) -> CreditedTime:
    """A fact given its id, as a transaction that took its id early and committed late leaves it."""
    return CreditedTime.objects.create(pk=pk, employee=employee, course=course, kind=course.kind,
                                       category_id=course.category_id, seconds=int(hours * HOUR), occurred_at=when,
                                       source="tracking")


def test_a_fact_that_commits_after_a_higher_id_is_refreshed_the_next_minute(org, catalog):
    from learntrace.compliance.models import Watermark

    plan = monthly_plan(org, catalog)
    now = at(2026, 3, 10, 9)
    services.refresh_changed(now=now)
    top = CreditedTime.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    late_fact(top + 2, org.learner, catalog.video, 1, at(2026, 3, 10, 8))  # id top + 1 still in flight
    services.refresh_changed(now=now)
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.learner).total_seconds == HOUR
    mark = Watermark.objects.get(source="credited_time")
    assert (mark.last_id, mark.gaps) == (top + 2, [[top + 1, top + 1, now.timestamp()]])

    late_fact(top + 1, org.head, catalog.video, 2, at(2026, 3, 10, 8))  # commits now
    open_of_head = Standing.objects.filter(employee=org.head, frozen_at__isnull=True).count()
    assert services.refresh_changed(now=now + dt.timedelta(minutes=1)) == open_of_head  # the head's alone
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).total_seconds == 2 * HOUR
    assert Watermark.objects.get(source="credited_time").gaps == []


def test_ids_never_seen_are_looked_for_until_the_hourly_refresh_has_covered_them(org, catalog):
    from learntrace.compliance.models import Watermark

    plan = monthly_plan(org, catalog)
    now = at(2026, 3, 10, 9)
    services.refresh_changed(now=now)
    top = CreditedTime.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    late_fact(top + 5, org.learner, catalog.video, 1, at(2026, 3, 10, 8))  # 1–4: rolled back, or in flight
    late_fact(top + 3, org.learner, catalog.video, 1, at(2026, 3, 10, 8))
    services.refresh_changed(now=now)
    gaps = [[top + 1, top + 2, now.timestamp()], [top + 4, top + 4, now.timestamp()]]
    assert Watermark.objects.get(source="credited_time").gaps == gaps
    # Looked for over two hours: a gap found just after an hourly refresh of everything open is read by the next.
    services.refresh_changed(now=now + dt.timedelta(hours=1, minutes=1))
    later = now + dt.timedelta(hours=2, seconds=-1)
    services.refresh_changed(now=later)
    assert Watermark.objects.get(source="credited_time").gaps == gaps  # still looked for
    services.refresh_changed(now=later + dt.timedelta(seconds=1))
    assert Watermark.objects.get(source="credited_time").gaps == []  # given up: the hourly refresh reads all
    late_fact(top + 4, org.head, catalog.video, 2, at(2026, 3, 10, 8))
    services.refresh_changed(now=later + dt.timedelta(seconds=2))
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).total_seconds == 0
    services.refresh_open(now=later + dt.timedelta(seconds=3))
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).total_seconds == 2 * HOUR


@pytest.mark.django_db(transaction=True)
def test_a_beat_still_in_flight_while_the_refresh_reads_is_counted_by_the_next_one(org, catalog):
    """PostgreSQL: ids are taken at insert and committed in any order."""
    from django.db import transaction

    from learntrace.records.services import record_credited_time

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    plan = monthly_plan(org, catalog)
    now = at(2026, 3, 10, 9)
    services.refresh_changed(now=now)
    inserted, may_commit, errors = threading.Event(), threading.Event(), []

    def slow():
        try:
            with transaction.atomic():
                watch(org.head, catalog.video, 2, at(2026, 3, 10, 8))
                inserted.set()
                may_commit.wait(10)
        except Exception as error:  # reported by the test's thread
            errors.append(error)
        finally:
            inserted.set()
            connections.close_all()

    writer = threading.Thread(target=slow)
    writer.start()
    assert inserted.wait(10)
    record_credited_time(employee=org.learner, course=catalog.video, seconds=HOUR, occurred_at=at(2026, 3, 10, 8))
    services.refresh_changed(now=now)  # sees the learner's fact, not the head's: its id is passed
    may_commit.set()
    writer.join(10)
    assert errors == []
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).total_seconds == 0
    services.refresh_changed(now=now + dt.timedelta(minutes=1))
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.head).total_seconds == 2 * HOUR
    assert Standing.objects.get(period=period_of(plan, 3), employee=org.learner).total_seconds == HOUR
