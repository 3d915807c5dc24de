"""What the benchmarks share: a fresh PostgreSQL database, learntrace's commands run against it,
the real web server (gunicorn) on a free local port, and a CPU clock for in-process measurements."""

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on the server of `admin_url`."""
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def create_database(admin_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `admin_url`; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return database_url(admin_url, name)


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
    done = subprocess.run([sys.executable, "-m", "learntrace", *args], env=environment(database_url),
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"learntrace {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


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


# ---------------------------------------------------------------- CPU time, next to wall time
# On a machine shared with other work, wall-clock time includes the waits for a core; CPU time
# counts only what the request or task itself used: this process's, and that of the PostgreSQL
# backend serving its connection (on the same machine, so its /proc entry is readable).


def scheduler_seconds(pid: int) -> tuple[float, float]:
    """(CPU time used so far, time spent waiting for a core) of process `pid`, from the scheduler's
    nanosecond counts (/proc/PID/stat's utime + stime are the same CPU time in 10 ms ticks)."""
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as handle:
        on_cpu, waiting, _slices = handle.read().split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def database_pid() -> int:
    """The pid of the PostgreSQL backend of Django's connection."""
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.info.backend_pid


def measured(function, backend_pid: int | None = None) -> dict:
    """Run `function` once; seconds of: wall time, this process's CPU, its database backend's CPU, and
    both processes' waits for a core (what a busy machine adds). Wall minus all three is the time
    spent blocked: reading disk, waiting for a lock, or for the other process. The backend is Django's
    connection's, or `backend_pid`'s (a connection of its own)."""
    pid, own = backend_pid or database_pid(), os.getpid()
    wall, cpu, (db_cpu, db_waited), (_cpu, waited) = (time.perf_counter(), time.process_time(),
                                                        scheduler_seconds(pid), scheduler_seconds(own))
    function()
    after_db, after_own = scheduler_seconds(pid), scheduler_seconds(own)
    result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "db_cpu": after_db[0] - db_cpu,
              "waited": after_db[1] - db_waited + after_own[1] - waited}
    if backend_pid is None and database_pid() != pid:  # the backend read is not the one that did the work
        raise RuntimeError("the database connection was replaced during a measurement")
    return result


def summary(runs: list[dict]) -> dict:
    """Medians of runs of `measured`, in ms: wall, CPU (Python + database), the database's part, the
    waits for a core, and the time blocked otherwise."""
    def median_ms(value):
        return statistics.median(value(run) for run in runs) * 1000

    return {"median_ms": median_ms(lambda r: r["wall"]), "best_ms": min(r["wall"] for r in runs) * 1000,
            "cpu_ms": median_ms(lambda r: r["cpu"] + r["db_cpu"]), "db_cpu_ms": median_ms(lambda r: r["db_cpu"]),
            "waited_ms": median_ms(lambda r: r["waited"]),
            "blocked_ms": median_ms(lambda r: r["wall"] - r["cpu"] - r["db_cpu"] - r["waited"]), "runs": len(runs)}


def timed(function, repeat: int = 7, warm_up: bool = True, before=None) -> dict:
    """`summary` of `repeat` runs (after one unmeasured run). `before`, if given, is run unmeasured
    before each run (what the run then works on)."""
    runs = []
    for n in range(repeat + warm_up):
        if before is not None:
            before()
        if n or not warm_up:
            runs.append(measured(function))
        else:
            function()
    return summary(runs)


def figure(measurement: dict) -> str:
    """'12.3 ms (CPU 10.1 ms)'."""
    return f"{measurement['median_ms']:.1f} ms (CPU {measurement['cpu_ms']:.1f} ms)"


def ratios(measured_: dict, baseline: dict) -> str:
    """'1.23× wall, 1.05× CPU'."""
    return (f"{measured_['median_ms'] / baseline['median_ms']:.2f}× wall, "
            f"{measured_['cpu_ms'] / baseline['cpu_ms']:.2f}× CPU")
