"""Sealing and verification of N learning facts (default 1 000 000) on PostgreSQL, and the cost a
fact write pays for being sealable (the trigger that queues it for the next seal).

The facts are beats of credited time with the details the tracker records (bench/beat_rows.py),
sealed and verified twice in one run: in their compact bytes under encoding 3 (now), then the
same beats with JSON details under encoding 2 (before). Baselines in the same run: PostgreSQL
reading every fact and hashing its row's text, nothing else (the floor of hashing the facts
where they are), and reading facts into Python and encoding them there (timed on a sample);
bulk-inserting facts into the same table with the queueing trigger disabled (the write without
sealability)."""

import os
import time

from bench.common import fresh_database, shell_json

N = int(os.environ.get("BENCH_FACTS", "1000000"))
WORKERS = int(os.environ.get("BENCH_VERIFY_WORKERS", "2"))
SAMPLE = min(N, 100_000)

SCRIPT = r"""
import hashlib, json, time
from django.db import connection
from django.utils import timezone
from bench.beat_rows import copy_beats
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
facts = dict(employees=[employee.pk], course_id=course.pk, category_id=category.pk, started=timezone.now())

def generate(compact):
    # what a tracked beat records (bench/beat_rows.py): compact bytes sealed in encoding 3 (now), or the
    # JSON details of before sealed in encoding 2, from the same beats
    with connection.cursor() as c:
        c.execute("TRUNCATE records_creditedtime, evidence_seal, evidence_sealspan, evidence_pending CASCADE")
    started = time.perf_counter()
    for first in range(1, N + 1, 50000):
        copy_beats(connection, "records_creditedtime", first, min(first + 49999, N), compact=compact, **facts)
    with connection.cursor() as c:
        c.execute("ANALYZE records_creditedtime")
    return time.perf_counter() - started

def seal_and_verify(form, encoding):
    out = {{"generate_s": generate(form == "compact")}}
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM records_creditedtime t WHERE sha256(convert_to(t::text, 'UTF8')) IS NOT NULL")
    out["baseline_sql_hash_s"] = time.perf_counter() - started
    started = time.perf_counter()
    count = sum(1 for row in rows(1, CreditedTime.objects.all().order_by("id")[:SAMPLE]).iterator(chunk_size=20000)
                if hashlib.sha256(b"\x00" + encode(1, row, encoding)).digest())
    out["python_encode_us_per_fact"] = (time.perf_counter() - started) / count * 1e6
    services.ENCODING = encoding
    started = time.perf_counter()
    seals = services.seal_pending()
    out["seal_s"] = time.perf_counter() - started
    out["seals"] = len(seals)
    assert {{seal.encoding for seal in seals}} == {{encoding}}
    started = time.perf_counter()
    report = services.verify(workers=WORKERS)
    out["verify_s"] = time.perf_counter() - started
    out["verify_ok"] = report.ok
    out["facts"] = report.facts
    out["timings"] = report.timings
    return out

out = {{"json": seal_and_verify("json", 2), "compact": seal_and_verify("compact", 3)}}
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
    print(f"evidence, {N} beat facts on PostgreSQL, the same beats in both forms, one after the other:")
    for form, label in (("compact", "now, compact bytes, encoding 3"), ("json", "before, JSON details, encoding 2")):
        r = result[form]
        t = r["timings"]
        print(f"  {label} (generated in {r['generate_s']:.0f} s): seal {r['seal_s']:.1f} s in {r['seals']} seals; "
              f"verify {r['verify_s']:.1f} s with {WORKERS} connections (ok={r['verify_ok']}, {r['facts']} facts; "
              f"summed over connections: facts {t['facts']:.1f} s, seals {t['seals']:.1f} s, tail {t['tail']:.2f} s)"
              f" | baseline, PostgreSQL hashing every row's text: {r['baseline_sql_hash_s']:.1f} s (verify/baseline "
              f"{r['verify_s'] / r['baseline_sql_hash_s']:.2f}) | Python encoding: "
              f"{r['python_encode_us_per_fact']:.1f} µs a fact on one core")
    now, before = result["compact"], result["json"]
    print(f"  now/before: sealing {now['seal_s'] / before['seal_s']:.2f}, verification "
          f"{now['verify_s'] / before['verify_s']:.2f} | write of 100 000 facts: "
          f"{result['insert_with_index_s']:.2f} s sealable vs {result['insert_without_index_s']:.2f} s without the "
          f"queueing trigger (ratio {result['insert_with_index_s'] / result['insert_without_index_s']:.2f})")
    return result
