"""Sealing and verification of N learning facts (default 1 000 000) on PostgreSQL, and the cost a
fact write pays for being sealable (the trigger that queues it for the next seal).

The facts are credited time with the details a tracked beat carries (segments, rate, flags…).
Baselines in the same run: PostgreSQL reading every fact and hashing its row's text, nothing
else (the floor of hashing the facts where they are), and the previous way, reading facts into
Python and encoding them there (timed on a sample); bulk-inserting facts into the same table
with the queueing trigger disabled (the write without sealability)."""

import os
import time

from bench.common import fresh_database, shell_json

N = int(os.environ.get("BENCH_FACTS", "1000000"))
WORKERS = int(os.environ.get("BENCH_VERIFY_WORKERS", "2"))
SAMPLE = min(N, 100_000)

SCRIPT = r"""
import hashlib, json, time
from django.db import connection
from learntrace.catalog.models import Category, Course
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.records.models import CreditedTime
from learntrace.evidence import services
from learntrace.evidence.sources import encode, rows
N, SAMPLE, WORKERS = {n}, {sample}, {workers}
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
employee = Employee.objects.create(employee_no="B1", name="b", department=root)
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=3600)
out = {{}}
started = time.perf_counter()
with connection.cursor() as c:
    # what a tracked beat records: 15 s watched, its segment, rate, flags, times
    c.execute('''INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, occurred_at,
                 source, recorded_at, attempt_id, seq, details)
                 SELECT %s, %s, 'video', %s, 15, now() - (g || ' seconds')::interval, 'tracking', now(),
                        md5((g / 240)::text)::uuid, g %% 240,
                        jsonb_build_object(
                            'segments', jsonb_build_array(jsonb_build_array((g %% 240) * 15000,
                                                                            (g %% 240) * 15000 + 15000)),
                            'reading_ms', 0, 'rate', 1.25, 'hidden', g %% 7 = 0,
                            'elapsed_ms', (g %% 240) * 15000 + 15012,
                            'received_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.USOF'),
                            'played_ms', 15000, 'credited_ms', 15000, 'cut_ms', 0,
                            'flags', CASE WHEN g %% 50 = 0 THEN '["hidden_tab"]'::jsonb ELSE '[]'::jsonb END)
                 FROM generate_series(1, %s) g''', [employee.pk, course.pk, category.pk, N])
    c.execute("ANALYZE records_creditedtime")
out["generate_s"] = time.perf_counter() - started
started = time.perf_counter()
with connection.cursor() as c:
    c.execute("SELECT count(*) FROM records_creditedtime t WHERE sha256(convert_to(t::text, 'UTF8')) IS NOT NULL")
out["baseline_sql_hash_s"] = time.perf_counter() - started
started = time.perf_counter()
count = sum(1 for row in rows(1, CreditedTime.objects.all().order_by("id")[:SAMPLE]).iterator(chunk_size=20000)
            if hashlib.sha256(b"\x00" + encode(1, row, 1)).digest())
out["python_encode_us_per_fact"] = (time.perf_counter() - started) / count * 1e6
started = time.perf_counter()
seals = services.seal_pending()
out["seal_s"] = time.perf_counter() - started
out["seals"] = len(seals)
started = time.perf_counter()
report = services.verify(workers=WORKERS)
out["verify_s"] = time.perf_counter() - started
out["verify_ok"] = report.ok
out["facts"] = report.facts
out["timings"] = report.timings
# The write cost of sealability: bulk inserts with and without the trigger that queues them for sealing.
def insert(k):
    started = time.perf_counter()
    CreditedTime.objects.bulk_create([CreditedTime(employee=employee, course=course, kind="video", category=category,
                                                   seconds=15, occurred_at=course.created_at, source="tracking")
                                      for _ in range(k)], batch_size=5000)
    return time.perf_counter() - started
out["insert_with_index_s"] = min(insert(100000) for _ in range(2))
with connection.cursor() as c:
    c.execute("ALTER TABLE records_creditedtime DISABLE TRIGGER evidence_queue")
out["insert_without_index_s"] = min(insert(100000) for _ in range(2))
print(json.dumps(out))
"""


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, os.environ.get("BENCH_DATABASE", "bench_evidence")) as database_url:
        began = time.perf_counter()
        result = shell_json(database_url, SCRIPT.format(n=N, sample=SAMPLE, workers=WORKERS))
        result["total_s"] = time.perf_counter() - began
    t = result["timings"]
    print(f"evidence, {N} facts on PostgreSQL (generated in {result['generate_s']:.0f} s): "
          f"seal {result['seal_s']:.1f} s in {result['seals']} seals; "
          f"verify {result['verify_s']:.1f} s with {WORKERS} connections (ok={result['verify_ok']}, "
          f"{result['facts']} facts; summed over connections: facts {t['facts']:.1f} s, seals {t['seals']:.1f} s, "
          f"tail {t['tail']:.2f} s) | baseline, PostgreSQL hashing every row's text: "
          f"{result['baseline_sql_hash_s']:.1f} s "
          f"(verify/baseline {result['verify_s'] / result['baseline_sql_hash_s']:.2f}) | "
          f"before, Python encoding: {result['python_encode_us_per_fact']:.1f} µs a fact on one core "
          f"(≈ {result['python_encode_us_per_fact'] * N / 1e6:.0f} s for all) | "
          f"write of 100 000 facts: {result['insert_with_index_s']:.2f} s sealable vs "
          f"{result['insert_without_index_s']:.2f} s without the queueing trigger "
          f"(ratio {result['insert_with_index_s'] / result['insert_without_index_s']:.2f})")
    return result
