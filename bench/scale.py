"""Keeping up at scale, on PostgreSQL (bench.dataset's organisation: BENCH_SCALE_PEOPLE people, 12
monthly periods, their facts and standings), each figure next to a baseline measured in the same run:

- worker: one minute's refresh at steady state (50 people learned; December is past its due day,
  judged and open) against judging the whole period, which the refresh did on every run before;
- deep pages: the per-person list at page 1 000 against page 1, and the API's standings at a cursor
  deep in December against its first page;
- meetings: the projector's one-second poll with 2 000 and 20 000 present (each with a drawn
  signature of 8 KB), and with a plan's whole audience expected and 2 000 present (the roster's figures
  kept, and read again as after a check-in), against the poll of an empty meeting; the reports
  dashboard of an admin and of a department head with 20 000 check-in events in the last 30 days
  against the same page with none;
  then, with a year of older events added (BENCH_SCALE_OLDER_MONTHS), the dashboards and the
  suspicions page with the index on the events' kind and time against the same pages without it;
- the beat: the API's endpoint against the page's, in one process, alternating;
- the worker's CPU per minute at steady state with 2 000 viewers (bench/worker.py).

Pages are requested through Django's test client in one process (no network, no web server), so the
figures are the server's own time; medians of 7 runs after a warm-up, each in wall time and in CPU
time (this process's and its PostgreSQL backend's, bench.common.measured), which a busy machine
does not change."""

import datetime as dt
import itertools
import json
import os
import time

import psycopg

from bench.common import (
    create_database,
    database_url,
    drop_database,
    figure,
    generated_dataset,
    in_shell,
    learntrace,
    main,
    measured,
    ratios,
    report,
    summary,
    timed,
)

PEOPLE = int(os.environ.get("BENCH_SCALE_PEOPLE", "20000"))
DATABASE = os.environ.get("BENCH_SCALE_DATABASE", "lt_scale_bench")
SIGNATURE_BYTES = 8 * 1024
# The meetings part's older check-in events: this many earlier spans of 30 days, each as many as the last
# 30 days hold (12: a year of them and a month more).
OLDER_MONTHS = int(os.environ.get("BENCH_SCALE_OLDER_MONTHS", "12"))
# What is measured, in this order (BENCH_SCALE_PARTS: some of them): the function run in `learntrace shell`.
PARTS = {"worker": ("bench.scale", "inner_worker"), "worker_minute": ("bench.worker", "minute"),
         "pages": ("bench.scale", "inner_pages"), "meetings": ("bench.scale", "inner_meetings"),
         "beats": ("bench.scale", "inner_beats")}


def _client(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


# ---------------------------------------------------------------- run inside `learntrace shell`


def inner_worker(ids: dict) -> dict:
    from django.db import connection
    from django.db.models import Max
    from django.test.utils import CaptureQueriesContext

    from learntrace.catalog.models import Course
    from learntrace.compliance import services
    from learntrace.compliance.models import PeriodState, Standing, Watermark
    from learntrace.org.models import Employee
    from learntrace.plans.models import PlanPeriod, ReflectionEvent
    from learntrace.records.models import Completion, Correction, CreditedTime, QuizAttempt
    from learntrace.records.services import record_credited_time

    periods = list(PlanPeriod.objects.filter(pk__in=ids["periods"]).order_by("starts_at"))
    december = periods[-1]
    # The months before December are closed and frozen, as the worker leaves them.
    for period in periods[:-1]:
        PeriodState.objects.update_or_create(period=period, defaults={"evaluated_at": period.due_at,
                                                                      "frozen_at": period.ends_at})
        Standing.objects.filter(period=period).update(frozen_at=period.ends_at)
    for source, model in (("credited_time", CreditedTime), ("completion", Completion), ("correction", Correction),
                          ("quiz_attempt", QuizAttempt), ("reflection_event", ReflectionEvent)):
        Watermark.objects.update_or_create(source=source, defaults={
            "last_id": model.objects.aggregate(top=Max("pk"))["top"] or 0})
    now = december.due_at + dt.timedelta(days=2)
    judged = timed(lambda: services.evaluate_period(december, now=now), repeat=1, warm_up=False)  # minutes at 100 000
    course = Course.objects.get(pk=ids["courses"][0])
    people = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
    learners = (people[n * 7919 % len(people)] for n in itertools.count())

    def learn():  # fifty people learned in the last minute
        for _ in range(50):
            record_credited_time(employee=Employee(pk=next(learners)), course=course, seconds=15,
                                 occurred_at=now - dt.timedelta(hours=1))

    refresh = timed(lambda: services.refresh_changed(now=now), before=learn)
    learn()
    with CaptureQueriesContext(connection) as queries:
        services.refresh_changed(now=now)
    return {"people": len(people), "judge_period": judged, "refresh": refresh,
            "refresh_queries": len(queries.captured_queries)}


def inner_pages(ids: dict) -> dict:
    from learntrace.api.v1.pagination import encode
    from learntrace.compliance.models import Standing
    from learntrace.plans.models import PlanPeriod
    from learntrace.reports.selectors import PEOPLE_ORDER, people_key

    admin = _client("bench-admin")
    base = "/reports/people/?period=all"
    rows = Standing.objects.filter(removed_at__isnull=True).select_related("employee").order_by(*PEOPLE_ORDER)
    deep_row = rows[999 * 50 - 1]  # the last row of page 999: its key opens page 1 000
    deep = f"{base}&after={people_key(deep_row)}"
    december = PlanPeriod.objects.filter(pk__in=ids["periods"]).order_by("starts_at").last()
    api = f"/api/v1/compliance/plans/{ids['plan']}/standings?on={december.starts_at.date() + dt.timedelta(days=9)}"
    in_december = Standing.objects.filter(period=december).order_by("changed_at", "pk")
    row = in_december[in_december.count() - 150]
    return {"rows": Standing.objects.count(), "page_1": timed(lambda: _get(admin, base)),
            "page_1000": timed(lambda: _get(admin, deep)),
            "api_first": timed(lambda: _get(admin, f"{api}&limit=100")),
            "api_deep": timed(lambda: _get(admin, f"{api}&limit=100&cursor={encode(row.changed_at, row.pk)}"))}


def inner_meetings(ids: dict) -> dict:
    import base64

    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from learntrace.checkin.models import PREVIOUS_CODE, Attendance, CheckInEvent, Meeting
    from learntrace.checkin.selectors import roster_figures_key
    from learntrace.checkin.suspicions import flag_all
    from learntrace.org.models import Employee

    now = timezone.now()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (SIGNATURE_BYTES // 256)
    signature = "data:image/png;base64," + base64.b64encode(png).decode()
    admin, head = _client("bench-admin"), _client("bench-head")

    def meeting(title, **roster):
        return Meeting.objects.create(course_id=ids["courses"][1], title=title, starts_at=now - dt.timedelta(hours=1),
                                      ends_at=now + dt.timedelta(hours=1), **{"roster": Meeting.Roster.OPEN, **roster})

    def analyze():
        # What autovacuum does within a minute of such a bulk insert: without it the planner takes the
        # tables for empty and sorts a whole meeting where an index gives its first rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE checkin_attendance, checkin_checkinevent")

    def present(item, count, events=True):
        people = Employee.objects.order_by("pk").values_list("pk", flat=True)[:count]
        Attendance.objects.bulk_create([
            Attendance(meeting=item, employee_id=pk, status="on_time", method="scan", signature=signature,
                       checked_in_at=now - dt.timedelta(minutes=30) + dt.timedelta(milliseconds=50 * n),
                       device_id=f"device-{pk}", credited_seconds=3600)
            for n, pk in enumerate(people)], batch_size=2000)
        if not events:
            analyze()
            return
        # A tenth of the people scanned in groups of five from one address within seconds (one shared
        # phone or Wi-Fi), a few used the previous code from outside the room's network.
        CheckInEvent.objects.bulk_create([
            CheckInEvent(meeting=item, employee_id=pk, kind=CheckInEvent.Kind.CHECK_IN,
                         at=now - dt.timedelta(minutes=30) + dt.timedelta(milliseconds=50 * n),
                         ip=f"10.8.{n // 250 % 250}.{n % 250 + 1}" if n % 10 else f"10.9.0.{n // 50 % 250 + 1}",
                         device_id=f"device-{pk}", note=PREVIOUS_CODE if n % 997 == 0 else "")
            for n, pk in enumerate(people)], batch_size=2000)
        flag_all()  # as the check-in service flags each check-in when it writes it
        analyze()

    empty = meeting("空会议")
    poll = "/checkin/meetings/{}/projector/state/"
    result = {"poll_empty": timed(lambda: _get(admin, poll.format(empty.pk))),
              "dashboard_admin_none": timed(lambda: _get(admin, "/reports/")),
              "dashboard_head_none": timed(lambda: _get(head, "/reports/"))}
    small = meeting("2 000 人会议")
    present(small, 2000)
    result["poll_2000"] = timed(lambda: _get(admin, poll.format(small.pk)))
    large = meeting("20 000 人大会")
    present(large, 20000)
    result["poll_20000"] = timed(lambda: _get(admin, poll.format(large.pk)))
    # The plan's audience (everyone) expected, 2 000 of them present: the counts of the expected and
    # the "still missing" list read the roster against the attendances.
    rostered = meeting("全员培训（按计划名单）", roster=Meeting.Roster.PLAN, roster_plan_id=ids["plan"])
    present(rostered, 2000, events=False)
    result["poll_roster"] = timed(lambda: _get(admin, poll.format(rostered.pk)))
    # The same poll when a check-in has just moved a count, as during the arrivals: the roster read again.
    rostered.refresh_from_db()
    result["poll_roster_read"] = timed(lambda: _get(admin, poll.format(rostered.pk)),
                                       before=lambda: cache.delete(roster_figures_key(rostered, timezone.now())))
    result["events"] = CheckInEvent.objects.count()
    result["roster"] = Employee.objects.filter(is_active=True).count()
    result["dashboard_admin"] = timed(lambda: _get(admin, "/reports/"))
    result["dashboard_head"] = timed(lambda: _get(head, "/reports/"))
    result["suspicions"] = timed(lambda: _get(admin, "/checkin/suspicious/"))
    if OLDER_MONTHS:
        result.update(_a_year_of_events(now, [small, large], admin, head))
    return result


def _a_year_of_events(now, recent: list, admin, head) -> dict:
    """OLDER_MONTHS earlier spans of 30 days, each with the last 30 days' check-in events again (at past
    meetings of their own), then the dashboards and the suspicions page without the index on the events'
    kind and time (dropped here) and with it (created again), on the same rows."""
    from django.db import connection

    from learntrace.checkin.models import CheckInEvent, Meeting

    copied = ", ".join(f.column for f in CheckInEvent._meta.concrete_fields
                       if f.column not in ("id", "meeting_id", "at", "burst_start"))
    with connection.cursor() as cursor:
        for month in range(1, OLDER_MONTHS + 1):
            shift = dt.timedelta(days=30 * month)
            for source in recent:
                past = Meeting.objects.create(course_id=source.course_id, title=f"{source.title} ({month})",
                                              starts_at=source.starts_at - shift, ends_at=source.ends_at - shift,
                                              roster=Meeting.Roster.OPEN)
                cursor.execute(f"INSERT INTO checkin_checkinevent (meeting_id, at, burst_start, {copied}) "
                               f"SELECT %s, at - %s, burst_start - %s, {copied} FROM checkin_checkinevent "
                               f"WHERE meeting_id = %s", [past.pk, shift, shift, source.pk])
        cursor.execute("ANALYZE checkin_checkinevent")
    index = next(i for i in CheckInEvent._meta.indexes if i.name == "checkin_event_kind_at")

    def pages(suffix: str) -> dict:
        return {f"year_admin{suffix}": timed(lambda: _get(admin, "/reports/")),
                f"year_head{suffix}": timed(lambda: _get(head, "/reports/")),
                f"year_suspicions{suffix}": timed(lambda: _get(admin, "/checkin/suspicious/"))}

    with connection.schema_editor() as editor:
        editor.remove_index(CheckInEvent, index)
    result = {"events_year": CheckInEvent.objects.count(), **pages("_unindexed")}
    with connection.schema_editor() as editor:
        editor.add_index(CheckInEvent, index)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE checkin_checkinevent")
    return {**result, **pages("")}


def inner_beats(ids: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from learntrace.catalog.models import Course
    from learntrace.org.models import Employee
    from learntrace.tracking.services import start_attempt

    user = get_user_model().objects.create_user(username="bench-learner")
    employee = Employee.objects.order_by("pk").last()
    Employee.objects.filter(pk=employee.pk).update(user=user)
    employee.refresh_from_db()
    course = Course.objects.get(pk=ids["courses"][2])
    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    client.force_login(user)
    token = "c" * 32
    client.cookies["csrftoken"] = token
    attempts = {name: start_attempt(employee=employee, course=course, now=timezone.now() - dt.timedelta(hours=3))
                for name in ("page", "api")}
    urls = {"page": "/tracking/beat/", "api": "/api/v1/tracking/beat"}
    seq = {"page": 0, "api": 0}

    def beats(name, count=25):
        for _ in range(count):
            n = seq[name]
            seq[name] += 1
            beat = {"seq": n, "segments": [[n * 0.2, n * 0.2 + 0.2]], "rate": 1, "hidden": False}
            response = client.post(urls[name], {"csrfmiddlewaretoken": token, "attempt": str(attempts[name].pk),
                                                "beat": json.dumps(beat)})
            if response.status_code != 200:
                raise RuntimeError(f"{urls[name]} answered {response.status_code}")

    rounds: dict = {"page": [], "api": []}
    beats("page"), beats("api")
    for _ in range(15):
        for name in ("page", "api"):
            rounds[name].append(measured(lambda name=name: beats(name)))
    # Per beat: medians of the rounds of 25.
    return {name: {key: value / 25 if key.endswith("_ms") else value for key, value in summary(values).items()}
            for name, values in rounds.items()}


# ---------------------------------------------------------------- the harness


def generate(admin_url: str) -> tuple[str, dict]:
    """A new database with the data set; the data set's answer is kept in it (table bench_dataset), so
    that `measure` can run later, on its own."""
    url = create_database(admin_url, DATABASE)
    learntrace(url, "migrate", "-v0")
    began = time.perf_counter()
    dataset = generated_dataset(url, PEOPLE, 100)
    dataset["generated_s"] = time.perf_counter() - began
    print(f"data set: {dataset['counts']} in {dataset['generated_s']:.0f} s", flush=True)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_dataset (answer jsonb NOT NULL)")
        connection.execute("INSERT INTO bench_dataset VALUES (%s)", [json.dumps(dataset)])
    return url, dataset


def generated(admin_url: str) -> tuple[str, dict]:
    url = database_url(admin_url, DATABASE)
    with psycopg.connect(url) as connection:
        return url, connection.execute("SELECT answer FROM bench_dataset").fetchone()[0]


def run(admin_url: str) -> dict:
    """The steps of BENCH_SCALE_STEPS (default all three): generate the data set in a new database,
    measure on it (once: the measurements add to it), drop it."""
    steps = os.environ.get("BENCH_SCALE_STEPS", "generate,measure,drop").split(",")
    url, dataset = (generate if "generate" in steps else generated)(admin_url)
    if "measure" not in steps:
        return {"dataset": dataset}
    try:
        ids = dataset["ids"]
        result = {}
        parts = os.environ.get("BENCH_SCALE_PARTS", ",".join(PARTS)).split(",")
        for name, (module, function) in PARTS.items():
            if name in parts:
                result[name] = in_shell(url, module, function, ids)
                print(f"{name}: {json.dumps(result[name])}", flush=True)  # a long run's parts as they come
    finally:
        if "drop" in steps:
            drop_database(admin_url, DATABASE)
    result["dataset"] = dataset
    return report(result, _lines(result))


def _lines(result: dict) -> list[str]:
    lines = []
    if w := result.get("worker"):
        lines.append(f"worker, one minute's refresh (50 learners) at {w['people']} people: {figure(w['refresh'])} "
                     f"({w['refresh_queries']} queries) | judging the whole period: {figure(w['judge_period'])} | "
                     f"{ratios(w['refresh'], w['judge_period'])}")
    if minute := result.get("worker_minute"):
        lines.append(f"worker at steady state, {minute['people']} people, {minute['viewers']} viewers "
                     f"({minute['beats_a_minute']} beats a minute): {minute['cpu_ms_a_minute'] / 1000:.2f} CPU s "
                     f"a minute = {minute['core_percent']:.1f} % of a core "
                     f"(wall {minute['wall_ms_a_minute'] / 1000:.2f} s a minute)")
        lines += [f"  {name}: {task['runs_a_day']} runs a day, {task['cpu_ms']:.1f} CPU ms a run (database "
                  f"{task['db_cpu_ms']:.1f}, wall {task['wall_ms']:.1f}) -> {task['cpu_ms_a_minute']:.1f} ms a minute"
                  for name, task in sorted(minute["tasks"].items(), key=lambda item: -item[1]["cpu_ms_a_minute"])]
    if p := result.get("pages"):
        lines += [f"per-person list, {p['rows']} rows: page 1 000 {figure(p['page_1000'])} | page 1 "
                  f"{figure(p['page_1'])} | {ratios(p['page_1000'], p['page_1'])}",
                  f"API standings: deep cursor {figure(p['api_deep'])} | first page {figure(p['api_first'])} | "
                  f"{ratios(p['api_deep'], p['api_first'])}"]
    if m := result.get("meetings"):
        lines += [f"projector poll: 2 000 present {figure(m['poll_2000'])}, 20 000 present "
                  f"{figure(m['poll_20000'])} | empty meeting {figure(m['poll_empty'])} | 2 000: "
                  f"{ratios(m['poll_2000'], m['poll_empty'])}; 20 000: {ratios(m['poll_20000'], m['poll_empty'])}",
                  f"projector poll, the plan's {m.get('roster', '?')} expected, 2 000 present: "
                  f"{figure(m['poll_roster'])} | {ratios(m['poll_roster'], m['poll_empty'])}; read again "
                  f"(a count just moved) {figure(m['poll_roster_read'])} | kept / read again: "
                  f"{ratios(m['poll_roster'], m['poll_roster_read'])}",
                  f"dashboard with {m['events']} check-in events: admin {figure(m['dashboard_admin'])} (none: "
                  f"{figure(m['dashboard_admin_none'])}, {ratios(m['dashboard_admin'], m['dashboard_admin_none'])}), "
                  f"head {figure(m['dashboard_head'])} (none: {figure(m['dashboard_head_none'])}, "
                  f"{ratios(m['dashboard_head'], m['dashboard_head_none'])}); suspicions page "
                  f"{figure(m['suspicions'])}"]
        if "events_year" in m:
            lines += [f"with {m['events_year']} check-in events ({OLDER_MONTHS} months more), {name}: "
                      f"{figure(m[key])} | without the index on kind and time {figure(m[key + '_unindexed'])} | "
                      f"{ratios(m[key], m[key + '_unindexed'])}"
                      for name, key in (("admin's dashboard", "year_admin"), ("head's dashboard", "year_head"),
                                        ("suspicions page", "year_suspicions"))]
    if b := result.get("beats"):
        lines.append(f"beat, in process, per beat: API {figure(b['api'])} | page {figure(b['page'])} | page / API: "
                     f"{b['page']['median_ms'] / b['api']['median_ms']:.2f} wall, "
                     f"{b['page']['cpu_ms'] / b['api']['cpu_ms']:.2f} CPU")
    return lines


if __name__ == "__main__":
    main(run)
