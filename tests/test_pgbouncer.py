"""Pages through PgBouncer in transaction mode, the jobs' locks on the server itself
(DATABASE_DIRECT_URL): a real PgBouncer in front of the test database (PostgreSQL only)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from learntrace.core import locks
from test_worker import database_url

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def pgbouncer():
    if connection.vendor != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections")
    if not Path(PGBOUNCER).exists():
        pytest.fail("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o777)  # run as root, PgBouncer drops to the postgres user
    db = connection.settings_dict
    port = free_port()
    (folder / "users.txt").write_text(f'"{db.get("USER") or "postgres"}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
* = host={db.get("HOST") or "127.0.0.1"} port={db.get("PORT") or 5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    for path in folder.iterdir():
        path.chmod(0o666)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    url = database_url().replace(f":{db.get('PORT') or 5432}/", f":{port}/")
    yield url
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


TAKE_AND_LEAVE = """
from learntrace.core import locks
from learntrace.org.models import Department
with locks.exclusive("nightly-report") as held:
    print("held" if held else "busy")
print(len(list(Department.objects.iterator(chunk_size=1))))
"""

SHELL = [sys.executable, "-m", "learntrace", "shell", "--no-imports", "-c", TAKE_AND_LEAVE]


@pytest.mark.django_db(transaction=True)
def test_through_pgbouncer_a_jobs_lock_ends_with_its_process(pgbouncer, org, tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATA_DIR": str(tmp_path),
           "HUEY_IMMEDIATE": "1", "DATABASE_URL": pgbouncer, "DATABASE_DIRECT_URL": database_url()}
    run = subprocess.run(SHELL, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    # The lock was taken, the rows were read through the pooler (cursors on the client), and the lock is
    # free again: a pooled session would have kept it on a server connection for ever.
    assert run.stdout.split() == ["held", "5"]
    with locks.exclusive("nightly-report") as held:
        assert held
        run = subprocess.run(SHELL, env=env, capture_output=True, text=True, timeout=120)
        assert run.stdout.split() == ["busy", "5"], run.stderr
