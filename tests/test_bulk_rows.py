"""Standings are written many at once with one UPDATE … FROM per batch (on PostgreSQL one array a
column, `unnest`; on SQLite a VALUES list): each row gets its own values, and the worker's refresh
never goes back to one CASE per column and row (Django's bulk_update), which cost 4 ms of Python a
standing and made the worker miss its share of a core."""

import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from learntrace.compliance import services
from learntrace.compliance.models import Standing
from learntrace.core.bulk import update_rows
from test_compliance import at, watch
from test_compliance_incremental import judged_march  # noqa: F401 (the fixture)


def test_each_row_gets_its_own_values_and_the_others_keep_theirs(judged_march, org):  # noqa: F811
    march, _people, _departments = judged_march
    rows = list(Standing.objects.filter(period=march).order_by("pk"))
    changed, kept = rows[:-1], rows[-1]
    kept_before = Standing.objects.filter(pk=kept.pk).values().get()
    for n, row in enumerate(changed):
        row.total_seconds = 1000 + n
        row.missing = [{"what": "hours", "kind": "total", "owed": n}] if n % 2 else []
        row.score = Decimal(n) / 4
        row.completed_at = at(2026, 3, 26, 9, n) if n % 3 else None
        row.compliant = None if n == 0 else n % 2 == 0
        row.department = org.b if n % 2 else org.hr
        row.department_path = row.department.path

    written = update_rows(Standing, changed, ["total_seconds", "missing", "score", "completed_at", "compliant",
                                              "department", "department_path"])

    assert written == len(changed) == 11
    for n, row in enumerate(Standing.objects.filter(pk__in=[r.pk for r in changed]).order_by("pk")):
        assert (row.total_seconds, row.missing, row.score, row.completed_at, row.compliant, row.department_id) == (
            1000 + n, [{"what": "hours", "kind": "total", "owed": n}] if n % 2 else [], Decimal(n) / 4,
            at(2026, 3, 26, 9, n) if n % 3 else None, None if n == 0 else n % 2 == 0,
            org.b.pk if n % 2 else org.hr.pk)
    assert Standing.objects.filter(pk=kept.pk).values().get() == kept_before


def test_values_that_need_quoting_and_columns_of_nulls_arrive_as_they_were(judged_march, org):  # noqa: F811
    march, _people, _departments = judged_march
    rows = list(Standing.objects.filter(period=march).order_by("pk"))[:4]
    awkward = ['{"a", b}', "O'Brien \\ {x}", "NULL", ""]  # braces, quotes, commas, a backslash: array syntax
    for row, text in zip(rows, awkward, strict=True):
        row.department_path = text
        row.reflection_status = text[:16]
        row.missing = [{"what": "course", "title": text, "owed": None}]
        row.completed_at = row.evaluated_at = row.compliant = None  # every row's value null

    assert update_rows(Standing, rows, ["department_path", "reflection_status", "missing", "completed_at",
                                        "evaluated_at", "compliant"]) == 4

    assert [Standing.objects.filter(pk=row.pk).values_list(
        "department_path", "reflection_status", "missing", "completed_at", "evaluated_at", "compliant").get()
        for row in rows] == [(text, text[:16], [{"what": "course", "title": text, "owed": None}], None, None, None)
                             for text in awkward]


def test_no_rows_write_nothing(judged_march):  # noqa: F811
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(Standing, [], ["total_seconds"]) == 0
    assert queries.captured_queries == []


def _standing_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{Standing._meta.db_table}"')]


def test_the_refresh_writes_standings_in_one_statement_whoever_learned(judged_march, catalog):  # noqa: F811
    march, people, _departments = judged_march

    def learn_and_refresh(learners, hour):
        for person in learners:
            watch(person, catalog.video, 0.5, at(2026, 3, 26, hour))
        with CaptureQueriesContext(connection) as queries:
            services.refresh_changed(now=at(2026, 3, 26, hour, 30))
        return _standing_updates(queries.captured_queries)

    one = learn_and_refresh(people[:1], 9)
    everyone = learn_and_refresh(people, 10)

    # The figures, then the verdicts (March is judged and open): one statement each, however many learned.
    assert len(one) == len(everyone) == 2
    for sql in everyone:
        assert "CASE" not in sql
        if connection.vendor == "postgresql":  # one array a column, the people's ids in the first
            assert "FROM unnest(" in sql and "VALUES" not in sql
            ids = re.search(r"unnest\('\{([0-9,]+)\}'", sql).group(1)
            assert ids == ",".join(str(s.pk) for s in Standing.objects.filter(period=march).order_by("pk"))
        else:  # one VALUES row per person, in one statement
            assert "FROM (VALUES" in sql
            assert sql.count("), (") == len(people) - 1
    # Each person's own figures: what they had (0.5, 1, 1.5, 2 hours), half an hour more, and the first
    # person another half hour.
    assert [Standing.objects.get(period=march, employee=p).total_seconds for p in people[:4]] == [
        5400, 5400, 7200, 9000]


def test_the_hourly_refresh_reads_of_each_row_only_what_it_compares(judged_march):  # noqa: F811
    march, people, _departments = judged_march
    before = list(Standing.objects.filter(period=march).order_by("pk").values())

    with CaptureQueriesContext(connection) as queries:
        assert services.refresh_open(now=at(2026, 3, 26, 12)) >= len(people)

    # Nothing changed: nothing written, and no row read whole. The refresh of everyone reads each
    # standing's compared columns only (not the verdicts' JSON), and each period and department once,
    # not once per person.
    assert list(Standing.objects.filter(period=march).order_by("pk").values()) == before
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if '"compliance_standing"."consequences"' in sql]
    per_person = [sql for sql in reads if 'FROM "plans_assignment"' in sql and '"employee_id" IN' not in sql
                  and ('JOIN "plans_planperiod"' in sql or 'JOIN "org_department"' in sql)]
    assert per_person == []
