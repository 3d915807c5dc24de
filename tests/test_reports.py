"""Reports: figures against hand-computed fixtures (see reports_fixtures.py), the retention curve,
exports read back, background export jobs, and scoping of department heads."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from openpyxl import load_workbook

from learntrace.catalog.models import Course, CourseKind
from learntrace.records.models import CourseProgress
from learntrace.reports import selectors, services
from learntrace.reports.models import ExportJob
from learntrace.reports.selectors import Filters, Scope
from reports_fixtures import HOUR, at, hospital_month

EVERYONE = Scope(everyone=True)


@pytest.fixture
def month(org, catalog):
    return hospital_month(org, catalog)


def march(**fields) -> Filters:
    return Filters(month=dt.date(2026, 3, 1), **fields)


def test_march_in_figures(org, month):
    rows = selectors.standings(EVERYONE, march())
    total = selectors.summary(rows)
    assert (total.people, total.complete, total.percent) == (6, 2, 33.3)
    assert (total.done_seconds, total.target_seconds, total.hours_percent) == (5.5 * HOUR, 12 * HOUR, 45.8)
    assert total.owed_seconds == 6.5 * HOUR
    assert (total.compliant, total.evaluated) == (2, 6)
    assert [(b.label, b.people) for b in selectors.hours_histogram(rows) if b.people] == [
        ("0–1", 3), ("1–2", 1), ("2–3", 2)]
    parts = selectors.by_department(rows, selectors.department_focus(EVERYONE, march()))
    assert [(r.label, r.people, r.complete, r.percent) for r in parts] == [
        ("Human resources", 2, 0, 0.0), ("Internal medicine", 2, 1, 50.0), ("Surgery", 2, 1, 50.0)]
    assert [(r.label, r.people, r.complete) for r in selectors.by_plan(rows)] == [("Monthly 2 hours", 6, 2)]


def test_a_month_without_facts_and_the_trend(org, month):
    february = selectors.summary(selectors.standings(EVERYONE, Filters(month=dt.date(2026, 2, 1))))
    assert (february.people, february.complete, february.done_seconds, february.owed_seconds) == (5, 0, 0, 10 * HOUR)
    trend = selectors.by_month(selectors.standings(EVERYONE, march(), with_month=False))
    assert [(r.label, r.people, r.complete, r.percent) for r in trend] == [
        ("2026-02", 5, 0, 0.0), ("2026-03", 6, 2, 33.3)]


def test_the_newcomer_counts_from_the_day_they_joined(org, month):
    newcomer = selectors.standings(EVERYONE, march()).get(employee=month.newcomer)
    assert newcomer.joined_at == at(2026, 3, 15, 9)
    assert (newcomer.total_seconds, newcomer.owed_seconds, newcomer.complete) == (HOUR, HOUR, False)
    assert not selectors.standings(EVERYONE, Filters(month=dt.date(2026, 2, 1))).filter(
        employee=month.newcomer).exists()


def test_filters_narrow_every_figure(org, month):
    assert selectors.summary(selectors.standings(EVERYONE, march(department=org.b))).people == 2
    assert selectors.summary(selectors.standings(EVERYONE, march(level="manager"))).people == 1
    assert selectors.summary(selectors.standings(EVERYONE, march(status="complete"))).people == 2
    assert selectors.summary(selectors.standings(EVERYONE, march(status="non_compliant"))).people == 4
    head_scope = Scope(everyone=False, paths=(org.a.path,))
    mine = selectors.standings(head_scope, march())
    assert set(mine.values_list("employee__employee_no", flat=True)) == {"H001", "E001"}
    parts = selectors.by_department(mine, selectors.department_focus(head_scope, march()))
    assert [(r.label, r.percent) for r in parts] == [("Internal medicine", 0.0), ("Cardiology", 100.0)]


# ---------------------------------------------------------------- courses and retention


def test_retention_curve_from_hand_made_intervals(org, catalog):
    course = Course.objects.create(title="Hundred seconds", kind=CourseKind.VIDEO, category=catalog.management,
                                   duration_seconds=100)
    viewers = [(org.head, [[0, 50_000]]), (org.learner, [[0, 10_000], [90_000, 100_000]]),
               (org.outsider, []), (org.admin, [[0, 1_400]])]
    for employee, intervals in viewers:
        CourseProgress.objects.create(employee=employee, course=course, first_started_at=at(2026, 3, 1),
                                      last_activity_at=at(2026, 3, 1), intervals=intervals)
    curve = selectors.retention_curve(CourseProgress.objects.filter(course=course), 100)
    assert curve.viewers == 4
    assert curve.shares[0] == 75.0  # head, learner and the admin's first 1.4 s (the middle of step 0 is 0.5 s)
    assert curve.shares[1] == curve.shares[9] == 50.0
    assert curve.shares[10] == curve.shares[49] == 25.0
    assert curve.shares[50] == curve.shares[89] == 0.0
    assert curve.shares[90] == curve.shares[99] == 25.0
    assert curve.drop_off_percent == 10


def test_course_analytics_flag_a_course_watched_half_way(org, catalog, settings, client_for):
    settings.REPORTS_LOW_WATCH_SHARE = 60
    strategy = Course.objects.create(title="战略管理", kind=CourseKind.VIDEO, category=catalog.management,
                                     duration_seconds=HOUR, completion_threshold=90)
    # Two viewers stop at 20 and 40 minutes; the second watched its first ten minutes twice.
    for employee, minutes, played in ((org.head, 20, 20), (org.learner, 40, 50)):
        CourseProgress.objects.create(employee=employee, course=strategy, first_started_at=at(2026, 3, 2),
                                      last_activity_at=at(2026, 3, 2), intervals=[[0, minutes * 60_000]],
                                      covered_ms=minutes * 60_000, credited_ms=minutes * 60_000,
                                      played_ms=played * 60_000)
    CourseProgress.objects.create(employee=org.outsider, course=catalog.clinical_video, first_started_at=at(2026, 3, 2),
                                  last_activity_at=at(2026, 3, 2), intervals=[[0, HOUR * 1000]],
                                  covered_ms=HOUR * 1000, credited_ms=HOUR * 1000, played_ms=HOUR * 1000,
                                  completed_at=at(2026, 3, 2))
    figures = {f.course.title: f for f in selectors.course_analytics(EVERYONE, Filters())}
    flagged = figures["战略管理"]
    assert (flagged.viewers, flagged.avg_covered_seconds, flagged.watched_share_percent) == (2, 1800, 50.0)
    assert (flagged.avg_credited_seconds, flagged.required_seconds) == (1800, 3240)
    assert (flagged.completion_percent, flagged.repeat_percent, flagged.flagged) == (0.0, 50.0, True)
    sepsis = figures["Sepsis update"]
    assert (sepsis.completion_percent, sepsis.watched_share_percent, sepsis.flagged) == (100.0, 100.0, False)
    head_only = selectors.course_analytics(Scope(everyone=False, paths=(org.a.path,)), Filters())
    assert [(f.course.title, f.viewers) for f in head_only] == [("战略管理", 2)]

    page = client_for(org.head).get(reverse("reports:course", args=[strategy.pk]), {"period": "all"})
    # Both watched the first 20 minutes (to 33 %), one of them the next 20: nobody is left after 66 %.
    assert b"below 60%" in page.content and b"at 67%" in page.content
    courses = client_for(org.head).get(reverse("reports:courses"), {"period": "all"}).content.decode()
    # The outsider's viewing is not the head's to see.
    assert f'data-course="{strategy.pk}"' in courses and f'data-course="{catalog.clinical_video.pk}"' not in courses


# ---------------------------------------------------------------- exports


PEOPLE_MARCH = [
    # number, name, department, period, completion time, credited watch (h), offline (h), owed (h), compliant
    ["A001", "Training admin", "Human resources", "2026-03", "", 0.0, 0.0, 2.0, "no"],
    ["E001", "Learner in cardiology", "Cardiology", "2026-03", "2026-03-09 14:00", 1.5, 1.0, 0.0, "yes"],
    ["E002", "Outsider in surgery", "Surgery", "2026-03", "2026-03-04 10:00", 2.0, 0.0, 0.0, "yes"],
    ["E003", "Newcomer in surgery", "Surgery", "2026-03", "", 1.0, 0.0, 1.0, "no"],
    ["H001", "Head of medicine", "Internal medicine", "2026-03", "", 0.5, 0.0, 1.5, "no"],
    ["U001", "Auditor", "Human resources", "2026-03", "", 0.0, 0.0, 2.0, "no"],
]

PERSON_HEADER = [
    "employee number", "name", "department", "position", "level", "plan", "period", "entered the plan",
    "completion time", "credited watch time (h)", "total watch time, repeats included (h)", "offline hours",
    "live hours", "total hours", "target hours", "owed hours", "required courses", "required courses done",
    "credits", "complete", "compliant", "consequences", "score", "what is owed"]


def picked(row: list) -> list:
    completed = row[8]
    if isinstance(completed, dt.datetime):
        completed = f"{completed:%Y-%m-%d %H:%M}"
    return [row[0], row[1], row[2], row[6], completed or "", float(row[9]), float(row[11]), float(row[15]),
            row[20]]


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def by_number(rows):
    return sorted(rows, key=lambda row: row[0])


def test_per_person_export_as_csv_and_xlsx(org, month, client_for):
    client = client_for(org.admin)
    response = client.get(reverse("reports:export", args=["people", "csv"]), {"period": "2026-03"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = read_csv(response)
    assert header == PERSON_HEADER
    assert by_number([picked(r) for r in rows]) == PEOPLE_MARCH
    newcomer = next(r for r in rows if r[0] == "E003")
    assert newcomer == ["E003", "Newcomer in surgery", "Surgery", "", "Staff", "Monthly 2 hours", "2026-03",
                        "2026-03-15 09:00", "", "1.0", "0.0", "0.0", "0.0", "1.0", "2.0", "1.0", "0", "0",
                        "0.0", "no", "no", "Management allowance; Performance", "-5.0", "1.0 h in total"]

    response = client.get(reverse("reports:export", args=["people", "xlsx"]), {"period": "2026-03"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    header_x, *rows_x = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header_x == header
    assert by_number([picked(r) for r in rows_x]) == PEOPLE_MARCH
    # Spreadsheets hold local times without a zone.
    assert next(r for r in rows_x if r[0] == "E002")[8] == at(2026, 3, 4, 10).replace(tzinfo=None)


def test_the_per_person_export_splits_live_hours_from_watching_and_counts_required_courses(org, month,
                                                                                          client_for):
    # A live session and required courses, as the worker would have counted them.
    month.march.standings.filter(employee=org.learner).update(
        live_seconds=HOUR // 2, total_seconds=3 * HOUR, required_total=2, required_done=1)
    response = client_for(org.admin).get(reverse("reports:export", args=["people", "xlsx"]), {"period": "2026-03"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    learner = next(list(r) for r in sheet.iter_rows(values_only=True) if r[0] == "E001")
    assert learner[4:8] == ["Manager", "Monthly 2 hours", "2026-03", at(2026, 3, 2, 9).replace(tzinfo=None)]
    # credited watch, total watch, offline, live, total, target, owed hours; required courses and done
    assert learner[9:18] == [1.5, 0.0, 1.0, 0.5, 3.0, 2.0, 0.0, 2, 1]
    assert learner[19:21] == ["yes", "yes"] and learner[22] == 5.0


def test_every_report_exports(org, month, client_for):
    client = client_for(org.admin)
    for report, expected in (("plans", [["Monthly 2 hours", "6", "2", "33.3"]]),
                             ("months", [["2026-02", "5", "0", "0.0"], ["2026-03", "6", "2", "33.3"]]),
                             ("hours", None), ("departments", None), ("courses", None), ("meetings", None),
                             ("anomalies", None), ("non_completers", None)):
        response = client.get(reverse("reports:export", args=[report, "csv"]), {"period": "2026-03"})
        assert response.status_code == 200, report
        header, *rows = read_csv(response)
        if expected:
            assert [row[:4] for row in rows] == expected, report
    header, *rows = read_csv(client.get(reverse("reports:export", args=["non_completers", "csv"]),
                                        {"period": "2026-03"}))
    assert sorted(r[0] for r in rows) == ["A001", "E003", "H001", "U001"]


def test_a_large_export_runs_in_the_background_for_its_requester_only(
        org, month, client_for, settings, django_capture_on_commit_callbacks):
    settings.REPORTS_DIRECT_EXPORT_ROWS = 3
    client = client_for(org.head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("reports:export", args=["people", "xlsx"]), {"period": "all"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reports:export_job", args=[job.pk])
    state = client.get(reverse("reports:export_job_state", args=[job.pk])).json()
    assert state["status"] == "done" and state["percent"] == 100
    download = client.get(state["download_url"])
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True).active
    numbers = sorted(row[0] for row in list(sheet.iter_rows(values_only=True))[1:])
    assert numbers == ["E001", "E001", "H001", "H001"]  # February and March, the head's subtree only

    other = client_for(org.admin)
    for name in ("export_job", "export_job_state", "export_download"):
        assert other.get(reverse(f"reports:{name}", args=[job.pk])).status_code == 404
    stored = ExportJob.objects.get().stored_path
    assert stored == f"exports/{job.pk}.xlsx" and default_storage.exists(stored)

    services.delete_expired_exports(now=job.created_at + dt.timedelta(hours=23))
    assert ExportJob.objects.exists()
    services.delete_expired_exports(now=job.created_at + dt.timedelta(hours=25))
    assert not ExportJob.objects.exists() and not default_storage.exists(stored)


def test_an_export_whose_file_is_gone_answers_404_with_the_reason(
        org, month, client_for, settings, django_capture_on_commit_callbacks):
    settings.REPORTS_DIRECT_EXPORT_ROWS = 3
    client = client_for(org.head)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("reports:export", args=["people", "csv"]), {"period": "all"})
    job = ExportJob.objects.get()
    default_storage.delete(job.stored_path)  # cleaned up by hand
    response = client.get(reverse("reports:export_download", args=[job.pk]))
    assert response.status_code == 404
    assert "This export&#x27;s file is no longer on this server: it may have expired. Please export again." \
        in response.text


def test_a_head_never_reads_another_subtree(org, month, client_for):
    client = client_for(org.head)
    page = client.get(reverse("reports:dashboard"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Head of medicine" in text and "Outsider in surgery" not in text and "Newcomer in surgery" not in text
    for url in (reverse("reports:dashboard"), reverse("reports:people"),
                reverse("reports:export", args=["people", "csv"])):
        refused = client.get(url, {"department": org.b.pk})
        assert refused.status_code == 400 and b"not one you may read" in refused.content
    header, *rows = read_csv(client.get(reverse("reports:export", args=["people", "csv"]), {"period": "all"}))
    assert {row[0] for row in rows} == {"H001", "E001"}
    people = client.get(reverse("reports:people"), {"period": "all"}).content.decode()
    assert "E001" in people and "E002" not in people and "A001" not in people


def test_learners_and_strangers_are_kept_out(org, month, client, client_for):
    assert client.get(reverse("reports:dashboard")).status_code == 302
    learner = client_for(org.learner)
    for url in (reverse("reports:dashboard"), reverse("reports:courses"),
                reverse("reports:export", args=["people", "csv"])):
        assert learner.get(url).status_code == 403


def test_pages_in_both_languages(org, month, client_for):
    page = client_for(org.admin, "zh-hans").get(reverse("reports:dashboard"))
    text = page.content.decode()
    assert "各部门完成率" in text and "33.3%" in text
    header, *rows = read_csv(client_for(org.admin, "zh-hans").get(reverse("reports:export", args=["people", "csv"])))
    assert header[:5] == ["工号", "姓名", "部门", "职位", "职级"]
    assert header[12:14] == ["直播学时", "总学时"] and header[17] == "已完成必修课程"
    assert sorted(row[20] for row in rows) == ["否", "否", "否", "否", "是", "是"]  # compliant, in Chinese
    english = client_for(org.admin, "en").get(reverse("reports:dashboard")).content.decode()
    assert "Completion by department" in english
    for name in ("people", "courses"):
        assert client_for(org.admin).get(reverse(f"reports:{name}")).status_code == 200


def test_suspicions_and_meetings_of_the_week_are_the_heads_people_only(org, catalog):
    from django.utils import timezone

    from learntrace.checkin.models import Attendance, CheckInEvent, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward rounds", starts_at=now,
                                     ends_at=now + dt.timedelta(hours=1), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.learner, org.outsider, org.head])
    Attendance.objects.create(meeting=meeting, employee=org.learner, status="on_time", checked_in_at=now,
                              method="scan")
    Attendance.objects.create(meeting=meeting, employee=org.outsider, status="late", checked_in_at=now,
                              method="scan")
    for person in (org.learner, org.outsider):
        CheckInEvent.objects.create(meeting=meeting, employee=person, kind=CheckInEvent.Kind.REFUSED,
                                    reason="window", at=now)
    head = Scope(everyone=False, paths=(org.a.path,))
    assert [e.employee for e in selectors.anomalies(head)["refusals"]] == [org.learner]
    assert len(list(selectors.anomalies(EVERYONE)["refusals"])) == 2
    [mine] = selectors.meetings_this_week(head, now=now)
    assert (mine.expected, mine.present, mine.percent) == (2, 1, 50.0)  # the head and the learner expected
    [everyone] = selectors.meetings_this_week(EVERYONE, now=now)
    assert (everyone.expected, everyone.present, everyone.percent) == (3, 2, 66.7)


def test_the_per_department_sums_give_the_figures_of_the_standings(org, month):
    """Reports without a level, course or status read compliance's per-department sums: the same
    groups as the standings, for everyone and for a head, every month."""
    head = Scope(everyone=False, paths=(org.a.path,))
    for scope in (EVERYONE, head):
        for filters in (march(), Filters(month=dt.date(2026, 2, 1)), march(department=org.a1), Filters()):
            summed = selectors.FigureGroups.of(scope, filters).groups
            counted = selectors.FigureGroups(selectors.standings(scope, filters)).groups
            key = lambda group: (group["plan_id"], group["department_path"])  # noqa: E731
            assert sorted(summed, key=key) == sorted(counted, key=key)
        assert [vars(r) for r in selectors.trend(scope, Filters())] == \
            [vars(r) for r in selectors.by_month(selectors.standings(scope, Filters(), with_month=False))]
    # A level narrows to people: the standings answer.
    assert selectors.summary(selectors.FigureGroups.of(EVERYONE, march(level="manager"))).people == \
        selectors.standings(EVERYONE, march(level="manager")).count()


def _owing_most(scope: Scope, filters: Filters, limit: int) -> list:
    """Who owes most, as one sort of every standing the filters allow (what the dashboard read before)."""
    return list(selectors.standings(scope, filters).filter(complete=False, joined_after_due=False)
                .order_by(*selectors.NON_COMPLETERS_ORDER).values_list("pk", flat=True)[:limit])


@pytest.mark.parametrize("apart", [selectors.PERIODS_READ_APART, 1])
def test_non_completers_read_period_by_period_are_those_who_owe_most(org, month, monkeypatch, apart):
    # February and March, each read apart and merged (or, past PERIODS_READ_APART, sorted together).
    monkeypatch.setattr(selectors, "PERIODS_READ_APART", apart)
    head = Scope.of(org.head.user)
    cases = [(EVERYONE, Filters()), (EVERYONE, march()), (EVERYONE, Filters(month=dt.date(2026, 2, 1))),
             (head, Filters()), (EVERYONE, Filters(status=selectors.COMPLETE))]
    for scope, filters in cases:
        for limit in (1, 3, 20):
            expected = _owing_most(scope, filters, limit)
            found = selectors.first_non_completers(selectors.standings(scope, filters, with_month=False),
                                                   selectors.report_periods(filters), limit=limit)
            assert [s.pk for s in found] == expected
    everyone = selectors.first_non_completers(selectors.standings(EVERYONE, Filters(), with_month=False),
                                              selectors.report_periods(Filters()))
    assert len({s.period_id for s in everyone}) == 2 and len(everyone) == 9
    assert [s.owed_seconds for s in everyone] == sorted((s.owed_seconds for s in everyone), reverse=True)
