"""A database outage: nothing touches the database at start-up, pages and the API answer 503
while it is away, and the same processes serve again when it returns."""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from learntrace.api import tokens
from learntrace.core.models import WorkerHeartbeat
from learntrace.evidence import keys, services
from learntrace.evidence.bundle import make_bundle
from learntrace.records.services import record_credited_time
from tcp_proxy import TcpProxy
from test_worker import database_url

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def nowhere_url() -> str:
    return f"postgresql://postgres@127.0.0.1:{closed_port()}/learntrace"


def fetch(url: str, headers: dict) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def wait_for(url: str, headers: dict, status: int, seconds: float = 60) -> tuple[int, dict, str]:
    """The answer once it is `status`, or the last answer when the wait runs out."""
    answer = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            answer = fetch(url, headers)
        except OSError:
            answer = None
        if answer is not None and answer[0] == status:
            return answer
        time.sleep(0.3)
    return answer


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def command_of(pid: int) -> str:
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_verify_bundle_runs_without_a_database(org, catalog, tmp_path):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=T0)
    services.seal_pending()
    bundle = make_bundle(org.learner, start=T0 - dt.timedelta(days=1), end=T0 + dt.timedelta(days=1))
    path, key = tmp_path / "bundle.json", tmp_path / "key.pem"
    path.write_text(json.dumps(bundle))
    key.write_bytes(keys.public_pem())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": nowhere_url(),
           "DATA_DIR": str(tmp_path), "HUEY_IMMEDIATE": "0"}
    run = subprocess.run([sys.executable, "-m", "learntrace", "verify_bundle", str(path), "--public-key", str(key)],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_commands_start_without_a_database(tmp_path):
    """Django and the task queue load (here: `learntrace check`) while PostgreSQL is unreachable."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": nowhere_url(),
           "DATA_DIR": str(tmp_path), "HUEY_IMMEDIATE": "0"}
    run = subprocess.run([sys.executable, "-m", "learntrace", "check"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues" in run.stdout


@pytest.mark.django_db(transaction=True)
def test_serve_started_during_an_outage_answers_503_and_serves_when_the_database_returns(org, tmp_path, new_page):
    if connection.vendor != "postgresql":
        pytest.skip("an outage of a database server: PostgreSQL only (SQLite is a local file)")
    browser = Client()
    browser.force_login(org.learner.user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    _, secret = tokens.create_token(actor=None, user=org.admin.user, name="outage", scopes=["org:read"],
                                    expires_days=1)
    db = connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))  # not started: the database is away
    url = database_url().replace(f":{db.get('PORT') or 5432}/", f":{proxy.port}/")
    port = closed_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": url,
           "DATA_DIR": str(tmp_path), "HUEY_IMMEDIATE": "0", "SECRET_KEY": settings.SECRET_KEY,
           "WEB_CONCURRENCY": "2", "WORKERS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "learntrace", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    home, api = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/api/v1/departments"
    page_headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; django_language=en"}
    api_headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "zh-hans"}
    try:
        status, headers, body = wait_for(home, page_headers, 503)
        assert status == 503
        assert "Temporarily unavailable" in body and "The database cannot be reached" in body
        assert headers["Retry-After"] == "30"
        status, _, body = fetch(home, {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
        assert status == 503 and "暂时无法使用" in body  # the deployment's language, Chinese
        status, headers, body = fetch(api, api_headers)
        assert status == 503 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "unavailable"
        assert "数据库" in json.loads(body)["error"]["message"]

        # A web worker replaced during the outage (an OOM kill) boots, and serve keeps running.
        gunicorn = next(pid for pid in children_of(server.pid) if "gunicorn" in command_of(pid))
        web_workers = children_of(gunicorn)
        assert len(web_workers) == 2
        for worker in web_workers:
            os.kill(worker, signal.SIGKILL)
        assert wait_for(home, page_headers, 503)[0] == 503
        assert server.poll() is None
        assert set(children_of(gunicorn)).isdisjoint(web_workers)

        page = new_page()  # what a person sees
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": home},
                                  {"name": "django_language", "value": "zh-hans", "url": home}])
        assert page.goto(home).status == 503
        assert page.locator("h1").inner_text() == "暂时无法使用"
        assert page.locator("p").first.inner_text() == "暂时无法连接数据库,请约一分钟后再试。"

        proxy.start()  # the database is back
        status, _, body = wait_for(home, page_headers, 200)
        assert status == 200 and org.learner.name in body
        page.get_by_role("link", name="重试").click()
        page.wait_for_load_state()
        assert org.learner.name in page.content()
        status, _, body = wait_for(api, api_headers, 200)
        assert status == 200 and "HOSP" in body
        assert server.poll() is None
        # The background worker, started during the outage too, runs what is queued now.
        subprocess.run([sys.executable, "-m", "learntrace", "shell", "-c",
                        "from learntrace.core.tasks import worker_ping; worker_ping()"],
                       env=env, check=True, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
            time.sleep(0.3)
        assert WorkerHeartbeat.objects.filter(name="worker").exists()

        proxy.stop()  # and away again, with the server's connections open: 503, not 500
        assert wait_for(home, page_headers, 503)[0] == 503
        proxy.start()
        assert wait_for(home, page_headers, 200)[0] == 200
        assert server.poll() is None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        proxy.stop()


def test_a_database_host_that_swallows_packets_gets_503_not_a_hung_worker(tmp_path):
    """A host that is down may drop packets instead of refusing: a listening socket that never
    answers. Connecting gives up after DATABASE_CONNECT_TIMEOUT and the page answers 503."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes the handshake; nobody ever answers
    port = closed_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/learntrace",
           "DATABASE_CONNECT_TIMEOUT": "2", "HUEY_IMMEDIATE": "0"}
    server = subprocess.Popen([sys.executable, "-m", "learntrace", "serve", "--no-worker", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        status, _, body = wait_for(f"http://127.0.0.1:{port}/", {"Cookie": "sessionid=anything"}, 503)
        assert status == 503 and "暂时无法连接数据库" in body
        status, _, body = fetch(f"http://127.0.0.1:{port}/api/v1/departments",
                                {"Authorization": "Bearer lt_0123abcd_anything", "Accept-Language": "en"})
        assert status == 503 and json.loads(body)["error"]["code"] == "unavailable"
        assert server.poll() is None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        silent.close()


@pytest.mark.parametrize("storage", ["redis", "postgresql"])
def test_a_task_queue_that_cannot_be_reached_answers_503(org, storage, monkeypatch):
    """The queue's own storage is unreachable (a Redis or a task database that is down) while the
    database is up: the page that enqueues answers 503, in the person's language."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    from learntrace.core.queue import LazySchemaPostgresStorage

    if storage == "redis":
        unreachable = RedisStorage(name="learntrace", url=f"redis://127.0.0.1:{closed_port()}/0")
    else:
        unreachable = LazySchemaPostgresStorage(name="learntrace", dsn=nowhere_url(), connect_timeout=5)
    monkeypatch.setattr(HUEY, "_immediate", False)
    monkeypatch.setattr(HUEY, "storage", unreachable)
    client = Client(raise_request_exception=False)
    client.force_login(org.admin.user)
    client.cookies["django_language"] = "en"
    response = client.post("/system/ping/")
    assert response.status_code == 503
    assert "The database cannot be reached" in response.text
