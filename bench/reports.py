"""Reports on a large organisation (bench.dataset: 100 000 people, 12 months, about 10 million
credited-time facts), on PostgreSQL, each figure next to a naive baseline measured in the same run:

- the compliance report of one month for everyone (summary, by plan, by department, hours
  distribution, the first non-completers) from the standings, against the same figures aggregated
  from the raw facts;
- a department head's dashboard page (their division, ~5 000 people, with the 12-month trend),
  rendered by the real view, against the same figures from the raw facts;
- the per-person XLSX export of one month (100 000 rows) as the worker writes it, against the bare
  XlsxWriter writing the same rows already in memory; peak memory of the export's process;
- the audience-retention curve of a course with 50 000 viewers (one pass, difference array) against
  one SQL query per 1 % of the video.

BENCH_REPORTS_PEOPLE (default 100 000) and BENCH_REPORTS_VIEWERS (default 50 000) give a smaller
scale for a quick run. The database is dropped at the end."""

import os
import statistics
import time

from bench.common import fresh_database, generated_dataset, in_shell, main, report

PEOPLE = int(os.environ.get("BENCH_REPORTS_PEOPLE", "100000"))
VIEWERS = int(os.environ.get("BENCH_REPORTS_VIEWERS", "50000"))
DATABASE = "lt_reports_bench"
MONTH = "2025-06"
REPEAT = 5


def timed(function, repeat: int = REPEAT) -> dict:
    """Median and best of `repeat` runs after one warm-up (the server's cache is warm for both sides)."""
    function()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return {"median_s": statistics.median(runs), "best_s": min(runs)}


# ---------------------------------------------------------------- run inside `learntrace shell`


def _raw_month(path_prefix: str, starts, ends) -> list[tuple]:
    """Per person of the subtree: department, number, name and credited seconds in the month, from the facts."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT d.path, d.name, e.employee_no, e.name, coalesce(f.seconds, 0)
            FROM org_employee e JOIN org_department d ON d.id = e.department_id
            LEFT JOIN (SELECT employee_id, sum(seconds) AS seconds FROM records_creditedtime
                       WHERE occurred_at >= %s AND occurred_at < %s GROUP BY employee_id) f ON f.employee_id = e.id
            WHERE d.path LIKE %s""", [starts, ends, path_prefix + "%"])
        return cursor.fetchall()


def _raw_figures(rows, target: int, focus_depth: int) -> dict:
    """The report's figures from per-person totals, in Python: what a report without materialised
    standings has to do after summing the facts."""
    complete = sum(1 for row in rows if row[4] >= target)
    by_department, histogram = {}, [0] * 13
    for path, _name, _number, _person, seconds in rows:
        key = "/".join(path.split("/")[:focus_depth + 2])
        done, people = by_department.get(key, (0, 0))
        by_department[key] = (done + (seconds >= target), people + 1)
        histogram[min(seconds // 3600, 12)] += 1
    owing = sorted((row for row in rows if row[4] < target), key=lambda row: (row[4], row[2]))[:20]
    return {"people": len(rows), "complete": complete, "departments": len(by_department), "histogram": histogram,
            "first_owing": [row[2] for row in owing]}


def inner_queries(ids: dict) -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from learntrace.compliance.models import Standing
    from learntrace.org.models import Department
    from learntrace.records.models import CourseProgress
    from learntrace.reports import selectors
    from learntrace.reports.selectors import Filters, Scope

    month = dt.date(2025, 6, 1)
    starts, ends = selectors.month_bounds(month)
    target = 8 * 3600
    everyone = Scope(everyone=True)
    root = Department.objects.get(pk=ids["root"])
    result = {}

    def report():
        rows = selectors.standings(everyone, Filters(month=month))
        completion = selectors.FigureGroups(rows)
        return {"summary": selectors.summary(completion), "plans": selectors.by_plan(completion),
                "departments": selectors.by_department(completion,
                                                       selectors.department_focus(everyone, Filters())),
                "histogram": selectors.hours_histogram(completion),
                "first_owing": selectors.first_non_completers(rows)}

    def raw_report():
        return _raw_figures(_raw_month(root.path, starts, ends), target, 1)

    mine, theirs = report(), raw_report()
    assert (mine["summary"].people, mine["summary"].complete) == (theirs["people"], theirs["complete"]), \
        (mine["summary"], theirs)
    assert [b.people for b in mine["histogram"]] == theirs["histogram"]
    result["report"] = timed(report)
    result["report_raw"] = timed(raw_report)
    result["report_people"] = mine["summary"].people

    # The department dashboard, as the head opens it (page rendered by the view, trend included).
    head = get_user_model().objects.get(pk=ids["head"])
    division = Department.objects.get(pk=ids["division"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(head)

    def dashboard():
        response = client.get("/reports/", {"period": f"{month:%Y-%m}"})
        assert response.status_code == 200
        return response

    def raw_dashboard():
        figures = _raw_figures(_raw_month(division.path, starts, ends), target, 2)
        with connection.cursor() as cursor:  # the 12-month trend, from the facts
            cursor.execute("""
                SELECT p.starts_at, count(*) FILTER (WHERE coalesce(f.seconds, 0) >= %s), count(*)
                FROM plans_planperiod p CROSS JOIN org_employee e JOIN org_department d ON d.id = e.department_id
                LEFT JOIN LATERAL (SELECT sum(c.seconds) AS seconds FROM records_creditedtime c
                                   WHERE c.employee_id = e.id AND c.occurred_at >= p.starts_at
                                   AND c.occurred_at < p.ends_at) f ON true
                WHERE p.plan_id = %s AND d.path LIKE %s GROUP BY p.starts_at ORDER BY p.starts_at""",
                           [target, ids["plan"], division.path + "%"])
            figures["trend"] = cursor.fetchall()
        return figures

    result["dashboard_people"] = Standing.objects.filter(
        period_id=ids["periods"][5], department_path__startswith=division.path).count()
    result["dashboard"] = timed(dashboard)
    result["dashboard_raw"] = timed(raw_dashboard)

    # The retention curve of the 60-minute course.
    viewers = CourseProgress.objects.filter(course_id=ids["strategy"])
    curve = selectors.retention_curve(viewers, 3600)

    def per_percent():
        shares = []
        with connection.cursor() as cursor:
            for step in range(100):
                middle = (2 * step + 1) * 3600 * 1000 // 200
                cursor.execute("""SELECT count(*) FROM records_courseprogress p WHERE p.course_id = %s AND EXISTS (
                                      SELECT 1 FROM jsonb_array_elements(p.intervals) i
                                      WHERE (i->>0)::bigint <= %s AND (i->>1)::bigint > %s)""",
                               [ids["strategy"], middle, middle])
                shares.append(round(100 * cursor.fetchone()[0] / curve.viewers, 1))
        return shares

    assert per_percent() == curve.shares
    result["retention"] = timed(lambda: selectors.retention_curve(viewers, 3600), repeat=3)
    result["retention_raw"] = timed(per_percent, repeat=3)
    result["retention_viewers"] = curve.viewers
    result["retention_drop_off"] = curve.drop_off_percent
    result["retention_at"] = {p: curve.shares[p] for p in (0, 25, 50, 75, 99)}
    return result


def inner_export(ids: dict) -> dict:
    """The per-person XLSX export of one month, as the worker writes it; peak memory of this process."""
    import resource

    from django.contrib.auth import get_user_model
    from django.core.files.storage import default_storage

    from learntrace.reports import services
    from learntrace.reports.models import ExportJob

    admin = get_user_model().objects.get(pk=ids["admin"])
    job = ExportJob.objects.create(requested_by=admin, report="people", file_format="xlsx",
                                   query={"period": MONTH}, language="zh-hans")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    job = services.run_export(job_id=job.pk)
    elapsed = time.perf_counter() - started
    assert job.status == "done", job.error
    size = default_storage.size(job.stored_path)
    default_storage.delete(job.stored_path)
    return {"export_s": elapsed, "rows": job.done_rows, "bytes": size,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "before_mb": before / 1024}


def inner_bare_writer(ids: dict) -> dict:
    """XlsxWriter alone (constant memory), writing the same rows, already in memory, the same way."""
    import datetime as dt
    import tempfile

    import xlsxwriter
    from django.utils import translation

    from learntrace.reports import exports
    from learntrace.reports.selectors import Filters, Scope

    with translation.override("zh-hans"):
        headers = exports.person_headers()
        rows = list(exports.person_rows(Scope(everyone=True), Filters(month=dt.date(2025, 6, 1))))
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        started = time.perf_counter()
        workbook = xlsxwriter.Workbook(handle.name, {"constant_memory": True,
                                                     "default_date_format": "yyyy-mm-dd hh:mm"})
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, headers)
        for number, row in enumerate(rows, start=1):
            sheet.write_row(number, 0, row)
        workbook.close()
        elapsed = time.perf_counter() - started
    return {"bare_s": elapsed, "rows": len(rows)}


# ---------------------------------------------------------------- the harness


def _in_shell(database_url: str, function: str, ids: dict) -> dict:
    return in_shell(database_url, "bench.reports", function, ids)


def run(admin_url: str) -> dict:
    with fresh_database(admin_url, DATABASE) as database_url:
        began = time.perf_counter()
        dataset = generated_dataset(database_url, PEOPLE, VIEWERS)
        dataset["wall_s"] = time.perf_counter() - began
        ids = dataset["ids"]
        print(f"data set: {dataset['counts']} in {dataset['wall_s']:.0f} s {dataset['timings']}", flush=True)
        queries = _in_shell(database_url, "inner_queries", ids)
        export = _in_shell(database_url, "inner_export", ids)
        bare = _in_shell(database_url, "inner_bare_writer", ids)
    result = {"dataset": dataset, "queries": queries, "export": export, "bare": bare}
    q = queries
    lines = [
        f"compliance report, one month, {q['report_people']} people: {q['report']['median_s'] * 1000:.0f} ms "
        f"(best {q['report']['best_s'] * 1000:.0f}) | from the raw facts: {q['report_raw']['median_s'] * 1000:.0f} ms"
        f" | {q['report_raw']['median_s'] / q['report']['median_s']:.1f}× faster",
        f"department dashboard page, {q['dashboard_people']} people, 12-month trend: "
        f"{q['dashboard']['median_s'] * 1000:.0f} ms | from the raw facts (figures only): "
        f"{q['dashboard_raw']['median_s'] * 1000:.0f} ms | "
        f"{q['dashboard_raw']['median_s'] / q['dashboard']['median_s']:.1f}× faster",
        f"XLSX export, {export['rows']} rows: {export['export_s']:.1f} s, peak {export['peak_mb']:.0f} MB "
        f"(process before: {export['before_mb']:.0f} MB), {export['bytes'] / 1e6:.1f} MB file | bare writer on "
        f"the same rows: {bare['bare_s']:.1f} s | ratio {export['export_s'] / bare['bare_s']:.2f}",
        f"retention curve, {q['retention_viewers']} viewers: {q['retention']['median_s'] * 1000:.0f} ms | "
        f"one query per 1 %: {q['retention_raw']['median_s'] * 1000:.0f} ms | "
        f"{q['retention_raw']['median_s'] / q['retention']['median_s']:.1f}× faster | drop-off below half at "
        f"{q['retention_drop_off']} %, shares {q['retention_at']}",
    ]
    return report(result, lines)


if __name__ == "__main__":
    main(run)
