"""What a web process holds: libraries only some requests need (PDFs, spreadsheets, QR codes, sign-in
protocols) are loaded by the request that needs them, not by every process at start: each is several
megabytes, held by every gunicorn process (BENCHMARKS.md, "Memory of a web process")."""

import os
import subprocess
import sys

LOADED_BY_A_NEW_PROCESS = """
import sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view module imported, as a web process does on its first request
import learntrace.wsgi  # noqa: F401
print(" ".join(sorted(name for name in {"reportlab", "xlsxwriter", "openpyxl", "segno", "PIL", "authlib", "joserfc",
                                         "cas", "lxml", "ldap"} if name in sys.modules)))
"""


def test_a_web_process_starts_without_the_libraries_of_rare_requests(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'memory.sqlite3'}"}
    run = subprocess.run([sys.executable, "-c", LOADED_BY_A_NEW_PROCESS], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
