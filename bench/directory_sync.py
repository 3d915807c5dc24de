"""Directory sync of N people (default 100 000) from a local DingTalk-like server, against the file
import of the same people, measured in the same run.

Both start from a fresh database holding the same 200 departments and end with the same N employees
and accounts; both run the dry run and then the all-or-nothing import. The sync also reads every
person from the server (DingTalk's pages of 100, one HTTP call each) and writes its snapshot. Each
step runs in its own process, so that its peak memory (max RSS) is its own; the server runs in the
driver's process.
"""

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.dingtalk_server import APP_KEY, APP_SECRET, ROOT, Organisation, serve

DEPARTMENTS = 200
COLUMNS = ["employee_no", "name", "department_code", "position", "email", "mobile", "dingtalk_user_id", "active"]


def organisation(count: int) -> dict:
    departments = [{"id": ROOT, "name": "集团", "parent": ""}]
    departments += [{"id": f"D{i:03d}", "name": f"部门{i}", "parent": ROOT} for i in range(DEPARTMENTS)]
    people = [{"userid": f"ding{i:07d}", "name": f"员工{i}", "department": f"D{i % DEPARTMENTS:03d}",
               "job_number": f"B{i:07d}", "title": "经理" if i % 10 == 0 else "职员",
               "mobile": f"139{i:08d}", "email": f"b{i:07d}@example.com"} for i in range(count)]
    return {"departments": departments, "people": people}


def write_csv(data: dict, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for p in data["people"]:
            writer.writerow([p["job_number"], p["name"], p["department"], p["title"], p["email"], p["mobile"],
                             p["userid"], "1"])


# ---------------------------------------------------------------- one step, in its own process


def step(mode: str, argument: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from learntrace.org.models import Department, Employee
    from learntrace.org.services import department_path

    root = Department.objects.create(code=ROOT, name="集团")
    root.path = department_path(None, root.pk)
    root.save()
    for i in range(DEPARTMENTS):
        department = Department.objects.create(code=f"D{i:03d}", name=f"部门{i}", parent=root)
        department.path = department_path(root, department.pk)
        department.save()

    started = time.perf_counter()
    if mode == "file":
        from learntrace.org.importing import OrgImport

        run = OrgImport(Path(argument), "people.csv")
        assert run.dry_run().ok
        result = run.apply(actor=None)
        assert result.ok
    else:
        from learntrace.directory.services import sync_begin, sync_run
        from learntrace.org.models import ImportBatch

        batch = sync_run(sync_begin(source="dingtalk"), apply=True)
        assert batch.status == ImportBatch.Status.APPLIED, batch.errors[:3]
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "rows": Employee.objects.count()}))


# ---------------------------------------------------------------- the driver


def _run_step(mode: str, argument: str, folder: Path, server_url: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "LOG_LEVEL": "WARNING",
           "DATABASE_URL": f"sqlite:///{folder / (mode + '.sqlite3')}", "DATA_DIR": str(folder / mode),
           "DINGTALK_APP_KEY": APP_KEY, "DINGTALK_APP_SECRET": APP_SECRET, "DINGTALK_OAPI_URL": server_url,
           "DIRECTORY_DEPARTMENT_PREFIX": "", "HUEY_IMMEDIATE": "1"}
    completed = subprocess.run([sys.executable, "-m", "bench.directory_sync", mode, argument], env=env,
                               capture_output=True, text=True, check=False)
    if completed.returncode:
        raise RuntimeError(completed.stderr[-3000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(rows: int = 100_000) -> dict:
    with tempfile.TemporaryDirectory(prefix="learntrace-bench-") as tmp:
        folder = Path(tmp)
        data = organisation(rows)
        write_csv(data, folder / "people.csv")
        server = serve(Organisation(data=data))
        url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            file_import = _run_step("file", str(folder / "people.csv"), folder, url)
            sync = _run_step("sync", "", folder, url)
        finally:
            server.shutdown()
    assert file_import["rows"] == sync["rows"] == rows
    print(f"directory sync, {rows} people, SQLite: sync from a local DingTalk-like server {sync['seconds']:.1f} s, "
          f"peak {sync['peak_rss_mb']:.0f} MB | file import of the same people (CSV) {file_import['seconds']:.1f} s, "
          f"peak {file_import['peak_rss_mb']:.0f} MB | time ratio {sync['seconds'] / file_import['seconds']:.2f}x, "
          f"memory ratio {sync['peak_rss_mb'] / file_import['peak_rss_mb']:.2f}x")
    return {"sync": sync, "file_import": file_import}


if __name__ == "__main__":
    step(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
