"""The running sums of credited time (`CreditedHour`): kept exact by the database whoever writes a
fact, and read by progress with the same result as summing every fact."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learntrace.catalog.models import Course, CourseKind
from learntrace.compliance import services as compliance
from learntrace.compliance.models import Standing
from learntrace.plans import services as plan_services
from learntrace.records import effective, sums
from learntrace.records.models import Correction, CreditedHour, CreditedTime, Source
from learntrace.records.services import record_credited_time
from test_plans import HOUR, at, hospital_plan

UTC = dt.UTC


def stored_sums() -> dict:
    return {(row.employee_id, row.hour, row.kind, row.category_id): (row.seconds, row.last_at)
            for row in CreditedHour.objects.all()}


def summed_facts() -> dict:
    """The sums as they should be, counted here from the facts."""
    expected: dict = {}
    for fact in CreditedTime.objects.filter(seconds__gt=0):
        key = (fact.employee_id, int(fact.occurred_at.timestamp() // 3600), fact.kind, fact.category_id)
        seconds, last_at = expected.get(key, (0, fact.occurred_at))
        expected[key] = (seconds + fact.seconds, max(last_at, fact.occurred_at))
    return expected


def fact(employee, course, seconds, occurred_at, **fields) -> CreditedTime:
    return CreditedTime.objects.create(employee=employee, course=course, kind=course.kind,
                                       category_id=course.category_id, seconds=seconds, occurred_at=occurred_at,
                                       source=Source.TRACKING, **fields)


def test_every_written_fact_is_in_the_sums_of_its_hour_kind_and_category(org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=600, occurred_at=at(2026, 3, 2, 9))
    record_credited_time(employee=org.learner, course=catalog.video, seconds=15,
                         occurred_at=at(2026, 3, 2, 9, 59, 59, 999999))
    record_credited_time(employee=org.learner, course=catalog.video, seconds=20, occurred_at=at(2026, 3, 2, 10))
    record_credited_time(employee=org.learner, course=catalog.meeting, seconds=3600, occurred_at=at(2026, 3, 2, 9, 30))
    record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=60,
                         occurred_at=at(2026, 3, 2, 9, 1))
    record_credited_time(employee=org.head, course=catalog.video, seconds=45, occurred_at=at(2026, 3, 2, 9, 2))
    fact(org.learner, catalog.video, 0, at(2026, 3, 2, 11))  # a beat that credited nothing
    CreditedTime.objects.bulk_create([
        CreditedTime(employee=org.head, course=catalog.video, kind=CourseKind.VIDEO,
                     category_id=catalog.video.category_id, seconds=15, occurred_at=at(2026, 3, 2, 9, 5, second),
                     source=Source.TRACKING) for second in range(3)])
    nine = sums.hour_of(at(2026, 3, 2, 9))
    management, clinical = catalog.management.pk, catalog.clinical.pk
    assert stored_sums() == {
        (org.learner.pk, nine, "video", management): (615, at(2026, 3, 2, 9, 59, 59, 999999)),
        (org.learner.pk, nine + 1, "video", management): (20, at(2026, 3, 2, 10)),
        (org.learner.pk, nine, "offline", management): (3600, at(2026, 3, 2, 9, 30)),
        (org.learner.pk, nine, "video", clinical): (60, at(2026, 3, 2, 9, 1)),
        (org.head.pk, nine, "video", management): (90, at(2026, 3, 2, 9, 5, 2)),
    }
    assert sums.start_of_hour(nine) == at(2026, 3, 2, 9) and nine == 492_337  # 2 March 2026, 01:00 UTC


def test_a_fact_deleted_or_changed_has_its_hour_counted_again(org, catalog):
    first = fact(org.learner, catalog.video, 600, at(2026, 3, 2, 9, 10))
    second = fact(org.learner, catalog.video, 300, at(2026, 3, 2, 9, 40))
    third = fact(org.learner, catalog.video, 100, at(2026, 3, 2, 10, 5))
    second.delete()
    assert stored_sums() == summed_facts() and len(stored_sums()) == 2
    CreditedTime.objects.filter(pk=third.pk).update(occurred_at=at(2026, 3, 2, 9, 50), seconds=30)
    assert stored_sums() == summed_facts() == {
        (org.learner.pk, sums.hour_of(at(2026, 3, 2, 9)), "video", catalog.management.pk):
            (630, at(2026, 3, 2, 9, 50))}
    CreditedTime.objects.filter(pk=first.pk).update(employee=org.head, course=catalog.meeting, kind="offline")
    assert stored_sums() == summed_facts() and len(stored_sums()) == 2
    CreditedTime.objects.filter(pk=first.pk).update(recorded_at=at(2026, 3, 9))  # no figure changed
    CreditedTime.objects.all().delete()
    assert stored_sums() == {}


def test_rebuilding_gives_the_sums_the_triggers_kept(org, catalog):
    for minute in range(0, 180, 7):
        fact(org.learner, catalog.video, minute % 4 * 15, at(2026, 3, 2, 8) + dt.timedelta(minutes=minute))
        fact(org.head, catalog.meeting, 60, at(2026, 3, 2, 8) + dt.timedelta(minutes=minute, microseconds=5))
    kept = stored_sums()
    CreditedHour.objects.all().delete()
    sums.rebuild(employee_ids=[org.head.pk])
    assert stored_sums() == {key: value for key, value in kept.items() if key[0] == org.head.pk}
    sums.rebuild()
    assert stored_sums() == kept == summed_facts()


def test_a_period_of_whole_hours_reads_only_the_sums(org, catalog):
    fact(org.learner, catalog.video, 600, at(2026, 3, 2, 9, 10))
    fact(org.learner, catalog.video, 60, at(2026, 3, 1, 0, 0, 0, 1))

    def tables(**bounds):
        with CaptureQueriesContext(connection) as queries:
            totals = effective.credited_time(employee_ids=[org.learner.pk], **bounds)
        read = {name for name in ("records_creditedtime", "records_creditedhour", "records_correction")
                if any(f'"{name}"' in query["sql"] for query in queries.captured_queries)}
        return totals.seconds, read

    march = {"starts_at": at(2026, 3, 1), "ends_at": at(2026, 4, 1)}
    assert tables(**march) == ({(org.learner.pk, "video"): 660}, {"records_creditedhour", "records_correction"})
    assert tables(**march, from_facts=True) == \
        ({(org.learner.pk, "video"): 660}, {"records_creditedtime", "records_correction"})
    # From one microsecond past midnight: the first hour from the facts, the rest from the sums.
    assert tables(starts_at=at(2026, 3, 1, 0, 0, 0, 1), ends_at=at(2026, 4, 1)) == \
        ({(org.learner.pk, "video"): 660}, {"records_creditedhour", "records_creditedtime", "records_correction"})
    assert tables(starts_at=at(2026, 3, 1, 0, 0, 0, 2), ends_at=at(2026, 4, 1))[0] == {(org.learner.pk, "video"): 600}
    # No whole hour in the range (half past midnight to half past one): only the facts are read.
    assert tables(starts_at=at(2026, 3, 1, 0, 30), ends_at=at(2026, 3, 1, 1, 30)) == \
        ({}, {"records_creditedtime", "records_correction"})
    # Which hours come from where: the sums of the second hour say 7 seconds where its fact says 60.
    fact(org.learner, catalog.video, 60, at(2026, 3, 1, 1, 30))
    CreditedHour.objects.filter(hour=sums.hour_of(at(2026, 3, 1, 1))).update(seconds=7)
    assert tables(starts_at=at(2026, 3, 1, 0, 0, 0, 1), ends_at=at(2026, 3, 1, 2))[0] == \
        {(org.learner.pk, "video"): 60 + 7}
    assert tables(starts_at=at(2026, 3, 1, 0, 0, 0, 1), ends_at=at(2026, 3, 1, 1, 59))[0] == \
        {(org.learner.pk, "video"): 60 + 60}


@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_the_sums_of_the_facts_already_recorded(org, catalog):
    fact(org.learner, catalog.video, 600, at(2026, 3, 2, 9, 10))
    before = ("records", "0008_beat_key_without_index")
    call_command("migrate", *before, verbosity=0)
    assert "records_creditedhour" not in connection.introspection.table_names()
    old = MigrationExecutor(connection).loader.project_state(before).apps.get_model("records", "CreditedTime")
    for person, course, seconds, moment in [(org.learner, catalog.video, 300, at(2026, 3, 2, 9, 40)),
                                            (org.head, catalog.meeting, 1200, at(2026, 3, 2, 10, 5)),
                                            (org.head, catalog.meeting, 0, at(2026, 3, 2, 11, 5))]:
        old.objects.create(employee_id=person.pk, course_id=course.pk, kind=course.kind,  # no sums, no triggers
                           category_id=course.category_id, seconds=seconds, occurred_at=moment, source="tracking")
    call_command("migrate", verbosity=0)
    assert stored_sums() == summed_facts() and len(stored_sums()) == 2
    record_credited_time(employee=org.head, course=catalog.meeting, seconds=60, occurred_at=at(2026, 3, 2, 10, 6))
    assert stored_sums() == summed_facts() and stored_sums()[
        (org.head.pk, sums.hour_of(at(2026, 3, 2, 10)), "offline", catalog.management.pk)] == \
        (1260, at(2026, 3, 2, 10, 6))


# Moments around the edges that matter: the hour, the day in Shanghai (16:00 UTC) and in Kolkata
# (18:30 UTC, half an hour off UTC's hours), with microseconds either side.
BASE = dt.datetime(2026, 2, 28, 12, tzinfo=UTC)
moments = st.builds(lambda minutes, micro: BASE + dt.timedelta(minutes=minutes, microseconds=micro),
                    st.integers(0, 3 * 24 * 60), st.sampled_from([0, 1, 999_999, 500_000]))
bounds = st.one_of(st.none(), moments, st.sampled_from([
    dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC), BASE + dt.timedelta(minutes=30)]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.sampled_from([0, 1, 15, 900, 3600]),
                                moments), max_size=25),
       corrections=st.lists(st.tuples(st.integers(0, 24), st.integers(-4000, 600)), max_size=3),
       starts_at=bounds, ends_at=bounds, counted=st.sampled_from(["all", "management", "clinical"]))
def test_credited_time_from_the_sums_is_credited_time_from_the_facts(org, catalog, facts, corrections, starts_at,
                                                                      ends_at, counted):
    people = [org.learner, org.head, org.outsider, org.admin]
    courses = [catalog.video, catalog.meeting, catalog.clinical_video]
    category_ids = {"all": [], "management": [catalog.management.pk], "clinical": [catalog.clinical.pk]}[counted]
    with transaction.atomic():
        written = [fact(people[person], courses[course], seconds, moment)
                   for person, course, seconds, moment in facts]
        for index, delta in corrections:
            if written:  # as `correct_time` writes them, without its checks: any delta sums the same way
                corrected = written[index % len(written)]
                Correction.objects.create(employee=corrected.employee, course=corrected.course,
                                          corrects=Correction.Target.CREDITED_TIME, corrects_id=corrected.pk,
                                          seconds_delta=delta, occurred_at=corrected.occurred_at,
                                          reason="Checked against the sign-in sheet")
        ids = [person.pk for person in people]
        from_sums = effective.credited_time(employee_ids=ids, starts_at=starts_at, ends_at=ends_at,
                                            category_ids=category_ids)
        from_facts = effective.credited_time(employee_ids=ids, starts_at=starts_at, ends_at=ends_at,
                                             category_ids=category_ids, from_facts=True)
        assert stored_sums() == summed_facts()
        transaction.set_rollback(True)
    # A kind whose facts credited nothing may be missing from the sums' answer: it is 0 either way.
    assert {key: value for key, value in from_sums.seconds.items() if value} == \
        {key: value for key, value in from_facts.seconds.items() if value}
    assert from_sums.last_at == from_facts.last_at


def test_standings_count_late_facts_and_the_edges_of_the_month(org, catalog):
    """March in Shanghai: from 1 March 00:00 (28 February 16:00 UTC) to 1 April 00:00."""
    plan = hospital_plan(org, catalog)
    with time_machine.travel(at(2026, 3, 20, 9), tick=False):
        plan_services.publish_plan(actor=None, plan=plan)
        compliance.refresh_changed()
        fact(org.head, catalog.video, 100, at(2026, 2, 28, 23, 59, 59, 999999))  # February
        fact(org.head, catalog.video, 200, at(2026, 3, 1))
        fact(org.head, catalog.video, 400, at(2026, 3, 31, 23, 59, 59, 999999))
        fact(org.head, catalog.video, 800, at(2026, 4, 1))  # April
        fact(org.head, catalog.meeting, 1600, at(2026, 3, 1, 0, 30))
        compliance.refresh_changed()
    march = Standing.objects.get(employee=org.head, period__starts_at=at(2026, 3, 1))
    assert (march.video_seconds, march.offline_seconds, march.total_seconds) == (600, 1600, 2200)
    with time_machine.travel(at(2026, 3, 21, 9), tick=False):
        # Recorded today, learned on 2 March (an import of a paper sign-in sheet).
        record_credited_time(employee=org.head, course=catalog.meeting, seconds=3 * HOUR,
                             occurred_at=at(2026, 3, 2, 14), source=Source.IMPORTED)
        org.head.department = org.b  # a move changes where the standing is counted, not its hours
        org.head.save()
        compliance.refresh_changed()
    march.refresh_from_db()
    assert (march.video_seconds, march.offline_seconds, march.total_seconds, march.department_id) == \
        (600, 1600 + 3 * HOUR, 2200 + 3 * HOUR, org.b.pk)
    assert march.owed_seconds == 8 * HOUR - march.total_seconds


def test_a_period_bounded_inside_an_hour_reads_its_edges_from_the_facts(org, catalog, settings):
    """Kolkata's days start at 18:30 UTC: the half hours at both ends of a month come from the facts."""
    settings.TIME_ZONE = "Asia/Kolkata"
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    plan = hospital_plan(org, catalog)
    for moment, seconds in ((dt.datetime(2026, 3, 1, 0, 0, tzinfo=kolkata), 1),
                            (dt.datetime(2026, 2, 28, 23, 59, tzinfo=kolkata), 2),
                            (dt.datetime(2026, 3, 1, 0, 29, tzinfo=kolkata), 4),
                            (dt.datetime(2026, 3, 1, 0, 31, tzinfo=kolkata), 8),
                            (dt.datetime(2026, 3, 31, 23, 29, tzinfo=kolkata), 16),
                            (dt.datetime(2026, 3, 31, 23, 31, tzinfo=kolkata), 32),
                            (dt.datetime(2026, 4, 1, 0, 0, tzinfo=kolkata), 64)):
        fact(org.head, catalog.video, seconds, moment)
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=kolkata), tick=False):
        plan_services.publish_plan(actor=None, plan=plan)
        compliance.refresh_changed()
    march = Standing.objects.get(employee=org.head, period__starts_at=dt.datetime(2026, 3, 1, tzinfo=kolkata))
    assert march.video_seconds == 1 + 4 + 8 + 16 + 32
    assert march.period.starts_at.astimezone(UTC) == dt.datetime(2026, 2, 28, 18, 30, tzinfo=UTC)


def _writer(moment, seconds, course, employee, inserted, may_commit, errors):
    def write():
        try:
            with transaction.atomic():
                fact(employee, course, seconds, moment)
                inserted.set()
                if not may_commit.wait(10):
                    raise TimeoutError("never allowed to commit")
        except Exception as error:  # reported by the test's thread
            errors.append(error)
        finally:
            inserted.set()
            connections.close_all()
    return threading.Thread(target=write)


@pytest.mark.django_db(transaction=True)
def test_facts_committed_out_of_order_by_concurrent_writers_are_each_summed_once(org, catalog):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    course = Course.objects.get(pk=catalog.video.pk)
    errors: list = []
    nine, ten = sums.hour_of(at(2026, 3, 2, 9)), sums.hour_of(at(2026, 3, 2, 10))
    key = (org.learner.pk, nine, "video", catalog.management.pk)
    go = threading.Event()
    slow_in, fast_in, same_hour_in = threading.Event(), threading.Event(), threading.Event()
    slow = _writer(at(2026, 3, 2, 9, 10), 600, course, org.learner, slow_in, go, errors)
    slow.start()
    assert slow_in.wait(10)
    # A later fact (a higher id) of another hour commits first: the sums show it alone meanwhile.
    done = threading.Event()
    done.set()
    fast = _writer(at(2026, 3, 2, 10, 10), 15, course, org.learner, fast_in, done, errors)
    fast.start()
    fast.join(10)
    assert stored_sums() == summed_facts() == {
        (org.learner.pk, ten, "video", catalog.management.pk): (15, at(2026, 3, 2, 10, 10))}
    # A writer of the same hour waits for the first's lock on the hour's row, then adds to it.
    same_hour = _writer(at(2026, 3, 2, 9, 20), 30, course, org.learner, same_hour_in, done, errors)
    same_hour.start()
    same_hour.join(0.5)
    assert same_hour.is_alive() and key not in stored_sums()
    go.set()
    slow.join(10)
    same_hour.join(10)
    assert not errors
    assert sorted(CreditedTime.objects.values_list("seconds", flat=True)) == [15, 30, 600]
    assert stored_sums() == summed_facts() and stored_sums()[key] == (630, at(2026, 3, 2, 9, 20))


@pytest.mark.django_db(transaction=True)
def test_time_credited_by_hand_to_a_course_being_watched_waits_for_the_beat_instead_of_deadlocking(org, catalog):
    """A beat locks the course state, then its fact locks the hour's sum; time credited by hand takes them in
    the same order, so it waits for the beat (the other order deadlocked, and PostgreSQL aborted one)."""
    from learntrace.records.models import CourseProgress

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    course = Course.objects.get(pk=catalog.video.pk)
    record_credited_time(employee=org.learner, course=course, seconds=60, occurred_at=at(2026, 3, 2, 9))
    errors: list = []
    locked, may_go = threading.Event(), threading.Event()

    def beat():
        try:
            with transaction.atomic():
                CourseProgress.objects.select_for_update().get(employee=org.learner, course=course)
                locked.set()
                may_go.wait(10)
                fact(org.learner, course, 15, at(2026, 3, 2, 9, 30))  # the same hour, kind and category
        except Exception as error:  # reported by the test's thread
            errors.append(error)
        finally:
            locked.set()
            connections.close_all()

    def by_hand():
        try:
            record_credited_time(employee=org.learner, course=course, seconds=600, occurred_at=at(2026, 3, 2, 9, 40))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    first = threading.Thread(target=beat)
    first.start()
    assert locked.wait(10)
    second = threading.Thread(target=by_hand)
    second.start()
    with connection.cursor() as cursor:  # the hand waits for the beat's lock before going on
        for _ in range(100):
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0] == 1:
                break
            second.join(0.1)
    may_go.set()
    first.join(20)
    second.join(20)
    assert errors == []
    assert sorted(CreditedTime.objects.values_list("seconds", flat=True)) == [15, 60, 600]
    assert stored_sums() == summed_facts()
    assert stored_sums()[(org.learner.pk, sums.hour_of(at(2026, 3, 2, 9)), "video", catalog.management.pk)][0] == 675


@pytest.mark.parametrize("zone, from_sums", [("Asia/Shanghai", True), ("America/New_York", True),
                                             ("Asia/Kolkata", False)])
def test_years_in_a_zone_come_from_the_sums_when_its_years_start_on_whole_hours(org, catalog, zone, from_sums):
    """A training file's years: minutes either side of New Year in the zone land in their own years, from the
    sums where every year of the zone starts on a whole hour of UTC (archived beats are only there), from the
    facts where it does not (UTC+5:30: New Year falls inside an hour)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    new_year = dt.datetime(2026, 1, 1, tzinfo=tz)
    for minutes, seconds in ((-20, 60), (-5, 120), (5, 300), (25, 600)):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=seconds,
                             occurred_at=new_year + dt.timedelta(minutes=minutes))
    assert sums.years_start_on_hours(tz) is from_sums
    with CaptureQueriesContext(connection) as queries:
        totals = effective.credited_time(employee_ids=[org.learner.pk], zone=tz)
    assert totals.seconds == {(org.learner.pk, 2025, "video"): 180, (org.learner.pk, 2026, "video"): 900}
    assert totals.seconds == effective.credited_time(employee_ids=[org.learner.pk], zone=tz, from_facts=True).seconds
    assert totals.last_at[org.learner.pk] == new_year + dt.timedelta(minutes=25)
    read_facts = any("records_creditedtime" in query["sql"] for query in queries.captured_queries)
    assert read_facts is not from_sums
