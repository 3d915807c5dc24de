"""What keeping the running sums of credited time costs each beat: the database's CPU for a beat's
fact, inserted on its own and committed as the tracker does, with the sums' trigger (records/sums.py)
and with it disabled, in interleaved rounds. The trigger runs in PostgreSQL's backend, which
`bench beat_cost` (the web process's instructions) does not see; the backend's CPU is read from the
scheduler (bench.common.measured), so a busy machine does not change it much. The least of the
rounds counts."""

import json

from bench.common import fresh_database, in_shell

FACTS = 3000  # a round: one person's 12.5 hours of beats, an hour's row taking 240 of them
TRACKED = 300  # a round of whole beats through the tracker: 75 minutes of one video
ROUNDS = 4


def inner(_argument) -> dict:
    import datetime as dt

    from django.db import connection

    from bench.common import measured
    from learntrace.catalog.models import Category, Course
    from learntrace.org.models import Department, Employee

    root = Department.objects.create(code="B", name="bench")
    category = Category.objects.create(code="b", name="b")
    course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=8 * 3600)
    employee = Employee.objects.create(employee_no="BENCH", name="b", department=root)
    start = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
    second = dt.timedelta(seconds=1)
    # kind 1 and source 1: video and tracking (records/codes.py)
    statement = ("INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, occurred_at, "
                 "source, seq, beat, recorded_at) VALUES (%s, %s, 1, %s, 15, %s, 1, %s, %s, %s)")
    seq = 0

    def beats():
        nonlocal seq
        with connection.cursor() as cursor:
            for _n in range(FACTS):
                moment = start + dt.timedelta(seconds=15 * seq)
                cursor.execute(statement, [employee.pk, course.pk, category.pk, moment, seq, b"\x00" * 25, moment])
                seq += 1

    def trigger(enabled: bool):
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE records_creditedtime {'ENABLE' if enabled else 'DISABLE'} "
                           f"TRIGGER records_credited_hours_add")

    from django.contrib.auth import get_user_model

    from learntrace.tracking.services import receive_beat, start_attempt

    employee.user = get_user_model().objects.create_user(username="bench")
    employee.save()

    windows = 0

    def tracked():
        """Whole beats through the tracker, each its own transaction, on a new course (so each credits)."""
        course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=8 * 3600,
                                       is_published=True)
        nonlocal windows
        started = start + dt.timedelta(days=30, hours=3 * windows)  # one person learns in one window at a time
        windows += 1
        attempt = start_attempt(employee=employee, course=course, now=started)
        for n in range(TRACKED):
            outcome = receive_beat(attempt_id=attempt.pk, user_id=employee.user_id, now=started + (n + 1) * 15 * second,
                                   data={"seq": n, "segments": [[n * 15, n * 15 + 15]], "rate": 1, "hidden": False,
                                         "elapsed_ms": (n + 1) * 15000})
            assert outcome.credited_ms == 15000, outcome

    runs: dict[str, list] = {"with": [], "without": [], "beats_with": [], "beats_without": []}
    beats()  # warm-up
    tracked()
    for _round in range(ROUNDS):
        for label in ("with", "without"):
            trigger(label == "with")
            runs[label].append(measured(beats))
            runs[f"beats_{label}"].append(measured(tracked))
    trigger(True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(seconds) FROM records_creditedhour")
        rows, seconds = cursor.fetchone()
    result = {label: {"db_cpu_us_a_fact": min(run["db_cpu"] for run in values) / count * 1e6,
                      "rounds_us": [run["db_cpu"] / count * 1e6 for run in values]}
              for label, values in runs.items() for count in [TRACKED if label.startswith("beats") else FACTS]}
    result.update(facts_a_round=FACTS, sum_rows=rows, summed_seconds=int(seconds))
    return result


def run(admin_url: str, database: str = "bench_sums_cost") -> dict:
    with fresh_database(admin_url, database) as database_url:
        result = in_shell(database_url, "bench.sums_cost", "inner", None)
    extra = result["with"]["db_cpu_us_a_fact"] - result["without"]["db_cpu_us_a_fact"]
    result["trigger_us_a_fact"] = extra
    result["with_over_without"] = result["with"]["db_cpu_us_a_fact"] / result["without"]["db_cpu_us_a_fact"]
    print(json.dumps(result))
    whole = result["beats_with"]["db_cpu_us_a_fact"] - result["beats_without"]["db_cpu_us_a_fact"]
    result["whole_beat_trigger_us"] = whole
    result["whole_beat_with_over_without"] = (result["beats_with"]["db_cpu_us_a_fact"]
                                              / result["beats_without"]["db_cpu_us_a_fact"])
    print(f"a whole beat through the tracker, database CPU: {result['beats_with']['db_cpu_us_a_fact']:.1f} µs "
          f"with the sums' trigger, {result['beats_without']['db_cpu_us_a_fact']:.1f} µs without (+{whole:.1f} µs, "
          f"{result['whole_beat_with_over_without']:.2f}×)")
    print(f"a beat's fact, database CPU: {result['with']['db_cpu_us_a_fact']:.1f} µs with the sums' trigger, "
          f"{result['without']['db_cpu_us_a_fact']:.1f} µs without (+{extra:.1f} µs, "
          f"{result['with_over_without']:.2f}×)")
    return result
