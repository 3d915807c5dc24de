"""Compliance pages: rules on a plan, outcomes for payroll, exports, freezing, and who may see what."""

import csv
import io

import pytest
import time_machine
from openpyxl import load_workbook

from learntrace.compliance import services
from learntrace.compliance.models import Consequence, PeriodState, Rule
from test_compliance import HOUR, at, monthly_plan, period_of, standing, watch


@pytest.fixture
def judged(org, catalog):
    """March judged after its due day: the learner did the 2 hours, the outsider did not."""
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Monthly hours")
    Consequence.objects.create(rule=rule, applies_to="non_compliant", kind="flag", name="Management allowance")
    Consequence.objects.create(rule=rule, applies_to="above_target", kind="title", name="培训之星")
    watch(org.learner, catalog.video, 3, at(2026, 3, 3, 10))
    watch(org.outsider, catalog.video, 1, at(2026, 3, 4, 10))
    services.process_periods(now=at(2026, 3, 26, 1))
    return plan


def outcomes_url(plan, month, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"plan": plan.pk, "period": period_of(plan, month).pk, **extra}.items())
    return f"/compliance/?{query}"


def test_an_admin_defines_a_rule_and_its_consequences(org, catalog, client_for):
    plan = monthly_plan(org, catalog)
    client = client_for(org.admin)
    response = client.post(f"/compliance/plans/{plan.pk}/rules/new/", {"name": "Nothing counted", "window": "period"})
    assert response.status_code == 200 and b"at least one target" in response.content
    assert not Rule.objects.exists()
    response = client.post(f"/compliance/plans/{plan.pk}/rules/new/", {
        "name": "Monthly hours", "window": "quarter", "counts_hours": "on", "is_active": "on"})
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert (rule.window, rule.counts_hours, rule.counts_courses) == ("quarter", True, False)

    prefix = f"rule{rule.pk}-"
    response = client.post(f"/compliance/rules/{rule.pk}/consequences/", {
        prefix + "applies_to": "top", prefix + "kind": "title", prefix + "name": "培训之星",
        prefix + "value": "0", prefix + "level": "person", prefix + "department_share": "0"}, follow=True)
    assert "how many of the top" in response.content.decode() and not Consequence.objects.exists()
    response = client.post(f"/compliance/rules/{rule.pk}/consequences/", {
        prefix + "applies_to": "non_compliant", prefix + "kind": "percent", prefix + "name": "Department bonus",
        prefix + "value": "-5", prefix + "level": "department", prefix + "department_share": "30"}, follow=True)
    consequence = Consequence.objects.get()
    assert (consequence.value, consequence.level, consequence.department_share) == (-5, "department", 30)
    assert "Department bonus" in response.content.decode()


def test_only_admins_change_rules(org, catalog, client_for):
    plan = monthly_plan(org, catalog)
    rule = Rule.objects.create(plan=plan, name="Monthly hours")
    for person in (org.head, org.auditor, org.learner):
        client = client_for(person)
        assert client.get(f"/compliance/plans/{plan.pk}/rules/").status_code == 403
        assert client.post(f"/compliance/rules/{rule.pk}/delete/").status_code == 403
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_the_outcome_page_shows_verdicts_consequences_and_departments(judged, org, client_for):
    page = client_for(org.admin).get(outcomes_url(judged, 3)).content.decode()
    assert 'data-employee="E002"' in page and "Management allowance: not eligible" in page
    assert "培训之星" in page
    assert "1.0 h in total" in page  # what the outsider still owes
    zh = client_for(org.admin, "zh-hans").get(outcomes_url(judged, 3)).content.decode()
    assert "合规结果" in zh and "不合规" in zh


def test_a_head_sees_only_their_subtree_even_when_asking_for_another(judged, org, client_for):
    client = client_for(org.head)
    page = client.get(outcomes_url(judged, 3, department=org.b.pk)).content.decode()
    assert 'data-employee="E001"' in page and 'data-employee="E002"' not in page
    rows = list(csv.reader(io.StringIO(
        b"".join(client.get(f"/compliance/export.csv?plan={judged.pk}&department={org.b.pk}").streaming_content)
        .decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == {"E001", "H001"}
    assert client_for(org.learner).get("/compliance/").status_code == 403


def test_exports_hold_the_same_rows_as_the_page(judged, org, client_for):
    client = client_for(org.auditor)
    response = client.get(f"/compliance/export.xlsx?plan={judged.pk}&period={period_of(judged, 3).pk}")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"A001", "E001", "E002", "H001", "U001"}
    learner = rows["E001"]
    assert learner[1] == "Learner in cardiology" and learner[6] == 3.0 and learner[7] == 2.0
    assert learner[11] == "compliant" and learner[15] == "培训之星"
    assert learner[10] == "2026-03-03 10:00"  # when the fact that met the target was learned
    outsider = rows["E002"]
    assert outsider[11] == "non-compliant" and outsider[12] == "1.0 h in total"
    assert outsider[13] == "Management allowance: not eligible"

    text = b"".join(client.get(f"/compliance/export.csv?plan={judged.pk}&status=non_compliant"
                               f"&period={period_of(judged, 3).pk}").streaming_content).decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(text))][1:] == ["H001", "E002", "A001", "U001"]


def test_freezing_and_reopening_from_the_page(judged, org, client_for):
    march = period_of(judged, 3)
    client = client_for(org.admin)
    with time_machine.travel(at(2026, 3, 28, 9), tick=False):
        response = client.post(f"/compliance/periods/{march.pk}/freeze/", follow=True)
        assert "once it has closed" in response.content.decode()
    with time_machine.travel(at(2026, 4, 1, 9), tick=False):
        assert client_for(org.auditor).post(f"/compliance/periods/{march.pk}/freeze/").status_code == 403
        client = client_for(org.admin)  # the test client is shared: log the admin back in
        client.post(f"/compliance/periods/{march.pk}/freeze/")
        assert PeriodState.objects.get(period=march).frozen_at is not None
        response = client.post(f"/compliance/periods/{march.pk}/reopen/", {"reason": ""}, follow=True)
        assert "Say why" in response.content.decode()
        assert PeriodState.objects.get(period=march).frozen_at is not None
        client.post(f"/compliance/periods/{march.pk}/reopen/", {"reason": "Late meeting sheet"})
        state = PeriodState.objects.get(period=march)
        assert state.frozen_at is None and state.reopen_reason == "Late meeting sheet"


def test_recognition_shows_on_the_profile(judged, org, client_for):
    assert standing(judged, org.learner, 3).recognitions == ["培训之星"]
    page = client_for(org.learner).get("/org/me/").content.decode()
    assert "培训之星" in page
    assert "培训之星" not in client_for(org.outsider).get("/org/me/").content.decode()
    assert standing(judged, org.learner, 3).total_seconds == 3 * HOUR


def test_a_learner_sees_the_verdict_and_consequences_of_past_periods(judged, org, client_for):
    services.process_periods(now=at(2026, 4, 1, 1))
    with time_machine.travel(at(2026, 4, 2, 9), tick=False):
        page = client_for(org.outsider).get("/plans/my/history/").content.decode()
        assert "non-compliant" in page and "Management allowance: not eligible" in page
        page = client_for(org.learner, "zh-hans").get("/plans/my/history/").content.decode()
        assert "评定结果" in page and "培训之星" in page  # March; January and February were missed
