"""Two web nodes (`learntrace serve --no-worker`) and two workers (`learntrace run_huey`) on one PostgreSQL
and one Redis, as docs/deployment.md describes: beats, a check-in, reminders and seals reach the database
once each, whichever node or worker handles them, and the evidence verifies on either node."""

import contextlib
import datetime as dt
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

import s3_server as local_s3
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin import services as checkin
from learntrace.checkin.models import Attendance, CheckInEvent, Meeting
from learntrace.evidence.models import Pending, Seal
from learntrace.evidence.sources import SOURCES, model
from learntrace.notify.models import ChannelKind, Delivery, Notification, ReminderSchedule
from learntrace.org.models import Employee, ImportBatch
from learntrace.records.models import CreditedTime
from learntrace.records.services import record_credited_time
from learntrace.reports.models import ExportJob
from notify_helpers import HOUR, channel, reminder_plan
from reports_fixtures import hospital_month
from test_import import person, write_csv
from test_outage import closed_port, wait_for
from test_plans import at
from test_worker import REDIS_TEST_DB, database_url

s3_server, bucket = local_s3.s3_server, local_s3.bucket  # the fixtures, for this module's tests
REMINDER_DAY = at(2026, 3, 15, 9, 5)
RUN_REMINDERS = f"""
import datetime as dt
from learntrace.compliance.services import refresh_changed
from learntrace.notify.services import run_reminders
now = dt.datetime.fromisoformat("{REMINDER_DAY.isoformat()}")
refresh_changed(now=now)
print(run_reminders(now=now))
"""


def redis_or_skip():
    import redis

    server = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB)
    try:
        server.ping()
    except redis.ConnectionError:
        if os.environ.get("LEARNTRACE_REQUIRE_REDIS") == "1":
            raise
        pytest.skip("no Redis at 127.0.0.1:6379 (CI sets LEARNTRACE_REQUIRE_REDIS=1 and starts one)")
    return server


def start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "learntrace", *command], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_until(check, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def environments(tmp_path, name: str, **shared: str) -> dict[str, dict[str, str]]:
    """The environment of web nodes a and b and workers w1 and w2: one PostgreSQL, one Redis, the same keys, each
    its own data folder; `shared` says where the files every node reads go (without SHARED_DIR, each node's
    folder is its data folder, which no other node sees)."""
    common = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
              "HUEY_URL": f"redis://127.0.0.1:6379/{REDIS_TEST_DB}", "HUEY_NAME": name, "HUEY_IMMEDIATE": "0",
              "SECRET_KEY": settings.SECRET_KEY, "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
              "EVIDENCE_SIGNING_KEY_FILE": str(settings.EVIDENCE_SIGNING_KEY_FILE),
              "WEB_CONCURRENCY": "1", "WORKERS": "2", "LANGUAGE_CODE": "en", **shared}
    return {key: {**common, "DATA_DIR": str(tmp_path / key)} for key in ("a", "b", "w1", "w2")}


@contextlib.contextmanager
def running(node: dict, server, name: str):
    """Web nodes a and b (`serve --no-worker`) and workers w1 and w2, started with their environments; yields
    the web nodes' ports once both are ready (their readiness answer as well), and stops everything after."""
    ports = {"a": closed_port(), "b": closed_port()}
    processes = [start(["serve", "--no-worker", "--port", str(ports[key])], node[key]) for key in ("a", "b")]
    processes += [start(["run_huey"], node[key]) for key in ("w1", "w2")]
    try:
        ready = {}
        for key in ("a", "b"):
            status, _, body = wait_for(f"http://127.0.0.1:{ports[key]}/health/ready", {}, 200, seconds=120)
            assert status == 200, body
            ready[key] = json.loads(body)["checks"]
        yield ports, ready
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        for key in server.scan_iter(f"*{name}*"):
            server.delete(key)


@pytest.mark.django_db(transaction=True)
def test_two_web_nodes_and_two_workers_record_everything_once(org, catalog, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several nodes share PostgreSQL (SQLite is one machine's file)")
    server = redis_or_skip()
    name = f"lt-two-nodes-{uuid.uuid4().hex[:8]}"
    (tmp_path / "shared").mkdir()  # the folder every node mounts
    node = environments(tmp_path, name, SHARED_DIR=str(tmp_path / "shared"))

    # What the admin set up: a video, a meeting going on now, the March plan with an in-app reminder.
    video = Course.objects.create(title="Ten minutes", kind=CourseKind.VIDEO, category=catalog.management,
                                  duration_seconds=600, completion_threshold=95, is_published=True)
    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward round review", starts_at=now,
                                     ends_at=now + dt.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.head, org.learner])
    plan = reminder_plan(org, catalog, now=at(2026, 3, 1, 8))
    schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15])
    schedule.channels.set([channel(ChannelKind.INAPP)])
    record_credited_time(employee=org.head, course=catalog.video, seconds=3 * HOUR, occurred_at=at(2026, 3, 2))

    with running(node, server, name) as (ports, _ready):

        browser = Client()
        browser.force_login(org.learner.user)
        cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value,
                   "django_language": "en"}
        a = httpx.Client(base_url=f"http://127.0.0.1:{ports['a']}", cookies=cookies, timeout=30)
        b = httpx.Client(base_url=f"http://127.0.0.1:{ports['b']}", cookies=cookies, timeout=30)
        a.get(reverse("catalog:course", args=[video.pk])).raise_for_status()
        token = a.cookies["csrftoken"]
        b.cookies.set("csrftoken", token)
        headers = {"X-CSRFToken": token}

        # Beats: started on A, sent to B, the second one sent to both (a retry reaching another node).
        attempt = a.post(reverse("tracking:attempt_start", args=[video.pk]), headers=headers).json()["attempt"]
        answers = []
        for seq, client in ((0, [b]), (1, [a, b])):
            time.sleep(2.2)
            beat = {"seq": seq, "segments": [[2 * seq, 2 * seq + 2]], "rate": 1, "hidden": False,
                    "elapsed_ms": 2000 * (seq + 1)}
            for each in client:
                answer = each.post(reverse("tracking:beat"), json={"attempt": attempt, "beat": beat}, headers=headers)
                assert answer.status_code == 200, answer.text
                answers.append(answer.json())
        assert [answer["total_credited_ms"] for answer in answers] == [2000, 4000, 4000]
        assert sorted(CreditedTime.objects.filter(attempt_id=attempt).values_list("seq", flat=True)) == [0, 1]

        # A check-in: scanned through A, confirmed on B, confirmed again on A.
        code = checkin.current_codes(meeting, timezone.now())["token"]
        scanned = a.get(reverse("checkin:scan", args=[meeting.pk, code]))
        assert scanned.status_code == 302, scanned.text
        ticket = scanned.headers["Location"]
        assert re.fullmatch(r"/checkin/t/[^/]+/", ticket)
        b.cookies.set("learntrace_scan", a.cookies["learntrace_scan"])
        confirmed = b.post(ticket, headers=headers)
        assert 'data-outcome="done"' in confirmed.text
        again = a.post(ticket, headers=headers)
        assert again.status_code == 200
        assert Attendance.objects.filter(meeting=meeting, employee=org.learner).count() == 1
        assert CheckInEvent.objects.filter(meeting=meeting, employee=org.learner, kind="check_in").count() == 1

        # Reminders: the scheduler runs on both workers' machines at the same moment; the workers send.
        runs = [subprocess.Popen([sys.executable, "-m", "learntrace", "shell", "--no-imports", "-c", RUN_REMINDERS],
                                 env=node[key], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for key in ("w1", "w2")]
        made = [int(run.communicate(timeout=180)[0].split()[-1]) for run in runs]
        assert sorted(made) == [0, 2]  # one of them made the two reminders, the other found them made
        assert wait_until(lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 2)
        assert sorted(Notification.objects.values_list("employee_id", flat=True)) == sorted([org.learner.pk,
                                                                                               org.head.pk])

        # Seals: made by two processes at once, on different nodes; each fact in exactly one seal.
        sealers = [subprocess.Popen([sys.executable, "-m", "learntrace", "seal"], env=node[key],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for key in ("a", "b")]
        for sealer in sealers:
            _, errors = sealer.communicate(timeout=180)
            assert sealer.returncode == 0, errors
        facts = sum(model(code).objects.count() for code in SOURCES)
        assert not Pending.objects.exists()
        assert sum(Seal.objects.values_list("fact_count", flat=True)) == facts
        for key in ("a", "b"):
            verify = subprocess.run([sys.executable, "-m", "learntrace", "verify"], env=node[key], capture_output=True,
                                    text=True, timeout=180)
            assert verify.returncode == 0 and f"{facts} facts: intact" in verify.stdout, verify.stdout + verify.stderr


@pytest.mark.django_db(transaction=True)
def test_two_nodes_without_a_shared_folder_hand_files_over_through_one_bucket(org, catalog, tmp_path, bucket):
    """Uploads taken by one web node are read by whichever worker runs the job; exports a worker writes are
    downloaded through the other web node; nothing of it lands in a node's own folder."""
    if connection.vendor != "postgresql":
        pytest.skip("several nodes share PostgreSQL (SQLite is one machine's file)")
    server = redis_or_skip()
    name = f"lt-two-buckets-{uuid.uuid4().hex[:8]}"
    node = environments(tmp_path, name, REPORTS_DIRECT_EXPORT_ROWS="3", **bucket.environment)
    hospital_month(org, catalog)
    with running(node, server, name) as (ports, ready):
        assert ready["a"]["storage"] == ready["b"]["storage"] == "ok"  # each node reaches the bucket

        def on(key: str, someone) -> httpx.Client:
            browser = Client()
            browser.force_login(someone.user)
            session = browser.cookies[settings.SESSION_COOKIE_NAME].value
            return httpx.Client(base_url=f"http://127.0.0.1:{ports[key]}", timeout=30,
                                cookies={settings.SESSION_COOKIE_NAME: session, "django_language": "en"})

        # An import: uploaded through A, checked by a worker, confirmed through B, applied by a worker.
        a, b = on("a", org.admin), on("b", org.admin)
        a.get(reverse("org:import")).raise_for_status()
        token = a.cookies["csrftoken"]
        b.cookies.set("csrftoken", token)
        path = write_csv(tmp_path / "people.csv", [person("W1"), person("W2", "SURG")])
        with path.open("rb") as handle:
            uploaded = a.post(reverse("org:import"), files={"file": ("people.csv", handle, "text/csv")},
                              headers={"X-CSRFToken": token})
        assert uploaded.status_code == 302, uploaded.text
        batch = ImportBatch.objects.get()
        assert bucket.keys() == [f"{bucket.prefix}{batch.stored_path}"]
        assert wait_until(lambda: ImportBatch.objects.get().status == ImportBatch.Status.VALIDATED, 180), \
            ImportBatch.objects.values("status", "errors").get()
        confirmed = b.post(reverse("org:import_confirm", args=[batch.pk]), headers={"X-CSRFToken": token})
        assert confirmed.status_code == 302, confirmed.text
        assert wait_until(lambda: ImportBatch.objects.get().status == ImportBatch.Status.APPLIED, 180), \
            ImportBatch.objects.values("status", "errors").get()
        assert sorted(Employee.objects.filter(employee_no__in=["W1", "W2"]).values_list("employee_no", flat=True)) \
            == ["W1", "W2"]
        assert bucket.keys() == []  # the people's file is gone once imported

        # An export: asked for through A, written by a worker, downloaded through B.
        a, b = on("a", org.head), on("b", org.head)
        asked = a.get(reverse("reports:export", args=["people", "xlsx"]), params={"period": "all"})
        assert asked.status_code in (200, 302), asked.text
        assert wait_until(lambda: ExportJob.objects.filter(status=ExportJob.Status.DONE).exists(), 180), \
            list(ExportJob.objects.values("status", "error"))
        job = ExportJob.objects.get()
        assert bucket.keys() == [f"{bucket.prefix}exports/{job.pk}.xlsx"]
        answer = b.get(reverse("reports:export_download", args=[job.pk]))
        assert answer.status_code == 302
        sheet = load_workbook(io.BytesIO(httpx.get(answer.headers["Location"]).content), read_only=True).active
        # The head's two people, once a period: February and March, and the months since if a worker's
        # plan roll-over (every ten minutes) ran while the test did.
        numbers = [row[0] for row in list(sheet.iter_rows(values_only=True))[1:]]
        assert set(numbers) == {"E001", "H001"} and numbers.count("E001") == numbers.count("H001") >= 2
        on_disk = [item.relative_to(tmp_path).as_posix() for item in tmp_path.rglob("*")
                   if item.is_file() and item.suffix in (".csv", ".xlsx") and item != path]
        assert on_disk == []  # neither the upload nor the export went through a node's own folder
