"""The joiner policy in a real browser: the admin chooses grace days in the plan form, in both
languages, with axe-core's WCAG 2.1 AA checks on the form, the plan and the course analytics."""

import pytest
from playwright.sync_api import expect

from accessibility import axe_violations
from test_browser import log_in

TEXT = {
    "en": {"grace": "Not judged in a period they joined less than the grace days before its due day",
           "save": "Save", "analytics": "last 90 days"},
    "zh-hans": {"grace": "在截止日前不足宽限天数入职的周期内不评定", "save": "保存", "analytics": "最近 90 天"},
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_admin_gives_joiners_grace_days(live_server, org, catalog, new_page, language):
    from learntrace.plans.models import LearningPlan

    text = TEXT[language]
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/plans/new/")
    page.fill("#id_name", "Monthly hours")
    page.fill("#id_starts_on", "2026-03-01")
    page.fill("#id_due_day", "25")
    page.select_option("#id_departments_with_subtree", str(org.root.pk))
    page.fill("#id_min_total_hours", "2")
    page.get_by_label(text["grace"]).check()
    page.fill("#id_joiner_grace_days", "5")
    assert axe_violations(page) == []
    page.get_by_role("button", name=text["save"], exact=True).click()
    expect(page.locator("h1")).to_contain_text("Monthly hours")
    assert axe_violations(page) == []
    plan = LearningPlan.objects.get()
    assert (plan.joiner_policy, plan.joiner_grace_days) == ("grace", 5)

    page.goto(f"{live_server.url}/reports/courses/")
    expect(page.locator("#id_period option:checked")).to_have_text(text["analytics"])
    assert axe_violations(page) == []
