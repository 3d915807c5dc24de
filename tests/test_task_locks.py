"""Locks of the background jobs: a live holder in another process excludes, and a holder that
is killed (SIGKILL: no clean-up at all) does not block the next run."""

import logging
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from learntrace.compliance import tasks
from learntrace.compliance.models import Watermark
from learntrace.core import locks
from learntrace.reports import services as reports
from learntrace.reports.models import ExportJob
from test_worker import database_url

HOLD = """
import sys
from learntrace.core.locks import exclusive
with exclusive(sys.argv[-1]) as held:
    print("held" if held else "busy", flush=True)
    sys.stdin.read()
"""


CLAIM_EXPORT = """
import sys
from learntrace.reports.services import claimed_export
with claimed_export(sys.argv[-1]) as claimed:
    print("held" if claimed else "busy", flush=True)
    sys.stdin.read()
"""


def hold_in_another_process(name: str, script: str = HOLD) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
           "DATA_DIR": str(settings.DATA_DIR), "HUEY_IMMEDIATE": "0"}
    holder = subprocess.Popen([sys.executable, "-c", f"import django; django.setup(){script}", name], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def holder_backends(name: str) -> list[int]:
    """PostgreSQL sessions holding the advisory lock `name` in this database."""
    classid, objid = locks.advisory_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s "
                       "AND objid = %s AND objsubid = 2 AND database = (SELECT oid FROM pg_database "
                       "WHERE datname = current_database())", [classid, objid & 0xFFFFFFFF])
        return [row[0] for row in cursor.fetchall()]


def kill(holder: subprocess.Popen, name: str) -> None:
    """SIGKILL the holder, then wait until PostgreSQL has noticed its session is gone (the
    kernel releases a file lock when the process exits; the database server needs a moment)."""
    backends = holder_backends(name) if connection.vendor == "postgresql" else []
    holder.kill()
    holder.wait(timeout=30)
    holder.stdout.close()
    holder.stdin.close()
    deadline = time.monotonic() + 30
    while backends and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first look again
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [backends])
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.1)


@pytest.mark.parametrize("name", ["compliance-refresh", "compliance-periods"])
def test_a_live_holder_excludes_and_a_killed_one_does_not(db, name):
    holder = hold_in_another_process(name)
    try:
        if connection.vendor == "postgresql":
            assert len(holder_backends(name)) == 1
        with locks.exclusive(name) as held:
            assert held is False
    finally:
        kill(holder, name)
    with locks.exclusive(name) as held:
        assert held is True
        with locks.exclusive(name) as again:  # one holder at a time, even in one process
            assert again is False
    with locks.exclusive(name) as held:  # released when the run ends
        assert held is True


def test_the_standings_refresh_skips_while_held_and_runs_after_the_holder_was_killed(db):
    holder = hold_in_another_process("compliance-refresh")
    try:
        tasks.refresh_changed_standings.call_local()
        assert Watermark.objects.count() == 0  # skipped: the refresh creates its marks first
    finally:
        kill(holder, "compliance-refresh")
    tasks.refresh_changed_standings.call_local()
    assert set(Watermark.objects.values_list("source", flat=True)) == {
        "credited_time", "completion", "correction", "quiz_attempt", "reflection_event", "exam_result"}


def test_the_hourly_refresh_and_the_judging_are_excluded_by_a_live_holder(db, caplog):
    refresh, periods = hold_in_another_process("compliance-refresh"), hold_in_another_process("compliance-periods")
    try:
        with caplog.at_level(logging.INFO, logger="learntrace.core.locks"):
            tasks.refresh_open_standings.call_local()
            tasks.judge_periods.call_local()
        assert [record.getMessage() for record in caplog.records] == [
            "refresh_open_standings skipped: another run holds the lock compliance-refresh",
            "judge_periods skipped: another run holds the lock compliance-periods",
        ]
    finally:
        kill(refresh, "compliance-refresh")
        kill(periods, "compliance-periods")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="learntrace.core.locks"):
        tasks.refresh_open_standings.call_local()
        tasks.judge_periods.call_local()
    assert caplog.records == []


@pytest.mark.django_db(transaction=True)
def test_an_export_whose_writer_was_killed_is_failed_and_a_live_one_is_not(org, client_for):
    job = ExportJob.objects.create(requested_by=org.admin.user, report="people", file_format="csv", query={},
                                   language="en", total_rows=10_000)
    writer = hold_in_another_process(str(job.pk), CLAIM_EXPORT)  # the worker, mid-way through writing
    try:
        job.refresh_from_db()
        assert job.status == ExportJob.Status.RUNNING
        assert reports.fail_abandoned_exports() == 0  # its writer lives
        assert reports.run_export(job_id=job.pk) is None  # and nobody else writes it
        job.refresh_from_db()
        assert job.status == ExportJob.Status.RUNNING
    finally:
        kill(writer, f"export-{job.pk}")
    assert reports.fail_abandoned_exports() == 1
    job.refresh_from_db()
    assert (job.status, job.error) == (ExportJob.Status.FAILED, "the worker stopped while writing")
    assert "The export failed" in client_for(org.admin).get(reverse("reports:export_job", args=[job.pk])).text
    assert reports.fail_abandoned_exports() == 0
