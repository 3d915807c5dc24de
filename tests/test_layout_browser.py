"""The layout in a real browser, on a 390 px phone and a 1366 px desk, in both languages: nothing runs off
the side, tables turn into cards on the phone, the menu is grouped and opens on the phone, names do not
break, and each page speaks its own language."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.catalog.models import Course, CourseKind
from learntrace.demo.organisation import DEMO_PASSWORD
from learntrace.org.models import Employee
from learntrace.plans import services as plan_services
from learntrace.plans.models import LearningPlan
from test_browser import ROLE_TEXT, log_in
from test_one_language import mixed_labels, texts_of, typed_data
from test_translations import PO, read_po

PAGES = ["home:home", "plans:team", "org:employees", "home:audit", "reports:dashboard", "catalog:courses",
         "catalog:course_new", "checkin:meeting_new"]
MAIN = {"zh-hans": "主导航", "en": "Main"}
MENU = {"zh-hans": "菜单", "en": "Menu"}
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


# Every main page of each demo role, beyond the links of its menu (which the walk follows): the pages
# reached from a page rather than from the menu. `{course}` is the demo's first video course.
EXTRA_PAGES = {
    "hr": ["certificates:list", "notify:channels", "api:tokens", "webhooks:subscriptions", "home:audit"],
    "head": ["plans:team", "compliance:outcomes", "reports:dashboard"],
    "manager": ["plans:my", "catalog:course", "trainingfile:my_file", "exams:my", "certificates:mine",
                "creditrules:my_year", "notify:inbox"],
    "auditor": ["evidence:overview", "home:audit"],
}
ROW_HEIGHT_LIMIT = 400  # px per row of the head's team on a phone (a card, not a column of single letters)


def measure(page, names=()) -> dict:
    """What can go wrong with the layout of the page as it is now, each as a list of offenders. `names`:
    people's names; any element showing one of them alone must keep it on one line, marked or not."""
    return page.evaluate("""names => {
        const width = document.documentElement.clientWidth;
        const phone = width < 640;
        const describe = el => [el.tagName.toLowerCase(), ...String(el.className || '').split(' ').filter(Boolean)]
            .join('.') + ' ' + (el.textContent || '').trim().slice(0, 30);
        const shown = el => el.getClientRects().length > 0;
        // A name is on one line when its text's boxes all share one top.
        const lines = el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const boxes = Array.from(range.getClientRects()).filter(r => r.width > 0);
            return new Set(boxes.map(r => Math.round(r.top))).size;
        };
        const overflowing = wrap => wrap.classList.contains('table-wrap') && wrap.scrollWidth > wrap.clientWidth + 1;
        return {
            page: Math.max(0, document.documentElement.scrollWidth - width - 1),
            wide_tables: Array.from(document.querySelectorAll('main table')).filter(shown)
                .filter(t => (phone && t.getBoundingClientRect().width > width + 1)
                    || overflowing(t.parentElement))
                .map(describe),
            uncarded: phone ? Array.from(document.querySelectorAll('main table')).filter(shown)
                .filter(t => !t.classList.contains('cards') && !t.classList.contains('compact')).map(describe) : [],
            broken_names: Array.from(document.querySelectorAll('main .person, main td.name')).filter(shown)
                .filter(el => getComputedStyle(el).whiteSpace !== 'nowrap' || lines(el) > 1).map(describe),
            broken_known_names: Array.from(document.querySelectorAll('main *')).filter(shown)
                .filter(el => names.includes((el.textContent || '').trim()) && lines(el) > 1).map(describe),
        };
    }""", list(names))


@pytest.fixture
def demo_site(live_server):
    call_command("demo", verbosity=0)
    return {"course": Course.objects.filter(kind=CourseKind.VIDEO).order_by("pk").first().pk}


def log_in_as_demo(page, base_url, username, language):
    page.goto(f"{base_url}/accounts/login/")
    if language == "en":
        with page.expect_navigation():
            page.select_option("#language-select", "en")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.get_by_role("button", name=ROLE_TEXT[language]["login"], exact=True).click()
    expect(page.get_by_text(ROLE_TEXT[language]["roles"])).to_be_visible()


def menu_links(page) -> list[str]:
    """The paths of every link in the page's main menu, in order, without repeats."""
    hrefs = page.eval_on_selector_all("header nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
    return list(dict.fromkeys(href for href in hrefs if not href.startswith("/admin/")))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_main_page_of_every_role_fits_a_phone_and_a_desk(demo_site, live_server, new_page, language, tmp_path):
    # Usernames are typed data too: the sign-in log shows "manager" and "auditor" as people chose them.
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    catalogue, data = read_po(PO), frozenset(typed_data() | usernames)
    names = list(Employee.objects.values_list("name", flat=True))
    problems: dict[str, object] = {}
    team_rows = 0
    for who, extra in EXTRA_PAGES.items():
        for phone in (True, False):
            page = new_page(phone=phone)
            if not phone:
                page.set_viewport_size({"width": 1366, "height": 900})
            log_in_as_demo(page, live_server.url, who, language)
            paths = menu_links(page) + [
                reverse(name, args=[demo_site["course"]] if name == "catalog:course" else []) for name in extra]
            for path in dict.fromkeys(paths):
                where = f"{who} {language} {'390' if phone else '1366'} {path}"
                response = page.goto(f"{live_server.url}{path}")
                if response.status != 200:
                    problems[where] = response.status
                    continue
                found = {key: value for key, value in measure(page, names).items() if value}
                mixed = mixed_labels(texts_of(page.content()), language, catalogue, [], data)
                if mixed:
                    found["mixed"] = mixed
                violations = axe_violations(page)
                if violations:
                    found["axe"] = violations
                if phone and path == reverse("plans:team"):
                    rows = page.locator("main tbody tr").count()
                    team_rows += rows
                    height = page.evaluate("document.documentElement.scrollHeight")
                    if rows and height > ROW_HEIGHT_LIMIT * rows + 600:
                        found["tall"] = f"{height} px for {rows} rows"
                if found:
                    problems[where] = found
                shot = tmp_path / f"{who}-{path.strip('/').replace('/', '-') or 'home'}-{phone}.png"
                page.screenshot(path=str(shot), full_page=True)
    assert problems == {}, "\n".join(f"{where}: {found}" for where, found in problems.items())
    assert team_rows >= 10  # the head's team page was measured with a real team on it
    assert len(list(tmp_path.glob("*.png"))) >= 60  # the walk reached every role's pages, not a login page


def test_the_measure_finds_what_goes_wrong(new_page):
    """The check itself, on a page written here: a name that wraps, a table without cards, a wide page."""
    page = new_page(phone=True)
    page.set_content("""<html><head><meta name="viewport" content="width=device-width">
        <style>td.name { width: 1em; }</style></head><body><main>
        <table><tbody><tr><td class="name">王建国</td><td><div style="width: 900px">wide</div></td></tr></tbody></table>
        </main></body></html>""")
    found = measure(page)
    assert found["page"] > 0
    assert len(found["wide_tables"]) == 1 and len(found["uncarded"]) == 1
    assert found["broken_names"] == ["td.name 王建国"]
    assert measure(page, ["王建国"])["broken_known_names"] == ["td.name 王建国"]
    page.add_style_tag(content="td.name { white-space: nowrap; }")
    assert measure(page, ["王建国"])["broken_names"] == measure(page, ["王建国"])["broken_known_names"] == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("who", ["admin", "head", "learner", "auditor"])
def test_the_phone_menu_works_from_the_keyboard(live_server, org, new_page, who, language):
    page = new_page(phone=True)
    log_in(page, live_server.url, who, language)
    menu = page.locator("header details.menu")
    expect(menu).not_to_have_attribute("open", "")  # closed at first on a phone
    nav = page.get_by_role("navigation", name=MAIN[language], exact=True)
    expect(nav).to_be_hidden()
    page.keyboard.press("Tab")  # the brand link, then the menu's button
    page.keyboard.press("Tab")
    expect(page.locator("header details.menu > summary")).to_be_focused()
    expect(page.locator("header details.menu > summary")).to_have_text(MENU[language])
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    groups = nav.locator("details.group > summary")
    expect(groups.first).to_have_text(GROUPS[language][0])
    page.keyboard.press("Tab")  # Home
    page.keyboard.press("Tab")  # the first group
    expect(groups.first).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('details.group .links') !== null")
    assert focused  # the group's first link, reached by the keyboard
    assert overflow(page)["page"] == 0
    expect(page.locator("header svg.icon[aria-hidden='true']")).not_to_have_count(0)  # icons stay silent
    favicon = page.request.get(f"{live_server.url}/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg+xml")
