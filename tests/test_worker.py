"""The background worker: the periodic heartbeat, and a real consumer process on this database."""

import os
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from learntrace.core import tasks
from learntrace.core.models import WorkerHeartbeat


def test_the_heartbeat_is_a_periodic_task_every_minute():
    import datetime as dt

    due = HUEY.read_periodic(dt.datetime(2026, 1, 1, 9, 17, tzinfo=dt.UTC))  # what the scheduler would enqueue then
    assert "worker_heartbeat" in {task.name for task in due}


def test_the_heartbeat_counts_runs(db):
    tasks.record_worker_heartbeat()
    beat = tasks.record_worker_heartbeat()
    assert beat.runs == 2


def test_the_system_page_tells_whether_the_worker_runs(org, client_for):
    client = client_for(org.admin)
    assert "not seen recently" in client.get(reverse("home:system")).text
    client.post(reverse("home:ping_worker"))  # immediate mode in tests: runs at once
    assert "running" in client.get(reverse("home:system")).text


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings.get("USER") or "")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_a_queued_task(tmp_path):
    """Enqueue from one process and consume in another, through the storage the
    deployment uses: a SQLite file by default, PostgreSQL tables with PostgreSQL."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
           "DATA_DIR": str(tmp_path), "HUEY_IMMEDIATE": "0"}
    subprocess.run(
        [sys.executable, "-m", "learntrace", "shell", "-c",
         "from learntrace.core.tasks import worker_ping; worker_ping()"],
        env=env, check=True, timeout=60,
    )
    assert not WorkerHeartbeat.objects.exists()  # queued, not yet run
    consumer = subprocess.Popen([sys.executable, "-m", "learntrace", "run_huey", "--no-periodic"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
            time.sleep(0.2)
    finally:
        consumer.terminate()
        consumer.wait(timeout=15)
    assert WorkerHeartbeat.objects.get(name="worker").runs == 1


REDIS_TEST_DB = 13  # a database of its own on the shared Redis; the queue's name is unique per run


@pytest.mark.django_db(transaction=True)
def test_a_redis_backed_queue_runs_a_task(tmp_path):
    """HUEY_URL=redis://…: the client is installed with the project, and a task enqueued by one
    process is run by a worker in another, through Redis."""
    import uuid

    import redis

    name = f"learntrace_test_{uuid.uuid4().hex}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
           "DATA_DIR": str(tmp_path), "HUEY_IMMEDIATE": "0", "HUEY_NAME": name,
           "HUEY_URL": f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"}
    server = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB)
    try:
        server.ping()
    except redis.ConnectionError:
        if os.environ.get("LEARNTRACE_REQUIRE_REDIS") == "1":
            raise
        pytest.skip("no Redis at 127.0.0.1:6379 (CI sets LEARNTRACE_REQUIRE_REDIS=1 and starts one)")
    try:
        subprocess.run(
            [sys.executable, "-m", "learntrace", "shell", "-c",
             "from learntrace.core.tasks import worker_ping; worker_ping()"],
            env=env, check=True, timeout=60,
        )
        assert server.llen(f"huey.redis.{name}") == 1
        assert not WorkerHeartbeat.objects.exists()  # queued in Redis, not yet run
        consumer = subprocess.Popen([sys.executable, "-m", "learntrace", "run_huey", "--no-periodic"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
                time.sleep(0.2)
        finally:
            consumer.terminate()
            consumer.wait(timeout=15)
        assert WorkerHeartbeat.objects.get(name="worker").runs == 1
    finally:
        keys = list(server.scan_iter(match=f"huey.*.{name}*"))
        if keys:
            server.delete(*keys)
        server.close()
