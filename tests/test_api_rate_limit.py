"""The API's rate limit: one count per token and minute in the database, shared by every
process and host, counted atomically, old windows pruned."""

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import time_machine
from django.conf import settings

from learntrace.api import tokens
from learntrace.api.models import RateWindow
from test_demo_and_serve import free_port
from test_worker import database_url

T0 = dt.datetime(2026, 3, 10, 9, 0, 5, tzinfo=dt.UTC)


def make_token(employee) -> tuple:
    return tokens.create_token(actor=None, user=employee.user, name="kiosk", scopes=["catalog:read"],
                               expires_days=30)


def test_each_request_counts_once_in_its_minute_and_old_windows_are_dropped(org, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    row, _secret = make_token(org.admin)
    other, _ = make_token(org.admin)
    minute = int(T0.timestamp() // 60)
    answers = [tokens.within_rate_limit(row, T0 + dt.timedelta(seconds=s)) for s in range(5)]
    assert answers == [(True, 55), (True, 54), (True, 53), (False, 52), (False, 51)]
    assert tokens.within_rate_limit(other, T0) == (True, 55)  # its own count
    assert tokens.within_rate_limit(row, T0 + dt.timedelta(minutes=1)) == (True, 55)
    assert sorted(RateWindow.objects.values_list("token", "minute", "requests")) == [
        (row.pk, minute, 5), (row.pk, minute + 1, 1), (other.pk, minute, 1)]
    # Windows before the last minute are dropped.
    assert tokens.forget_old_windows(T0 + dt.timedelta(minutes=2)) == 2
    assert list(RateWindow.objects.values_list("minute", flat=True)) == [minute + 1]


def test_a_periodic_task_prunes_old_windows(org):
    from huey.contrib.djhuey import HUEY

    from learntrace.api.tasks import forget_old_rate_windows

    assert "forget_old_rate_windows" in {task.name for task in HUEY.read_periodic(
        dt.datetime(2026, 1, 1, 9, 20, tzinfo=dt.UTC))}
    row, _secret = make_token(org.admin)
    with time_machine.travel(T0, tick=False):
        tokens.within_rate_limit(row)
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        tokens.within_rate_limit(row)
        forget_old_rate_windows.call_local()
        assert RateWindow.objects.count() == 2  # this minute and the last one
    with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
        forget_old_rate_windows.call_local()
    assert not RateWindow.objects.exists()


def serve(env: dict, data_dir) -> tuple[subprocess.Popen, str]:
    """One web host: gunicorn with two processes and its own data folder (its own local cache)."""
    port = free_port()
    data_dir.mkdir()
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (the server writes it while it runs)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "learntrace.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4"], env={**env, "DATA_DIR": str(data_dir)},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(base: str, data_dir) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/accounts/login/", timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{base} did not start: {(data_dir / 'server.log').read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_to_several_hosts_are_served_exactly_up_to_the_limit(org, tmp_path):
    """Two web hosts of two processes each, one token, requests from many threads at once: the
    hosts share one count, so exactly the limit is served in a minute and the rest refused."""
    limit, total = 40, 120
    _row, secret = make_token(org.admin)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url(),
           "API_RATE_LIMIT_PER_MINUTE": str(limit), "HUEY_IMMEDIATE": "0",
           # Every host of one installation has its keys (docs/deployment.md); its own folder is its own cache.
           "SECRET_KEY": settings.SECRET_KEY, "FIELD_ENCRYPTION_KEY": ",".join(settings.FIELD_ENCRYPTION_KEYS),
           "EVIDENCE_SIGNING_KEY_FILE": str(settings.EVIDENCE_SIGNING_KEY_FILE)}
    # One boot first: the task queue creates its tables on PostgreSQL when it is first loaded.
    subprocess.run([sys.executable, "-m", "learntrace", "check"], env={**env, "DATA_DIR": str(tmp_path)},
                   check=True, capture_output=True, timeout=120)
    hosts = [serve(env, tmp_path / name) for name in ("host-a", "host-b")]
    try:
        for (_process, base), name in zip(hosts, ("host-a", "host-b"), strict=True):
            wait_until_up(base, tmp_path / name)
        if time.time() % 60 > 40:  # start the burst in a fresh minute, so it most likely fits in one
            time.sleep(61 - time.time() % 60)

        def call(index: int) -> int:
            base = hosts[index % 2][1]
            return httpx.get(f"{base}/api/v1/categories", headers={"Authorization": f"Bearer {secret}"},
                             timeout=60).status_code

        with ThreadPoolExecutor(max_workers=24) as pool:
            statuses = Counter(pool.map(call, range(total)))
    except httpx.HTTPError as exc:
        logs = "\n".join((tmp_path / name / "server.log").read_text()[-6000:] for name in ("host-a", "host-b"))
        pytest.fail(f"{exc!r}; the servers said:\n{logs}")
    finally:
        for process, _base in hosts:
            process.terminate()
        for process, _base in hosts:
            process.wait(timeout=30)
    windows = list(RateWindow.objects.values_list("requests", flat=True))
    assert sum(windows) == total
    # Per minute, exactly the limit (or every request, when fewer came) was served.
    served = sum(min(requests, limit) for requests in windows)
    assert statuses == Counter({200: served, 429: total - served})
    if len(windows) == 1:
        assert statuses == Counter({200: limit, 429: total - limit})
