"""Archiving a month of beats on PostgreSQL (records/archive.py): what it costs, and what it leaves.

Two months of beats (bench/beat_rows.py: what the tracker records, compact), N in all (default
400 000), each month sealed at its end. The first month is archived: its beats are checked against
their seals and written to the archive file, the chain's link is signed, and the beats are deleted.
Baselines in the same run: sealing the same beats (reading and hashing them, the work the archive
file repeats), and deleting a sample of the other month's beats as any other delete would (the
running sums' hour counted again for every fact; rolled back). Then: verification before and after,
the table's size before, after the deletion and VACUUM, and after a next month is written into the
space the archived one left."""

import os
import time

from bench.common import fresh_database, shell_json

N = int(os.environ.get("BENCH_FACTS", "400000"))
SAMPLE = min(N // 2, 20_000)

SCRIPT = r"""
import datetime as dt, json, os, tempfile
from django.db import connection, transaction
from bench.beat_rows import copy_beats
from bench.common import measured
from learntrace.catalog.models import Category, Course
from learntrace.evidence import services
from learntrace.records import archive
from learntrace.org.models import Department, Employee
from learntrace.org.services import department_path
from learntrace.records.models import ArchivedHour, CreditedHour, CreditedTime
N, SAMPLE = {n}, {sample}
HALF = N // 2
root = Department.objects.create(code="B", name="bench"); root.path = department_path(None, root.pk); root.save()
employees = [Employee.objects.create(employee_no=f"B{{i}}", name="b", department=root).pk for i in range(50)]
category = Category.objects.create(code="bench", name="bench")
course = Course.objects.create(title="bench", kind="video", category=category, duration_seconds=3600)
UTC = dt.timezone.utc

def month(first, started):
    facts = dict(employees=employees, course_id=course.pk, category_id=category.pk, started=started)
    for start in range(first, first + HALF, 50000):
        last = min(start + 49999, first + HALF - 1)
        copy_beats(connection, "records_creditedtime", start, last, compact=True, **facts)
    with connection.cursor() as c:
        c.execute("ANALYZE records_creditedtime")

def size():
    with connection.cursor() as c:
        c.execute("SELECT pg_total_relation_size('records_creditedtime')")
        return c.fetchone()[0]

def sums():
    # every credited second by person and hour: the table's running sums and the archived ones
    total = {{}}
    for table in (CreditedHour, ArchivedHour):
        for employee_id, hour, seconds in table.objects.values_list("employee_id", "hour", "seconds"):
            total[employee_id, hour] = total.get((employee_id, hour), 0) + seconds
    return total

out = {{"facts": N}}
month(1, dt.datetime(2026, 1, 5, tzinfo=UTC))
out["seal"] = measured(lambda: services.seal_pending(now=dt.datetime(2026, 1, 31, tzinfo=UTC)))
month(HALF + 1, dt.datetime(2026, 2, 5, tzinfo=UTC))
services.seal_pending(now=dt.datetime(2026, 2, 28, tzinfo=UTC))
out["verify_before"] = measured(lambda: services.verify(workers=1))
out["size_before"] = size()
before_sums = sums()
path = os.path.join(tempfile.mkdtemp(), "archive.jsonl.gz")
finish = archive.finish
archive.finish = lambda **kwargs: 0  # the deletion measured apart
found = {{}}
out["write"] = measured(lambda: found.update(link=archive.archive(before=dt.datetime(2026, 2, 1, tzinfo=UTC),
                                                                  path=path, now=dt.datetime(2026, 3, 1, tzinfo=UTC))))
archive.finish = finish
out["delete"] = measured(lambda: found.update(deleted=archive.finish()))
out["archived"], out["deleted"] = found["link"].archive["facts"], found["deleted"]
out["file_bytes"] = os.path.getsize(path)
out["sums_unchanged"] = sums() == before_sums
report = {{}}
out["verify_after"] = measured(lambda: report.update(r=services.verify(workers=1)))
out["verify_after_ok"], out["verify_after_archived"] = report["r"].ok, report["r"].archived
out["size_after_delete"] = size()
connection.ensure_connection()
with connection.cursor() as c:
    out["vacuum"] = measured(lambda: c.execute("VACUUM records_creditedtime"))
out["size_after_vacuum"] = size()
month(N + 1, dt.datetime(2026, 3, 5, tzinfo=UTC))
out["size_after_next_month"] = size()
# The baseline delete: a sample of the second month's beats deleted as any delete is (their hours recounted).
ids = list(CreditedTime.objects.filter(occurred_at__lt=dt.datetime(2026, 3, 1, tzinfo=UTC))
           .order_by("id").values_list("id", flat=True)[:SAMPLE])
def plain_delete():
    with transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM records_creditedtime WHERE id = ANY(%s)", [ids])
        transaction.set_rollback(True)
out["plain_delete"] = measured(plain_delete)
out["plain_delete_facts"] = len(ids)
os.remove(path)
print(json.dumps(out))
"""


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, os.environ.get("BENCH_DATABASE", "bench_archive")) as database_url:
        began = time.perf_counter()
        r = shell_json(database_url, SCRIPT.format(n=N, sample=SAMPLE))
        r["total_s"] = time.perf_counter() - began

    def us(measure, facts):
        return (measure["wall"] * 1e6 / facts, (measure["cpu"] + measure["db_cpu"]) * 1e6 / facts)

    archived = r["archived"]
    seal_wall, seal_cpu = us(r["seal"], archived)
    write_wall, write_cpu = us(r["write"], archived)
    delete_wall, delete_cpu = us(r["delete"], archived)
    plain_wall, plain_cpu = us(r["plain_delete"], r["plain_delete_facts"])
    mib = 1024 * 1024
    print(f"archive, {N} beats in two months on PostgreSQL, the first month archived ({archived} beats, "
          f"{r['deleted']} deleted; sums unchanged: {r['sums_unchanged']}):")
    print(f"  checking and writing the file: {write_wall:.1f} µs a beat (CPU {write_cpu:.1f}) | baseline, sealing the "
          f"same beats: {seal_wall:.1f} µs (CPU {seal_cpu:.1f}) | ratio {write_wall / seal_wall:.2f} wall, "
          f"{write_cpu / seal_cpu:.2f} CPU; file {r['file_bytes'] / archived:.1f} bytes a beat (gzip)")
    print(f"  deleting: {delete_wall:.1f} µs a beat (CPU {delete_cpu:.1f}) | baseline, a plain delete recounting "
          f"the sums ({r['plain_delete_facts']} beats): {plain_wall:.1f} µs (CPU {plain_cpu:.1f}) | ratio "
          f"{delete_wall / plain_wall:.2f} wall, {delete_cpu / plain_cpu:.2f} CPU")
    print(f"  verification: before {r['verify_before']['wall']:.1f} s, after {r['verify_after']['wall']:.1f} s "
          f"(ratio {r['verify_after']['wall'] / r['verify_before']['wall']:.2f}; ok={r['verify_after_ok']}, "
          f"{r['verify_after_archived']} archived facts accepted)")
    print(f"  table with indexes: {r['size_before'] / mib:.0f} MiB before, {r['size_after_delete'] / mib:.0f} MiB "
          f"after the deletion, {r['size_after_vacuum'] / mib:.0f} MiB after VACUUM ({r['vacuum']['wall']:.1f} s), "
          f"{r['size_after_next_month'] / mib:.0f} MiB after the next month's {N // 2} beats (ratio to before "
          f"{r['size_after_next_month'] / r['size_before']:.2f})")
    return r
