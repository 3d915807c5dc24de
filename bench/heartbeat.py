"""Heartbeat ingestion on PostgreSQL through the real web server (gunicorn, several workers).

Baseline, same run, same server: a bare Django view behind the same middleware and
login that does one upsert and one insert. Two measurements for each endpoint:
throughput with 16 concurrent clients, and latency at a fixed 300 beats/s (measured
from the moment each beat was due, so queueing counts)."""

import http.client
import json
import statistics
import threading
import time

from bench.common import fresh_database, shell_json, web_server

USERS = 200
DURATION = 15
RATE = 300
CONCURRENCY = 16
CSRF = "b" * 32


def setup(database_url: str) -> list[tuple[str, str]]:
    """200 learners with sessions, and one open attempt each. Returns (session, attempt) pairs."""
    script = f"""
import datetime as dt, json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone
from learntrace.catalog.models import Category, Course
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.tracking.services import start_attempt
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS bench_counter (attempt text PRIMARY KEY, beats integer NOT NULL)")
    c.execute("CREATE TABLE IF NOT EXISTS bench_beat (id bigserial PRIMARY KEY, attempt text, seq integer, body text)")
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=8 * 3600,
                               is_published=True)
pairs = []
started = timezone.now() - dt.timedelta(hours=2)
for i in range({USERS}):
    user = get_user_model().objects.create_user(username=f"bench{{i}}")
    employee = Employee.objects.create(employee_no=f"BENCH{{i}}", name=f"b{{i}}", department=root, user=user)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    pairs.append((session.session_key, str(start_attempt(employee=employee, course=course, now=started).pk)))
print(json.dumps(pairs))
"""
    return shell_json(database_url, script)


class Client:
    def __init__(self, port: int, path: str, pairs, seq=None):
        self.port, self.path, self.pairs = port, path, pairs
        # Going on from another client's numbers: every beat is new, and credits 15 new seconds.
        self.seq = list(seq) if seq is not None else [0] * len(pairs)
        self.lock = threading.Lock()
        self.turn = 0

    def next_request(self):
        with self.lock:
            index = self.turn % len(self.pairs)
            self.turn += 1
            seq = self.seq[index]
            self.seq[index] += 1
        session, attempt = self.pairs[index]
        beat = {"seq": seq, "segments": [[seq * 15, seq * 15 + 15]], "rate": 1, "hidden": False,
                "elapsed_ms": (seq + 1) * 15000}
        body = f"csrfmiddlewaretoken={CSRF}&attempt={attempt}&beat={json.dumps(beat)}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1",
                   "Cookie": f"sessionid={session}; csrftoken={CSRF}"}
        return body.encode(), headers

    def send(self, connection_holder) -> float:
        body, headers = self.next_request()
        started = time.perf_counter()
        for _attempt in range(3):
            try:
                if connection_holder[0] is None:
                    connection_holder[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection_holder[0].request("POST", self.path, body, headers)
                response = connection_holder[0].getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{self.path} answered {response.status}")
                if response.getheader("Connection", "").lower() == "close":
                    connection_holder[0].close()
                    connection_holder[0] = None
                return time.perf_counter() - started
            except (TimeoutError, ConnectionError, http.client.HTTPException):
                connection_holder[0] = None
        raise RuntimeError("connection kept failing")


def throughput(client: Client) -> float:
    stop = time.perf_counter() + DURATION
    counts = [0] * CONCURRENCY

    def worker(n):
        holder = [None]
        while time.perf_counter() < stop:
            client.send(holder)
            counts[n] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONCURRENCY)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - begin)


def latency_at_rate(client: Client) -> dict:
    total = RATE * DURATION
    begin = time.perf_counter() + 0.2
    latencies, lock, next_index = [], threading.Lock(), [0]

    def worker():
        holder = [None]
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            due = begin + index / RATE
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.send(holder)
            with lock:
                latencies.append(time.perf_counter() - due)

    threads = [threading.Thread(target=worker) for _ in range(48)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    achieved = total / (time.perf_counter() - begin)
    return {"p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
            "achieved_per_s": achieved}


def run(admin_url: str, workers: int = 4, database: str = "bench_heartbeat") -> dict:
    with fresh_database(admin_url, database) as database_url:
        pairs = setup(database_url)
        with web_server(database_url, workers) as port:
            results, seq = {}, None
            for label, path in (("bare", "/bench/bare-beat/"), ("learntrace", "/tracking/beat/"),
                                ("api", "/api/v1/tracking/beat")):
                client = Client(port, path, pairs, seq if label == "api" else None)
                for _ in range(200):  # warm up connections and caches
                    client.send([None])
                results[label] = {"throughput_per_s": throughput(client), **latency_at_rate(client)}
                seq = client.seq
    ratio = results["learntrace"]["throughput_per_s"] / results["bare"]["throughput_per_s"]
    for label in ("learntrace", "api", "bare"):
        r = results[label]
        print(f"heartbeat {label:>10}: {r['throughput_per_s']:.0f} beats/s with {CONCURRENCY} clients; "
              f"at {RATE}/s: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
              f"(achieved {r['achieved_per_s']:.0f}/s)")
    print(f"heartbeat ratio learntrace / bare view: {ratio:.2f} ({workers} gunicorn workers, PostgreSQL)")
    api_ratio = results["api"]["throughput_per_s"] / results["bare"]["throughput_per_s"]
    print(f"heartbeat ratio API endpoint / bare view: {api_ratio:.2f}; API / view: "
          f"{results['api']['throughput_per_s'] / results['learntrace']['throughput_per_s']:.2f}")
    results["ratio"], results["api_ratio"] = ratio, api_ratio
    return results
