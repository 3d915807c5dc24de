"""People who join during a period: the plan's joiner policy in the figures, the verdicts, the
department outcomes, the sums, reminders, pages, exports and the API."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from conftest import make_employee
from learntrace.compliance import services
from learntrace.compliance.models import Consequence, DepartmentOutcome, PeriodFigures, Rule, Standing
from learntrace.compliance.selectors import verdict
from learntrace.notify.models import Delivery
from learntrace.notify.services import run_reminders
from learntrace.org.models import Employee, Level
from learntrace.plans import services as plan_services
from learntrace.plans.models import JoinerPolicy, LearningPlan
from learntrace.records.services import record_credited_time
from notify_helpers import reminder_plan
from test_api import call, token_for  # noqa: F401 - the fixture
from test_compliance import HOUR, at, monthly_plan, period_of, standing, watch
from test_notify_reminders import schedule_for
from test_plan_pages import plan_form


def department_bonus_rule(plan) -> Rule:
    """Hours every month; a department with any member who misses loses 5 % of its bonus."""
    rule = Rule.objects.create(plan=plan, name="Monthly hours")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Management allowance")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="percent", name="Department bonus",
                               value=-5, level="department")
    return rule


def hire(org, number, *, hire_date=None, on=None, level=Level.STAFF):
    """A new person in cardiology, entered into the system at `on` (default: the hire day, 9:00)."""
    on = on or at(hire_date.year, hire_date.month, hire_date.day, 9)
    employee = make_employee(number, f"New {number}", org.a1, hire_date=hire_date, level=level)
    Employee.objects.filter(pk=employee.pk).update(created_at=on)
    employee.refresh_from_db()
    plan_services.sync_employee(employee=employee, now=on)
    return employee


@pytest.fixture
def judged_march(org, catalog):
    """The default policy; March judged on the 26th: the learner complied, the outsider did not."""
    plan = monthly_plan(org, catalog)
    department_bonus_rule(plan)
    watch(org.learner, catalog.video, 2, at(2026, 3, 3, 10))
    watch(org.outsider, catalog.video, 1, at(2026, 3, 4, 10))
    services.refresh_changed(now=at(2026, 3, 26, 0, 1))
    services.process_periods(now=at(2026, 3, 26, 0, 5))
    return plan


def test_someone_hired_after_the_due_day_is_not_judged_and_costs_the_department_nothing(org, catalog, judged_march):
    plan = judged_march
    cardiology = DepartmentOutcome.objects.get(period=period_of(plan, 3), department=org.a1)
    assert (cardiology.members, cardiology.non_compliant, cardiology.consequences) == (1, 0, [])

    newcomer = hire(org, "E010", hire_date=dt.date(2026, 3, 27))
    services.refresh_changed(now=at(2026, 3, 27, 9, 1))  # judged again incrementally: only who changed

    theirs = standing(plan, newcomer, 3)
    assert (theirs.joined_after_due, theirs.compliant, theirs.consequences, theirs.score) == (True, None, [], 0)
    assert theirs.evaluated_at == at(2026, 3, 27, 9, 1)
    assert theirs.missing == [{"what": "hours", "kind": "total", "owed": 2 * HOUR}]  # still shown as owed
    assert verdict(theirs) == "not judged (joined after the due day)"
    cardiology = DepartmentOutcome.objects.get(period=period_of(plan, 3), department=org.a1)
    assert (cardiology.members, cardiology.non_compliant, cardiology.consequences) == (1, 0, [])
    figures = PeriodFigures.objects.get(period=period_of(plan, 3), department=org.a1)
    assert (figures.people, figures.complete, figures.evaluated, figures.target_seconds, figures.owed_seconds,
            figures.h0) == (1, 1, 1, 2 * HOUR, 0, 0)

    # A whole judgement gives the same outcome as the incremental one.
    before = list(Standing.objects.filter(period=period_of(plan, 3)).order_by("pk").values_list(
        "employee_id", "compliant", "consequences", "score"))
    services.evaluate_period(period_of(plan, 3), now=at(2026, 3, 27, 10))
    assert list(Standing.objects.filter(period=period_of(plan, 3)).order_by("pk").values_list(
        "employee_id", "compliant", "consequences", "score")) == before

    # April is theirs in full: judged like everyone else at its due day.
    plan_services.roll_over(now=at(2026, 4, 1, 0, 1))
    services.refresh_changed(now=at(2026, 4, 26, 0, 1))
    services.process_periods(now=at(2026, 4, 26, 0, 5))
    april = standing(plan, newcomer, 4)
    assert (april.joined_after_due, april.compliant) == (False, False)
    assert DepartmentOutcome.objects.get(period=period_of(plan, 4), department=org.a1).non_compliant == 2


def test_without_a_hire_date_the_day_the_record_was_created_counts_within_the_period(org, catalog, judged_march):
    plan = judged_march
    imported = hire(org, "E011", on=at(2026, 3, 27, 14))  # imported on the 27th, no hire date given
    services.refresh_changed(now=at(2026, 3, 27, 15))
    assert standing(plan, imported, 3).joined_after_due is True
    assert standing(plan, imported, 3).compliant is None

    # Entered before the due day: judged as anyone.
    early = hire(org, "E012", on=at(2026, 3, 25, 8))
    services.refresh_changed(now=at(2026, 3, 27, 15, 1))
    assert (standing(plan, early, 3).joined_after_due, standing(plan, early, 3).compliant) == (False, False)


def test_a_record_entered_after_the_period_closed_is_judged_in_it(org, catalog):
    """A first import or a history import: the record's date says nothing about when they joined."""
    plan = monthly_plan(org, catalog)
    Employee.objects.filter(pk=org.outsider.pk).update(created_at=at(2026, 4, 3, 9))
    services.refresh_changed(now=at(2026, 3, 26, 0, 1))
    services.process_periods(now=at(2026, 3, 26, 0, 5))
    assert (standing(plan, org.outsider, 3).joined_after_due, standing(plan, org.outsider, 3).compliant) == \
        (False, False)


def test_a_hire_date_corrected_later_is_followed(org, catalog, judged_march):
    plan = judged_march
    Employee.objects.filter(pk=org.outsider.pk).update(hire_date=dt.date(2026, 3, 26))
    services.refresh_open(now=at(2026, 3, 28, 9))
    outsider = standing(plan, org.outsider, 3)
    assert (outsider.joined_after_due, outsider.compliant, outsider.consequences) == (True, None, [])
    surgery = DepartmentOutcome.objects.filter(period=period_of(plan, 3), department=org.b)
    assert not surgery.exists()  # nobody judged is left in surgery


@pytest.mark.parametrize("hired,judged", [(dt.date(2026, 3, 20), True), (dt.date(2026, 3, 21), False)])
def test_grace_days_leave_recent_joiners_unjudged(org, catalog, hired, judged):
    plan = monthly_plan(org, catalog, joiner_policy=JoinerPolicy.GRACE, joiner_grace_days=5)
    newcomer = hire(org, "E020", hire_date=hired)
    services.refresh_changed(now=at(2026, 3, 26, 0, 1))
    services.process_periods(now=at(2026, 3, 26, 0, 5))
    theirs = standing(plan, newcomer, 3)
    assert theirs.joined_after_due is not judged
    assert theirs.compliant is (False if judged else None)


def test_a_prorated_target_counts_the_days_employed_in_the_period(org, catalog):
    plan = monthly_plan(org, catalog, joiner_policy=JoinerPolicy.PRORATED)
    newcomer = hire(org, "E030", hire_date=dt.date(2026, 3, 17))  # 15 of March's 31 days
    late = hire(org, "E031", hire_date=dt.date(2026, 3, 28))  # 4 of 31, after the due day: still judged
    watch(newcomer, catalog.video, 1, at(2026, 3, 18, 10))
    services.refresh_changed(now=at(2026, 3, 28, 9, 1))
    services.process_periods(now=at(2026, 3, 28, 9, 5))

    theirs = standing(plan, newcomer, 3)
    assert theirs.target_seconds == 2 * HOUR * 15 // 31 == 3483
    assert (theirs.complete, theirs.compliant, theirs.owed_seconds) == (True, True, 0)
    lates = standing(plan, late, 3)
    assert (lates.target_seconds, lates.owed_seconds, lates.joined_after_due, lates.compliant) == \
        (929, 929, False, False)
    assert standing(plan, org.outsider, 3).target_seconds == 2 * HOUR  # hired before: the whole target


def test_a_period_keeps_the_policy_it_opened_with(org, catalog):
    plan = monthly_plan(org, catalog)
    assert period_of(plan, 3).targets["joiner_policy"] == "next_period"
    assert period_of(plan, 3).targets["joiner_grace_days"] == 0


def test_pages_exports_and_the_api_say_not_judged(org, catalog, judged_march, client_for,
                                                  token_for):  # noqa: F811
    plan = judged_march
    newcomer = hire(org, "E010", hire_date=dt.date(2026, 3, 27))
    services.refresh_changed(now=at(2026, 3, 27, 9, 1))
    march = period_of(plan, 3)
    with time_machine.travel(at(2026, 3, 28, 9), tick=False):
        head = client_for(org.head)
        team = head.get(reverse("plans:team")).text
        row = team[team.index('data-employee="E010"'):].split("</tr>")[0]
        assert "not judged (joined after the due day)" in row
        mine = client_for(newcomer).get(reverse("plans:my")).text
        assert "not judged (joined after the due day)" in mine and "overdue" not in mine
        head = client_for(org.head)
        outcomes = head.get(reverse("compliance:outcomes"), {"plan": plan.pk, "period": march.pk}).text
        row = outcomes[outcomes.index(newcomer.name):].split("</tr>")[0]
        assert "not judged (joined after the due day)" in row
        people = head.get(reverse("reports:people"), {"period": "2026-03"}).text
        row = people[people.index('data-employee="E010"'):].split("</tr>")[0]
        assert "not judged (joined after the due day)" in row
        dashboard = head.get(reverse("reports:dashboard"), {"period": "2026-03"}).text
        assert "Outsider in surgery" not in dashboard  # not the head's
        non_completers = dashboard[dashboard.index('class="non-completers'):].split("</table>")[0]
        assert "New E010" not in non_completers
        payroll = b"".join(head.get(reverse("compliance:export_csv"), {"plan": plan.pk, "period": march.pk})
                           .streaming_content).decode("utf-8-sig")
        assert any(line.startswith("E010,") and "not judged (joined after the due day)" in line
                   for line in payroll.splitlines())
        export = head.get(reverse("reports:export", args=["people", "csv"]), {"period": "2026-03"})
        lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
        assert any(line.startswith("E010,") and "not judged (joined after the due day)" in line for line in lines)
        owing = head.get(reverse("reports:export", args=["non_completers", "csv"]), {"period": "2026-03"})
        assert [line.split(",")[0] for line in b"".join(owing.streaming_content).decode("utf-8-sig").splitlines()] \
            == ["employee number", "H001"]  # the head owes; the learner complied; the newcomer owes nothing

        status, body = call("get", f"/compliance/plans/{plan.pk}/standings", token_for(org.admin))
    assert status == 200
    items = {item["employee_no"]: item for item in body["items"]}
    assert (items["E010"]["joined_after_due"], items["E010"]["compliant"]) == (True, None)
    assert (items["E001"]["joined_after_due"], items["E001"]["compliant"]) == (False, True)
    assert (items["E002"]["total_seconds"], items["E002"]["total_hours"], items["E002"]["owed_hours"]) == \
        (HOUR, 1.0, 1.0)


def test_no_reminder_for_someone_within_the_grace_days(org, catalog):
    plan = reminder_plan(org, catalog, now=at(2026, 3, 1, 8), joiner_policy=JoinerPolicy.GRACE, joiner_grace_days=5)
    newcomer = hire(org, "E040", hire_date=dt.date(2026, 3, 21), level=Level.MANAGER)  # 4 days before the 25th
    colleague = hire(org, "E041", hire_date=dt.date(2026, 3, 20), level=Level.MANAGER)  # 5 days: judged, reminded
    schedule_for(plan)
    now = at(2026, 3, 25, 9, 1)
    services.refresh_changed(now=now)
    run_reminders(now=now)
    reminded = set(Delivery.objects.values_list("recipient__employee_no", flat=True))
    assert reminded == {"H001", "E001", colleague.employee_no}
    assert newcomer.employee_no not in reminded


def test_the_admin_sets_the_joiner_policy_in_the_plan_form(org, client_for, catalog):
    client = client_for(org.admin)
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        response = client.post(reverse("plans:plan_new"), plan_form(org, catalog, joiner_policy="grace",
                                                                     joiner_grace_days="0"))
        assert response.status_code == 200 and "Give the number of grace days" in response.text
        assert not LearningPlan.objects.exists()
        response = client.post(reverse("plans:plan_new"), plan_form(org, catalog, joiner_policy="sometimes"))
        assert response.status_code == 200 and "Select a valid choice" in response.text
        response = client.post(reverse("plans:plan_new"), plan_form(org, catalog, joiner_policy="grace",
                                                                     joiner_grace_days="7"))
        assert response.status_code == 302
        plan = LearningPlan.objects.get()
        assert (plan.joiner_policy, plan.joiner_grace_days) == ("grace", 7)
        detail = client.get(reverse("plans:plan", args=[plan.pk])).text
        assert "Not judged in a period they joined less than the grace days before its due day · 7 days" in detail
        client.post(reverse("plans:plan_publish", args=[plan.pk]))
        assert plan.periods.get().targets["joiner_grace_days"] == 7
        zh = client_for(org.admin, "zh-hans").get(reverse("plans:plan_edit", args=[plan.pk])).text
        assert "宽限天数" in zh


# ---------------------------------------------------------------- course analytics and percentages


def test_course_analytics_open_on_the_last_90_days_and_keep_the_choice(org, catalog, client_for):
    monthly_plan(org, catalog)  # periods every month up to now: the reports' month would be November
    record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=1800,
                         occurred_at=at(2026, 10, 15, 10))
    record_credited_time(employee=org.outsider, course=catalog.clinical_video, seconds=600,
                         occurred_at=at(2026, 6, 1, 10))  # more than 90 days ago
    page = reverse("reports:course", args=[catalog.clinical_video.pk])
    with time_machine.travel(at(2026, 11, 27, 9), tick=False):
        plan_services.roll_over()
        admin = client_for(org.admin)
        text = admin.get(page).text
        assert '<option value="last90" selected>last 90 days</option>' in text
        assert "<dt>viewers</dt><dd>1</dd>" in text
        assert '<option value="last90" selected>' in admin.get(reverse("reports:courses")).text
        # Another range chosen is kept for the next visit.
        assert "Nobody has watched a course" in admin.get(page, {"period": "2026-11"}).text
        assert '<option value="2026-11" selected>' in admin.get(page).text
        assert "<dt>viewers</dt><dd>2</dd>" in admin.get(page, {"period": "all"}).text
        assert '<option value="all" selected>' in admin.get(reverse("reports:courses")).text
        # The dashboard keeps opening on the current month.
        assert '<option value="2026-11" selected>' in admin.get(reverse("reports:dashboard")).text
        assert admin.get(page, {"period": "last9000"}).status_code == 400


def test_the_course_page_and_the_plan_show_one_percentage(org, catalog, client_for):
    """1 h 30 min credited of the 4 h video: 37 % on the course page, in "my learning" and in the player's label."""
    plan = monthly_plan(org, catalog)
    plan_services.plan_configure(actor=None, plan=plan, departments=[(org.root, True)], levels=[], positions=[],
                                 tags=[], people=[], courses=[catalog.video], now=at(2026, 3, 2, 9))
    record_credited_time(employee=org.learner, course=catalog.video, seconds=5400, occurred_at=at(2026, 3, 3, 10))
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        learner = client_for(org.learner)
        course = learner.get(reverse("catalog:course", args=[catalog.video.pk])).text
        assert "In progress: 37 % of the course credited (1.5 h), completed at 95 %" in course
        mine = learner.get(reverse("plans:my")).text
        assert "in progress, 37 % credited" in mine
        zh = client_for(org.learner, "zh-hans").get(reverse("catalog:course", args=[catalog.video.pk])).text
        assert "进行中:已计入课程的 37 %(1.5 小时),达到 95 % 即完成" in zh
