"""What the benchmarks share: a fresh PostgreSQL database, learntrace's commands run against it,
and the real web server (gunicorn) on a free local port."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time


def create_database(admin_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `admin_url`; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def fresh_database(admin_url: str, name: str):
    """A new database, migrated, dropped afterwards whatever happens."""
    url = create_database(admin_url, name)
    try:
        learntrace(url, "migrate", "-v0")
        yield url
    finally:
        drop_database(admin_url, name)


def environment(database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "bench.settings",
            "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "ERROR"}


def learntrace(database_url: str, *args: str) -> str:
    """Run a `learntrace` command against the database; returns what it printed."""
    return subprocess.run([sys.executable, "-m", "learntrace", *args], env=environment(database_url), check=True,
                          capture_output=True, text=True).stdout


def shell_json(database_url: str, script: str):
    """Run a Python script in `learntrace shell` and read the JSON it prints last."""
    return json.loads(learntrace(database_url, "shell", "-c", script).strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def web_server(database_url: str, workers: int):
    """gunicorn with `workers` processes serving learntrace (and the bench's baseline view); yields its port."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "bench.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "error"],
                              env=environment(database_url))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def in_shell(database_url: str, module: str, function: str, argument) -> dict:
    """`module.function(argument)` run in `learntrace shell` against the database; its JSON answer."""
    return shell_json(database_url, f"import json\nfrom {module} import {function}\n"
                                    f"print(json.dumps({function}({argument!r})))")


def generated_dataset(database_url: str, people: int, viewers: int) -> dict:
    """The synthetic organisation of bench/dataset.py, generated in the database; its counts and ids."""
    return shell_json(database_url, "import json\nfrom bench.dataset import generate\n"
                                    f"print(json.dumps(generate({people}, {viewers})))")


def learner_sessions_script(learners: int) -> str:
    """Lines for a `shell_json` script that has made department `root`: `learners` accounts b0, b1… in
    it, each signed in, their session keys left in `sessions` (the order of the accounts' ids)."""
    return f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from learntrace.org.models import Employee
User = get_user_model()
password = make_password(None)
User.objects.bulk_create([User(username=f"b{{i}}", password=password) for i in range({learners})])
users = list(User.objects.filter(username__startswith="b").order_by("id"))
Employee.objects.bulk_create([Employee(employee_no=f"B{{u.pk}}", name=u.username, department=root, user=u)
                              for u in users])
sessions = []
for user in users:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    sessions.append(session.session_key)
"""


def burst(admin_url: str, name: str, setup, drive, workers: int) -> dict:
    """A burst benchmark: a fresh database `name`, `setup(database_url)` -> data, the web server with
    `workers` processes, then `drive(database_url, port, data, workers)` -> its result."""
    with fresh_database(admin_url, name) as database_url:
        data = setup(database_url)
        with web_server(database_url, workers) as port:
            return drive(database_url, port, data, workers)


def report(result: dict, lines: list[str]) -> dict:
    """Print a benchmark's summary lines and keep them in its result."""
    print("\n".join(lines))
    result["lines"] = lines
    return result


def main(run) -> None:
    """`python -m bench.NAME`: one benchmark against BENCH_POSTGRES_URL, its result as JSON."""
    from bench.__main__ import POSTGRES

    json.dump(run(POSTGRES), sys.stdout, indent=2)
