"""Memory of a web process: the resident set of a fresh process that has loaded learntrace as a web worker
does (Django set up, every URL and view imported), against a bare Django project in the same Python
(django.setup() with only contenttypes and auth). Each is measured in a new process; no database is touched."""

import os
import subprocess
import sys
import tempfile

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
