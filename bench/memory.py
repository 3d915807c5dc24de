"""Memory of a web process: the resident set of a fresh process that has loaded learntrace as a web worker
does (Django set up, every URL and view imported), against a bare Django project in the same Python
(django.setup() with only contenttypes and auth). Each is measured in a new process; no database is touched.
`worker`: the background worker's, idle and while sealing, on PostgreSQL."""

import os
import subprocess
import sys
import tempfile
import time

from bench.common import environment, fresh_database, learntrace, shell_json

RSS = "int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024"

LEARNTRACE = f"""
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns
print({RSS})
"""

BARE = f"""
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
                   DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}})
django.setup()
print({RSS})
"""


def _megabytes(code: str, env: dict) -> float:
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(run.stdout.split()[-1])


def run(rows: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": data}
        learntrace = min(_megabytes(LEARNTRACE, env) for _ in range(3))
        bare = min(_megabytes(BARE, {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"})
                   for _ in range(3))
    print(f"web process after loading every view: {learntrace:.0f} MB; bare Django: {bare:.0f} MB; "
          f"ratio {learntrace / bare:.2f}×")
    return {"learntrace_mb": learntrace, "bare_django_mb": bare, "ratio": learntrace / bare}


# The worker: a new process set up as `learntrace run_huey` sets itself up (Django, then every app's tasks
# module), its resident set idle, then the peak while it seals the facts a day of beats leaves queued.
FACTS_SCRIPT = r"""
from django.utils import timezone
from bench.beat_rows import copy_beats
from django.db import connection
from learntrace.catalog.models import Category, Course
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
employees = [Employee.objects.create(employee_no=f"B{{i}}", name="b", department=root).pk for i in range(200)]
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=3600)
for first in range(1, {n} + 1, 50000):
    copy_beats(connection, "records_creditedtime", first, min(first + 49999, {n}), compact=True,
               employees=employees, course_id=course.pk, category_id=category.pk, started=timezone.now())
print("{{}}")
"""

SEAL_SCRIPT = f"""
import json
from django.utils.module_loading import autodiscover_modules
status = lambda key: int(open('/proc/self/status').read().split(key + ':')[1].split()[0]) / 1024
autodiscover_modules("tasks")
from huey.contrib.djhuey import HUEY
idle = {RSS}
from learntrace.evidence import services
made = services.seal_pending()
print(json.dumps({{"idle_mb": idle, "peak_mb": status("VmHWM"), "after_mb": status("VmRSS"),
                  "facts": sum(seal.fact_count for seal in made), "seals": len(made)}}))
"""


def worker(admin_url: str) -> dict:
    facts = int(os.environ.get("BENCH_FACTS", "200000"))
    with fresh_database(admin_url, os.environ.get("BENCH_DATABASE", "bench_worker_memory")) as database_url:
        learntrace(database_url, "shell", "--no-imports", "-c", FACTS_SCRIPT.format(n=facts))
        sealing = shell_json(database_url, SEAL_SCRIPT)
        # The real consumer, idle (nothing left to seal), with its threads and scheduler running.
        consumer = subprocess.Popen([sys.executable, "-m", "learntrace", "run_huey"],
                                    env={**environment(database_url), "HUEY_IMMEDIATE": "0"},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(20)
            consumer_mb = int(open(f"/proc/{consumer.pid}/status").read().split("VmRSS:")[1].split()[0]) / 1024
        finally:
            consumer.terminate()
            consumer.wait(timeout=30)
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DATA_DIR": data}
        bare = min(_megabytes(BARE, env) for _ in range(3))
    print(f"worker: set up with every tasks module {sealing['idle_mb']:.0f} MB; `run_huey` idle {consumer_mb:.0f} MB; "
          f"peak while sealing {sealing['facts']} facts in {sealing['seals']} seals {sealing['peak_mb']:.0f} MB "
          f"(after: {sealing['after_mb']:.0f} MB); bare Django {bare:.0f} MB: ratios "
          f"{consumer_mb / bare:.2f}× idle, {sealing['peak_mb'] / bare:.2f}× sealing")
    return {**sealing, "consumer_mb": consumer_mb, "bare_django_mb": bare}
