"""Organisation import of N employees (default 100 000) from CSV and XLSX.

Baseline, measured in the same run: reading the same file and bulk-inserting the
same rows with no checks, no accounts and no change detection: the cost of the
storage itself. Every step runs in its own process on a fresh database, so that
its peak memory (max RSS) is its own.
"""

import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import create_database, drop_database

DEPARTMENTS = 200
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
HEADER = ["employee_no", "name", "department_code", "position", "level", "tags", "email", "mobile",
          "hire_date", "active", "national_id"]


def national_id(rng) -> str:
    body = f"110105{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def rows(count: int):
    rng = random.Random(7)
    for i in range(count):
        number = f"B{i:07d}"
        yield [number, f"员工{i}", f"D{i % DEPARTMENTS:03d}", "经理" if i % 10 == 0 else "职员",
               "manager" if i % 10 == 0 else "staff", "新任经理" if i % 7 == 0 else "",
               f"{number.lower()}@example.com", f"139{i:08d}", "2020-01-15", "1", national_id(rng)]


def write_files(folder: Path, count: int) -> dict:
    from openpyxl import Workbook

    csv_path = folder / "people.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows(count))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("employees")
    sheet.append(HEADER)
    for row in rows(count):
        sheet.append(row)
    xlsx_path = folder / "people.xlsx"
    workbook.save(xlsx_path)
    return {"csv": csv_path, "xlsx": xlsx_path}


# ---------------------------------------------------------------- one step, in its own process


def step(mode: str, path: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from learntrace.org.models import Department, Employee
    from learntrace.org.services import department_path

    root = Department.objects.create(code="ROOT", name="root")
    root.path = department_path(None, root.pk)
    root.save()
    for i in range(DEPARTMENTS):
        department = Department.objects.create(code=f"D{i:03d}", name=f"部门{i}", parent=root)
        department.path = department_path(root, department.pk)
        department.save()

    started = time.perf_counter()
    if mode == "baseline":
        from learntrace.org.importing import read_tables

        ids = dict(Department.objects.values_list("code", "id"))
        table = read_tables(Path(path), Path(path).name)[0]
        batch = []
        for _row_number, row in table.open_rows():
            batch.append(Employee(employee_no=row["employee_no"], name=row["name"],
                                  department_id=ids[row["department_code"]], position=row["position"]))
            if len(batch) == 1000:
                Employee.objects.bulk_create(batch)
                batch = []
        Employee.objects.bulk_create(batch)
        seconds = {"total": time.perf_counter() - started}
    else:
        from learntrace.org.importing import OrgImport

        run = OrgImport(Path(path), Path(path).name)
        result = run.dry_run()
        checked = time.perf_counter()
        assert result.ok, result.errors[:3]
        result = run.apply(actor=None)
        assert result.ok and result.counts["employees_created"] == Employee.objects.count()
        applied = time.perf_counter()
        again = run.dry_run()
        assert again.changes == 0
        seconds = {"dry_run": checked - started, "apply": applied - checked, "total": applied - started,
                   "second_dry_run": time.perf_counter() - applied}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "rows": Employee.objects.count()}))


# ---------------------------------------------------------------- the driver


def _postgres_url() -> str | None:
    url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    probe = subprocess.run([sys.executable, "-c", f"import psycopg; psycopg.connect({url!r}).close()"],
                           capture_output=True)
    return url if probe.returncode == 0 else None


def _fresh_database(kind: str, folder: Path, name: str, admin_url: str | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    return create_database(admin_url, name)


def _run_step(mode: str, path: Path, database_url: str, data_dir: Path) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings", "DATABASE_URL": database_url,
           "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    completed = subprocess.run([sys.executable, "-m", "bench.org_import", mode, str(path)], env=env,
                               capture_output=True, text=True, check=False)
    if completed.returncode:
        raise RuntimeError(completed.stderr[-3000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(rows: int = 100_000) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="learntrace-bench-") as tmp:
        folder = Path(tmp)
        files = write_files(folder, rows)
        postgres = _postgres_url()
        for kind in ["sqlite"] + (["postgresql"] if postgres else []):
            for file_kind, path in files.items():
                figures = {}
                for mode in ("baseline", "import"):
                    name = f"bench_{kind}_{file_kind}_{mode}"
                    url = _fresh_database(kind, folder, name, postgres)
                    figures[mode] = _run_step(mode, path, url, folder / "data")
                base, real = figures["baseline"], figures["import"]
                ratio = real["seconds"]["total"] / base["seconds"]["total"]
                print(f"org import, {rows} rows, {file_kind.upper()}, {kind}: "
                      f"dry run {real['seconds']['dry_run']:.1f} s + import {real['seconds']['apply']:.1f} s "
                      f"= {real['seconds']['total']:.1f} s, peak {real['peak_rss_mb']:.0f} MB; "
                      f"re-check of the same file {real['seconds']['second_dry_run']:.1f} s | "
                      f"baseline (read + bare bulk insert) {base['seconds']['total']:.1f} s, "
                      f"peak {base['peak_rss_mb']:.0f} MB | ratio {ratio:.2f}x")
                results[f"{kind}/{file_kind}"] = figures
                if kind == "postgresql":
                    for mode in ("baseline", "import"):
                        drop_database(postgres, f"bench_{kind}_{file_kind}_{mode}")
    return results


if __name__ == "__main__":
    step(sys.argv[1], sys.argv[2])
