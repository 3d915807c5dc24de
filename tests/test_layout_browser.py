"""The layout in a real browser, on a 390 px phone and a 1366 px desk, in both languages: nothing runs off
the side, tables turn into cards on the phone, the menu is grouped and opens on the phone, names do not
break, and each page speaks its own language."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan
from test_browser import log_in
from test_one_language import mixed_labels, texts_of, typed_data
from test_translations import PO, read_po

PAGES = ["home:home", "plans:team", "org:employees", "home:audit", "reports:dashboard", "catalog:courses",
         "catalog:course_new", "checkin:meeting_new"]
GROUPS = {"zh-hans": ["学习", "管理", "报表", "系统"], "en": ["Learning", "Management", "Reports", "System"]}


def overflow(page) -> dict:
    """How far the page, and each table's frame, is wider than the screen (0: nothing runs off)."""
    return page.evaluate("""() => ({
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        tables: Array.from(document.querySelectorAll('.table-wrap'))
            .map(wrap => Math.max(0, wrap.scrollWidth - wrap.clientWidth)).filter(extra => extra > 1).length,
    })""")


@pytest.fixture
def people_with_a_plan(org, catalog):
    org.learner.name = "王建国"
    org.learner.save()
    plan = LearningPlan.objects.create(name="科室主任月度管理培训", starts_on=dt.date(2026, 1, 1),
                                       min_total_seconds=8 * 3600)
    plan.audience_employees.set([org.learner, org.head, org.outsider])
    plan_services.publish_plan(actor=None, plan=plan)
    return org


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("phone", [True, False], ids=["390px", "1366px"])
def test_pages_fit_the_screen_in_one_language(live_server, people_with_a_plan, new_page, language, phone, tmp_path):
    page = new_page(phone=phone)
    if not phone:
        page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url, "admin", language)
    catalogue, data = read_po(PO), frozenset(typed_data())
    for name in PAGES:
        page.goto(f"{live_server.url}{reverse(name)}")
        assert overflow(page) == {"page": 0, "tables": 0}, name
        assert mixed_labels(texts_of(page.content()), language, catalogue, [], data) == [], name
        shot = tmp_path / f"{name.replace(':', '-')}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG")
    # The menu: four groups; on the phone it opens from its button, on the desk each group opens in place.
    summaries = page.locator("header details.group > summary")
    expect(summaries).to_have_text(GROUPS[language])
    employees = page.locator("header a[href='/org/employees/']")
    expect(employees).to_be_hidden()
    if phone:
        page.locator("header details.menu > summary").click()
    summaries.nth(1).click()
    expect(employees).to_be_visible()
    assert overflow(page)["page"] == 0
    expect(page.locator("#bell svg.icon")).to_have_count(1)  # an icon, not an emoji


def test_a_phone_shows_the_team_as_cards_with_unbroken_names(live_server, people_with_a_plan, new_page):
    page = new_page(phone=True)
    log_in(page, live_server.url, "admin", "zh-hans")
    page.goto(f"{live_server.url}{reverse('plans:team')}")
    row = page.locator("tr[data-employee='E001']")
    expect(row.locator("td").nth(1)).to_have_attribute("data-label", "部门")
    name = row.locator("td.name")
    expect(name).to_have_text("王建国")
    box = name.locator("a").bounding_box()
    assert box["height"] < 30  # one line: the name did not break
    table = page.locator(".table-wrap > table")
    expect(table).to_have_class(re.compile(r"\bcards\b"))
    assert page.evaluate("getComputedStyle(document.querySelector('.table-wrap thead')).display") == "none"


def test_the_learner_bell_is_an_icon(live_server, org, new_page):
    page = new_page()
    log_in(page, live_server.url, "learner", "en")
    bell = page.locator("#bell")
    expect(bell.locator("svg.icon")).to_have_count(1)
    expect(bell).to_have_accessible_name("Notifications")
    assert "🔔" not in bell.inner_text()
