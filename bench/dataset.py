"""A large organisation for the report benchmarks, generated inside PostgreSQL (generate_series), so
that 100 000 people and ten million facts take minutes, not hours.

- 20 divisions of 10 departments each under one root; `people` employees spread over the 200
  departments, a tenth of them managers;
- one monthly plan ("8 hours a month") for the whole organisation, with its 12 periods of 2025 and
  an assignment per person and period;
- credited-time facts: per person and month 0 to 16 learning sessions of 30 to 60 minutes (about
  8.3 facts a person-month: 10 million for 100 000 people), so that about a third complete the month,
  a third come close and a third do little — the spread HR sees;
- the standings those facts give (the figures the compliance refresh keeps: hours, owed, complete,
  completed_at, missing, and the verdict with its consequences), computed from the facts in SQL;
- a 60-minute course "战略管理" watched by `viewers` people (50 000 by default) who stop after
  about half of it on average, some having skipped ahead and some having watched parts twice.

Run inside `learntrace shell` on a migrated PostgreSQL database (bench.reports does it)."""

import datetime as dt
import time

from django.db import connection

from learntrace.core.months import start_of_day
from learntrace.records import sums
from learntrace.records.codes import KIND_CODES, SOURCE_CODES

YEAR = 2025
TARGET_SECONDS = 8 * 3600
DIVISIONS, DEPARTMENTS_PER_DIVISION = 20, 10
# A reproducible pseudo-random number in [0, modulus) from integers (no random() in SQL: same data every run).
MIX = "mod({a}::bigint * 2654435761 + {b}::bigint * 40503 + {c}::bigint * 69069, {m})"


def mix(a: str, b: str, c: str, m: int) -> str:
    return MIX.format(a=a, b=b, c=c, m=m)


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _organisation(people: int) -> dict:
    from django.contrib.auth import get_user_model

    from learntrace.org.models import Department, Employee, Role, RoleGrant

    root = Department.objects.create(code="BENCH", name="集团", path="")
    Department.objects.filter(pk=root.pk).update(path=f"/{root.pk}/")
    execute("""INSERT INTO org_department (code, name, parent_id, path, is_active, created_at, updated_at, employer)
               SELECT 'DIV' || g, '事业部 ' || g, %s, '', true, now(), now(), '' FROM generate_series(1, %s) g""",
            [root.pk, DIVISIONS])
    execute("UPDATE org_department SET path = %s || id || '/' WHERE parent_id = %s", [f"/{root.pk}/", root.pk])
    execute(f"""INSERT INTO org_department (code, name, parent_id, path, is_active, created_at, updated_at, employer)
                SELECT d.code || '-' || g, d.name || ' 部门 ' || g, d.id, '', true, now(), now(), ''
                FROM org_department d, generate_series(1, {DEPARTMENTS_PER_DIVISION}) g WHERE d.parent_id = %s""",
            [root.pk])
    execute("""UPDATE org_department c SET path = p.path || c.id || '/' FROM org_department p
               WHERE c.parent_id = p.id AND p.parent_id = %s""", [root.pk])
    execute("""INSERT INTO org_employee (employee_no, name, department_id, position, level, tags, email, mobile,
                   dingtalk_user_id, wecom_user_id, feishu_user_id, is_active, national_id, language,
                   created_at, updated_at)
               SELECT 'P' || lpad(g::text, 6, '0'), '员工' || g, leaf.id,
                      CASE WHEN mod(g, 10) = 0 THEN '经理' ELSE '专员' END,
                      CASE WHEN mod(g, 10) = 0 THEN 'manager' ELSE 'staff' END,
                      '', '', '', '', '', '', true, '', '', now(), now()
               FROM generate_series(1, %s) g
               JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM org_department
                     WHERE path LIKE %s AND parent_id <> %s) leaf
                 ON leaf.n = mod(g, %s)""",
            [people, f"/{root.pk}/%/%/", root.pk, DIVISIONS * DEPARTMENTS_PER_DIVISION])
    admin = get_user_model().objects.create_user(username="bench-admin", password="bench-admin-password")
    RoleGrant.objects.create(user=admin, role=Role.TRAINING_ADMIN)
    # A department head of the first division (about a twentieth of the people).
    division = Department.objects.filter(parent=root).order_by("pk").first()
    head_user = get_user_model().objects.create_user(username="bench-head", password="bench-head-password")
    head = Employee.objects.filter(department__path__startswith=division.path).order_by("pk").first()
    Employee.objects.filter(pk=head.pk).update(user=head_user, level="department_head")
    RoleGrant.objects.create(user=head_user, role=Role.DEPARTMENT_HEAD, department=division)
    return {"root": root.pk, "division": division.pk, "admin": admin.pk, "head": head_user.pk}


def _plan_and_courses() -> dict:
    from learntrace.catalog.models import Category, Course, CourseKind
    from learntrace.compliance.models import Consequence, Rule
    from learntrace.plans.models import LearningPlan, PeriodType, PlanPeriod

    management = Category.objects.create(code="bench-management", name="管理", name_en="Management")
    courses = [Course.objects.create(title=f"管理课程 {n}", kind=CourseKind.VIDEO, category=management,
                                     duration_seconds=3600, is_published=True) for n in range(1, 5)]
    strategy = Course.objects.create(title="战略管理", kind=CourseKind.VIDEO, category=management,
                                     duration_seconds=3600, completion_threshold=95, is_published=True)
    plan = LearningPlan.objects.create(name="管理人员每月 8 学时", period_type=PeriodType.MONTHLY,
                                       status=LearningPlan.Status.PUBLISHED, starts_on=dt.date(YEAR, 1, 1),
                                       due_day=25, min_total_seconds=TARGET_SECONDS)
    rule = Rule.objects.create(plan=plan, name="每月学时")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="管理津贴")
    periods = []
    for month in range(1, 13):
        starts = start_of_day(dt.date(YEAR, month, 1))
        ends = start_of_day(dt.date(YEAR + month // 12, month % 12 + 1, 1))
        periods.append(PlanPeriod.objects.create(plan=plan, starts_at=starts, ends_at=ends,
                                                 due_at=start_of_day(dt.date(YEAR, month, 26)),
                                                 targets=plan.targets_snapshot()))
    return {"plan": plan.pk, "category": management.pk, "courses": [c.pk for c in courses],
            "strategy": strategy.pk, "periods": [p.pk for p in periods]}


def whole_organisation(ids: dict) -> None:
    """The plan is for everyone under the root (without an audience the worker's roll-over would
    mark every assignment of the open period as left)."""
    from learntrace.plans.models import PlanDepartment

    PlanDepartment.objects.get_or_create(plan_id=ids["plan"], department_id=ids["root"])


def _without_secondary_indexes(table: str, load) -> None:
    """Bulk loads go faster without the secondary indexes; they are rebuilt afterwards, as defined."""
    with connection.cursor() as cursor:
        cursor.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
                          WHERE i.tablename = %s AND NOT EXISTS (
                              SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""", [table])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # The rows are consistent by construction: skip the per-row foreign-key triggers while loading.
        cursor.execute("SET session_replication_role = replica")
    try:
        load()
    finally:
        execute("SET session_replication_role = origin")
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {table}")


def _facts(ids: dict) -> None:
    courses = ids["courses"]
    sessions = mix("e.id", "p.n", "7", 17)  # 0..16 sessions a month
    seconds = f"1800 + {mix('e.id', 'p.n', 's', 1801)}"
    day = mix("e.id", "s", "p.n", 26)
    second_of_day = f"8 * 3600 + {mix('s', 'e.id', '3', 10 * 3600)}"
    course = f"(ARRAY{courses}::bigint[])[1 + {mix('e.id', 's', '11', len(courses))}]"

    def load():
        execute(f"""
            INSERT INTO records_creditedtime (employee_id, course_id, kind, category_id, seconds, occurred_at, source,
                                              recorded_at, details)
            SELECT e.id, {course}, {KIND_CODES['video']}, %s, {seconds},
                   p.starts_at + ({day}) * interval '1 day' + ({second_of_day}) * interval '1 second',
                   {SOURCE_CODES['tracking']}, now(), '{{}}'::jsonb
            FROM org_employee e
            CROSS JOIN (SELECT id, starts_at, row_number() OVER (ORDER BY starts_at) AS n FROM plans_planperiod
                        WHERE plan_id = %s) p
            CROSS JOIN LATERAL generate_series(1, {sessions}) s""", [ids["category"], ids["plan"]])

    _without_secondary_indexes("records_creditedtime", load)
    sums.rebuild()  # loaded with the triggers off
    execute("ANALYZE records_creditedhour")


def _assignments_and_standings(ids: dict) -> None:
    _without_secondary_indexes("plans_assignment", lambda: execute(
        """INSERT INTO plans_assignment (period_id, employee_id, joined_at)
           SELECT p.id, e.id, p.starts_at FROM plans_planperiod p CROSS JOIN org_employee e
           WHERE p.plan_id = %s""", [ids["plan"]]))
    consequence = '[{"name": "管理津贴", "kind": "flag", "applies_to": "non_compliant", "eligible": false}]'

    def load():
        execute(f"""
            WITH totals AS (
                SELECT c.employee_id, p.id AS period_id, sum(c.seconds) AS seconds, max(c.occurred_at) AS last_at
                FROM records_creditedtime c
                JOIN plans_planperiod p ON p.plan_id = %(plan)s AND c.occurred_at >= p.starts_at
                                       AND c.occurred_at < p.ends_at
                GROUP BY c.employee_id, p.id)
            INSERT INTO compliance_standing (
                assignment_id, plan_id, period_id, employee_id, department_id, department_path, period_starts_at,
                joined_at, video_seconds, document_seconds, offline_seconds, live_seconds, total_seconds,
                target_seconds, owed_seconds, required_total, required_done, credits, credits_year,
                reflection_status, complete, completed_at, missing, compliant, consequences, score, recognitions,
                evaluated_at, refreshed_at, changed_at, quizzes_required, quizzes_passed, joined_after_due)
            SELECT a.id, p.plan_id, p.id, e.id, e.department_id, d.path, p.starts_at, a.joined_at,
                   coalesce(t.seconds, 0), 0, 0, 0, coalesce(t.seconds, 0), {TARGET_SECONDS},
                   greatest({TARGET_SECONDS} - coalesce(t.seconds, 0), 0), 0, 0, 0, 0, '',
                   coalesce(t.seconds, 0) >= {TARGET_SECONDS},
                   CASE WHEN coalesce(t.seconds, 0) >= {TARGET_SECONDS} THEN t.last_at END,
                   CASE WHEN coalesce(t.seconds, 0) >= {TARGET_SECONDS} THEN '[]'::jsonb
                        ELSE jsonb_build_array(jsonb_build_object(
                            'what', 'hours', 'kind', 'total',
                            'owed', {TARGET_SECONDS} - coalesce(t.seconds, 0))) END,
                   coalesce(t.seconds, 0) >= {TARGET_SECONDS},
                   CASE WHEN coalesce(t.seconds, 0) >= {TARGET_SECONDS} THEN '[]'::jsonb
                        ELSE '{consequence}'::jsonb END,
                   0, '[]'::jsonb, p.due_at, now(), now(), 0, 0, false
            FROM plans_assignment a
            JOIN plans_planperiod p ON p.id = a.period_id
            JOIN org_employee e ON e.id = a.employee_id
            JOIN org_department d ON d.id = e.department_id
            LEFT JOIN totals t ON t.employee_id = a.employee_id AND t.period_id = a.period_id
            WHERE p.plan_id = %(plan)s
            -- Period by period, as the worker creates them when each period opens.
            ORDER BY p.starts_at, d.path, e.id""", {"plan": ids["plan"]})

    _without_secondary_indexes("compliance_standing", load)


def _period_figures(ids: dict) -> None:
    """The per-department sums the worker keeps after each refresh (what organisation-wide reports read)."""
    from learntrace.compliance.services import roll_up
    from learntrace.plans.models import PlanPeriod

    roll_up(PlanPeriod.objects.filter(plan_id=ids["plan"]).values_list("pk", flat=True))


def _viewers(ids: dict, viewers: int) -> None:
    """Where each viewer stopped: the sum of two uniform draws, so most stop around the middle of the
    hour (30 minutes on average) and few watch to the end; a fifth of those who stopped before 50
    minutes skipped ahead to watch the last ten; a quarter watched ten minutes twice."""
    stop = f"60000 + {mix('e.id', '5', '13', 1770001)} + {mix('e.id', '17', '19', 1770001)}"
    execute(f"""
        INSERT INTO records_courseprogress (employee_id, course_id, first_started_at, last_activity_at, credited_ms,
                                            intervals, covered_ms, played_ms, last_position_ms)
        SELECT e.id, %s, timestamp with time zone '{YEAR}-03-02 09:00+08',
               timestamp with time zone '{YEAR}-03-02 10:00+08',
               v.covered_ms, v.intervals, v.covered_ms, v.covered_ms + v.again_ms, v.stop_ms
        FROM (SELECT id FROM org_employee ORDER BY id LIMIT %s) e
        CROSS JOIN LATERAL (SELECT {stop} AS stop_ms) s
        CROSS JOIN LATERAL (
            SELECT s.stop_ms,
                   CASE WHEN tail THEN s.stop_ms + 600000 ELSE s.stop_ms END AS covered_ms,
                   CASE WHEN mod(e.id, 4) = 0 THEN 600000 ELSE 0 END AS again_ms,
                   CASE WHEN tail THEN jsonb_build_array(jsonb_build_array(0, s.stop_ms),
                                                         jsonb_build_array(3000000, 3600000))
                        ELSE jsonb_build_array(jsonb_build_array(0, s.stop_ms)) END AS intervals
            FROM (SELECT mod(e.id, 5) = 0 AND s.stop_ms < 3000000 AS tail) t) v""",
            [ids["strategy"], viewers])
    execute("ANALYZE records_courseprogress")


def generate(people: int, viewers: int) -> dict:
    timings = {}
    started = time.perf_counter()
    ids = _organisation(people)
    ids.update(_plan_and_courses())
    whole_organisation(ids)
    timings["organisation_s"] = time.perf_counter() - started
    for name, step in (("facts_s", lambda: _facts(ids)), ("standings_s", lambda: _assignments_and_standings(ids)),
                       ("period_figures_s", lambda: _period_figures(ids)),
                       ("viewers_s", lambda: _viewers(ids, min(viewers, people)))):
        began = time.perf_counter()
        step()
        timings[name] = time.perf_counter() - began
    execute("ANALYZE")
    timings["total_s"] = time.perf_counter() - started
    counts = {"people": scalar("SELECT count(*) FROM org_employee"),
              "facts": scalar("SELECT count(*) FROM records_creditedtime"),
              "standings": scalar("SELECT count(*) FROM compliance_standing"),
              "viewers": scalar("SELECT count(*) FROM records_courseprogress"),
              "complete_share": float(scalar("SELECT avg(complete::int) FROM compliance_standing")),
              "strategy_watched_share": float(scalar(
                  "SELECT avg(covered_ms) / 3600000.0 FROM records_courseprogress WHERE course_id = %s",
                  [ids["strategy"]]))}
    return {"ids": ids, "timings": timings, "counts": counts}
