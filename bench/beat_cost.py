"""What one beat costs the web process, in CPU instructions counted by valgrind's callgrind:
the API endpoint the player posts to, the page endpoint, and the bare upsert+insert view.

Instructions, unlike seconds, do not change with what else the machine is doing, so the ratios
hold on a busy machine. The requests go through Django's whole stack in one process (the test
client, CSRF not enforced for either endpoint) against PostgreSQL; the server's own work
(gunicorn, sockets) is the same for all three and is left out. Each endpoint is measured twice,
interleaved, after a warm-up."""

import glob
import os
import subprocess
import sys
import tempfile

from bench.common import environment, fresh_database

BEATS = 40  # measured per round, after 20 of warm-up
ENDPOINTS = (("page", "/tracking/beat/"), ("api", "/api/v1/tracking/beat"), ("bare", "/bench/bare-beat/"))

SCRIPT = """
import datetime as dt, json, os, subprocess
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from learntrace.catalog.models import Category, Course
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.tracking.services import start_attempt

with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS bench_counter (attempt text PRIMARY KEY, beats integer NOT NULL)")
    c.execute("CREATE TABLE IF NOT EXISTS bench_beat (id bigserial PRIMARY KEY, attempt text, seq integer, body text)")
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
course = Course.objects.create(title="bench", kind="video", category=Category.objects.create(code="b", name="b"),
                               duration_seconds=8 * 3600, is_published=True)
user = get_user_model().objects.create_user(username="bench")
employee = Employee.objects.create(employee_no="BENCH", name="b", department=root, user=user)
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
started = timezone.now() - dt.timedelta(hours=3)

def callgrind(*args):
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)

for round in (1, 2):
    for label, path in {endpoints!r}:
        attempt = start_attempt(employee=employee, course=course, now=started)
        for seq in range(20 + {beats}):
            if seq == 20:
                callgrind("--instr=on"); callgrind("--zero")
            beat = {{"seq": seq, "segments": [[seq * 15, seq * 15 + 15]], "rate": 1, "hidden": False,
                    "elapsed_ms": (seq + 1) * 15000}}
            response = client.post(path, {{"attempt": str(attempt.pk), "beat": json.dumps(beat)}})
            assert response.status_code == 200, (label, response.status_code)
        callgrind("--dump=" + label); callgrind("--instr=off")
"""


def instructions(dump: str) -> tuple[str, int]:
    label = total = None
    with open(dump, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("desc: Trigger: dump "):  # the label given to --dump
                label = line.rsplit(" ", 1)[1].strip()
            elif line.startswith("totals:"):
                total = int(line.split()[1])
    if label is None or total is None:
        raise RuntimeError(f"not a callgrind dump of a round: {dump}")
    return label, total


def run(admin_url: str, database: str = "bench_beat_cost") -> dict:
    with fresh_database(admin_url, database) as database_url, tempfile.TemporaryDirectory() as folder:
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={folder}/callgrind.%p", sys.executable, "-m", "learntrace", "shell",
                        "-c", SCRIPT.format(endpoints=ENDPOINTS, beats=BEATS)],
                       env=environment(database_url), check=True, capture_output=True, text=True)
        rounds: dict[str, list[int]] = {}
        for dump in sorted(glob.glob(os.path.join(folder, "callgrind.*.*")), key=os.path.getmtime):
            label, total = instructions(dump)
            rounds.setdefault(label, []).append(total // BEATS)
    per_beat = {label: min(values) for label, values in rounds.items()}
    for label, values in rounds.items():
        print(f"beat cost {label:>5}: {per_beat[label] / 1e6:.2f} M instructions a beat "
              f"(rounds: {', '.join(f'{v / 1e6:.2f}' for v in values)})")
    results = {"instructions_per_beat": per_beat,
               "api_over_page": per_beat["api"] / per_beat["page"],
               "page_over_bare": per_beat["page"] / per_beat["bare"],
               "api_over_bare": per_beat["api"] / per_beat["bare"]}
    print(f"beat cost ratio API / page: {results['api_over_page']:.3f}; page / bare: "
          f"{results['page_over_bare']:.2f}; API / bare: {results['api_over_bare']:.2f}")
    return results
