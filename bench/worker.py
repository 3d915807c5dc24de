"""The background worker's CPU per minute at steady state: VIEWERS people watching videos at once,
each of them sending a beat every 15 seconds (a fact with a beat's details), while the worker runs
its periodic tasks as their crontabs say.

Run inside `learntrace shell` on bench.dataset's organisation after bench.scale's inner_worker
(January to November frozen, December judged and open). The clock (time-machine) is set to a
December morning past the due day; every simulated minute first writes the minute's beats as the
web processes would (facts queued for sealing by the database's trigger), then runs each periodic
task due at that minute, as the worker does (its function, without huey's queue), measuring its
CPU: this process's and its PostgreSQL backend's. Tasks that run at most hourly are run once after
the window (15 minutes: every other task runs in it). A task's cost per minute is its mean CPU per
run × its runs a day / 1 440; their sum, over 60 seconds, is the share of one core the worker needs."""

import datetime as dt
import importlib
import statistics

from django.db import connection

from bench.common import measured
from learntrace.records.codes import KIND_CODES, SOURCE_CODES

VIEWERS = 2000
BEATS_A_MINUTE = 4  # one every 15 seconds
HISTORY_HOURS = 4  # what each viewer already watched this month, as beat facts
WINDOW_MINUTES = 15  # every task that runs more often than hourly runs at least once
MINUTES_A_DAY = 24 * 60


def periodic_tasks() -> list:
    """Every periodic task the worker schedules: (name, the function it runs, runs a day)."""
    from django.utils.module_loading import autodiscover_modules
    from huey.api import TaskWrapper
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")  # as the worker (run_huey) does at start
    found = []
    for task_class in HUEY._registry._periodic_tasks:
        module = importlib.import_module(task_class.__module__)
        wrapper = next(value for value in vars(module).values()
                       if isinstance(value, TaskWrapper) and value.task_class is task_class)
        day = dt.datetime(2025, 12, 1)  # noqa: DTZ001 (huey's crontabs read naive UTC moments)
        runs = sum(task_class().validate_datetime(day + dt.timedelta(minutes=m)) for m in range(MINUTES_A_DAY))
        found.append((f"{task_class.__module__.removeprefix('learntrace.')}.{task_class.__name__}",
                      task_class, wrapper.call_local, runs))
    return found


def _execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# A beat's fact as the tracker writes it: 15 seconds watched and credited, with the beat's details.
_BEATS = """
INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, occurred_at, source,
                                  attempt_id, seq, details, recorded_at)
SELECT v.employee_id, %(course)s, %(video)s, %(category)s, 15, b.at, %(tracking)s, v.attempt_id, b.seq,
       jsonb_build_object('segments', jsonb_build_array(jsonb_build_array(b.seq * 15000, b.seq * 15000 + 15000)),
                          'reading_ms', 0, 'rate', 1, 'hidden', false, 'elapsed_ms', b.seq * 15000 + 15000,
                          'received_at', to_char(b.at, 'YYYY-MM-DD"T"HH24:MI:SS.US+00:00'),
                          'played_ms', 15000, 'credited_ms', 15000, 'cut_ms', 0, 'flags', '[]'::jsonb),
       b.at
FROM (SELECT id AS employee_id, md5('bench-viewer-' || id)::uuid AS attempt_id FROM org_employee
      WHERE id = ANY(%(viewers)s)) v
CROSS JOIN LATERAL (SELECT %(first_seq)s + n AS seq, %(start)s::timestamptz + n * interval '15 seconds' AS at
                    FROM generate_series(0, %(beats)s - 1) n) b"""


def _beats(ids: dict, viewers: list[int], start: dt.datetime, first_seq: int, beats: int) -> None:
    _execute(_BEATS, {"course": ids["courses"][3], "category": ids["category"], "viewers": viewers,
                      "video": KIND_CODES["video"], "tracking": SOURCE_CODES["tracking"],
                      "first_seq": first_seq, "start": start, "beats": beats})


def minute(ids: dict) -> dict:
    import time_machine
    from django.db.models import Max

    from bench.dataset import whole_organisation
    from learntrace.compliance.models import Watermark
    from learntrace.evidence.services import seal_pending
    from learntrace.org.models import Employee
    from learntrace.plans.models import PlanPeriod
    from learntrace.records import sums
    from learntrace.records.models import CreditedTime

    whole_organisation(ids)
    december = PlanPeriod.objects.filter(pk__in=ids["periods"]).order_by("starts_at").last()
    start = december.due_at + dt.timedelta(days=2, hours=10, minutes=1)  # 10:01 local, two days after the due day
    people = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
    viewers = sorted(people[n * len(people) // VIEWERS] for n in range(VIEWERS))
    history = HISTORY_HOURS * 60 * BEATS_A_MINUTE
    # What they watched earlier this month: sealed long ago (not queued), and behind the refresh's watermark.
    _execute("SET session_replication_role = replica")
    _beats(ids, viewers, december.starts_at + dt.timedelta(days=3), 0, history)
    _execute("SET session_replication_role = origin")
    sums.rebuild(employee_ids=viewers)  # what the triggers, off above, would have summed
    _execute("ANALYZE records_creditedtime")
    _execute("ANALYZE records_creditedhour")
    Watermark.objects.filter(source="credited_time").update(
        last_id=CreditedTime.objects.aggregate(top=Max("pk"))["top"])
    tasks = periodic_tasks()
    runs: dict[str, list] = {name: [] for name, *_rest in tasks}
    seq = history

    def run(name, function):
        runs[name].append(measured(function))

    with time_machine.travel(start - dt.timedelta(minutes=1), tick=False) as clock:
        for _name, _task_class, function, per_day in tasks:  # a first run, not measured
            if per_day > 24:
                function()
        seal_pending()
        for m in range(WINDOW_MINUTES):
            moment = start + dt.timedelta(minutes=m)
            _beats(ids, viewers, moment - dt.timedelta(minutes=1), seq, BEATS_A_MINUTE)
            seq += BEATS_A_MINUTE
            clock.move_to(moment, tick=False)
            for name, task_class, function, per_day in tasks:
                if per_day > 24 and task_class().validate_datetime(moment.astimezone(dt.UTC).replace(tzinfo=None)):
                    run(name, function)
        clock.move_to(start + dt.timedelta(minutes=WINDOW_MINUTES), tick=False)
        for name, _task_class, function, _per_day in tasks:
            if not runs[name]:  # the tasks that run at most hourly
                run(name, function)
    per_task = {}
    for name, _task_class, _function, per_day in tasks:
        # Means, not medians: a task's runs differ by what waited for them, and all of it is work.
        mean = {key: statistics.mean(run[key] for run in runs[name]) * 1000 for key in ("wall", "cpu", "db_cpu")}
        per_task[name] = {"runs_a_day": per_day, "runs_measured": len(runs[name]),
                          "cpu_ms": mean["cpu"] + mean["db_cpu"], "db_cpu_ms": mean["db_cpu"], "wall_ms": mean["wall"],
                          "cpu_ms_a_minute": (mean["cpu"] + mean["db_cpu"]) * per_day / MINUTES_A_DAY}
    cpu_a_minute = sum(task["cpu_ms_a_minute"] for task in per_task.values())
    wall_a_minute = sum(task["wall_ms"] * task["runs_a_day"] / MINUTES_A_DAY for task in per_task.values())
    return {"people": len(people), "viewers": VIEWERS, "beats_a_minute": VIEWERS * BEATS_A_MINUTE,
            "history_facts_a_viewer": history, "tasks": per_task, "cpu_ms_a_minute": cpu_a_minute,
            "wall_ms_a_minute": wall_a_minute, "core_percent": cpu_a_minute / 60_000 * 100}
