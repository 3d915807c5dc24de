"""Sealing and verification of N learning facts (default 1 000 000) on PostgreSQL, and the cost a
fact write pays for being sealable (the `seal` column and its partial index of unsealed rows).

Baselines in the same run: hashing the same facts' canonical encodings with nothing else (the
floor for sealing and verifying), and bulk-inserting facts into the same table with the partial
index dropped (the write without sealability)."""

import os
import time

from bench.common import fresh_database, shell_json

N = int(os.environ.get("BENCH_FACTS", "1000000"))

SCRIPT = r"""
import hashlib, json, time
from django.db import connection
from learntrace.catalog.models import Category, Course
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.records.models import CreditedTime
from learntrace.evidence import services
from learntrace.evidence.sources import encode, rows
N = {n}
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
employee = Employee.objects.create(employee_no="B1", name="b", department=root)
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=3600)
with connection.cursor() as c:
    c.execute('''INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, occurred_at,
                 source, recorded_at, details) SELECT %s, %s, 'video', %s, 15, now() - (g || ' seconds')::interval,
                 'tracking', now(), '{{}}'::jsonb FROM generate_series(1, %s) g''',
              [employee.pk, course.pk, category.pk, N])
out = {{}}
started = time.perf_counter()
count = sum(1 for row in rows(1, CreditedTime.objects.all().order_by("id")).iterator(chunk_size=20000)
            if hashlib.sha256(b"\x00" + encode(1, row)).digest())
out["hash_only_s"] = time.perf_counter() - started
started = time.perf_counter()
seals = services.seal_pending(batch_size=50000)
out["seal_s"] = time.perf_counter() - started
out["seals"] = len(seals)
started = time.perf_counter()
report = services.verify(workers=2)
out["verify_s"] = time.perf_counter() - started
out["verify_ok"] = report.ok
out["facts"] = report.facts
# The write cost of sealability: bulk inserts with and without the partial index of unsealed rows.
def insert(k):
    started = time.perf_counter()
    CreditedTime.objects.bulk_create([CreditedTime(employee=employee, course=course, kind="video", category=category,
                                                   seconds=15, occurred_at=course.created_at, source="tracking")
                                      for _ in range(k)], batch_size=5000)
    return time.perf_counter() - started
out["insert_with_index_s"] = min(insert(100000) for _ in range(2))
with connection.cursor() as c:
    c.execute("DROP INDEX creditedtime_unsealed")
out["insert_without_index_s"] = min(insert(100000) for _ in range(2))
print(json.dumps(out))
"""


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, "bench_evidence") as database_url:
        began = time.perf_counter()
        result = shell_json(database_url, SCRIPT.format(n=N))
        result["total_s"] = time.perf_counter() - began
    print(f"evidence, {N} facts on PostgreSQL: seal {result['seal_s']:.1f} s in {result['seals']} seals, "
          f"verify {result['verify_s']:.1f} s (ok={result['verify_ok']}, {result['facts']} facts) | "
          f"baseline, reading and hashing the same facts only: {result['hash_only_s']:.1f} s | "
          f"write of 100 000 facts: {result['insert_with_index_s']:.2f} s sealable vs "
          f"{result['insert_without_index_s']:.2f} s without the unsealed index "
          f"(ratio {result['insert_with_index_s'] / result['insert_without_index_s']:.2f})")
    return result
