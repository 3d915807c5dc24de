"""The suspicions page in a real browser: each list pages by its own links, forward and back, in
both languages, for an admin and for a head (their people only), with axe-core's WCAG 2.1 AA checks."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accessibility import axe_violations
from conftest import make_employee
from test_browser import log_in

TEXT = {
    "en": {"title": "Suspicious check-ins", "next": "Next", "previous": "Previous", "pages": "Pages: Refused attempts",
           "found": "5 found"},
    "zh-hans": {"title": "可疑签到", "next": "下一页", "previous": "上一页", "pages": "分页：被拒绝的签到尝试",
                "found": "共 5 条"},
}


@pytest.fixture
def refusals(org, catalog):
    from learntrace.checkin.models import CheckInEvent, Meeting

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward round", starts_at=now - dt.timedelta(hours=1),
                                     ends_at=now + dt.timedelta(hours=1), roster=Meeting.Roster.OPEN)
    surgeons = [make_employee(f"S{n}", f"Surgeon {n}", org.b) for n in range(3)]
    cardiologists = [make_employee(f"K{n}", f"Cardiologist {n}", org.a1) for n in range(2)]
    for n, person in enumerate(surgeons + cardiologists):  # the cardiologists' the latest
        CheckInEvent.objects.create(meeting=meeting, employee=person, kind=CheckInEvent.Kind.REFUSED,
                                    at=now - dt.timedelta(minutes=30 - n), reason="device_used")
    return surgeons, cardiologists


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_admin_pages_through_the_refusals_and_back(live_server, org, refusals, new_page, monkeypatch, language):
    from learntrace.checkin import selectors

    monkeypatch.setattr(selectors, "SUSPICIONS_PAGE", 2)
    text = TEXT[language]
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/checkin/suspicious/")
    expect(page.locator("h1")).to_have_text(text["title"])
    section = page.locator("#refusals")
    expect(section).to_contain_text(text["found"])
    names = section.locator("tbody td:nth-child(3)")
    expect(names).to_have_text(["Cardiologist 1", "Cardiologist 0"])
    assert axe_violations(page) == []
    pager = page.get_by_role("navigation", name=text["pages"])
    pager.get_by_role("link", name=text["next"]).click()
    expect(names).to_have_text(["Surgeon 2", "Surgeon 1"])
    assert page.url.endswith("#refusals")
    assert axe_violations(page) == []  # both links now
    pager.get_by_role("link", name=text["next"]).click()
    expect(names).to_have_text(["Surgeon 0"])
    expect(pager.get_by_role("link", name=text["next"])).to_have_count(0)
    pager.get_by_role("link", name=text["previous"]).click()
    expect(names).to_have_text(["Surgeon 2", "Surgeon 1"])


def test_a_head_sees_the_refusals_of_their_people(live_server, org, refusals, new_page):
    page = new_page()
    log_in(page, live_server.url, "head", "en")
    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="All suspicious check-ins").click()
    expect(page.locator("#refusals tbody td:nth-child(3)")).to_have_text(["Cardiologist 1", "Cardiologist 0"])
    expect(page.locator("#devices")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Pages: Refused attempts")).to_have_count(0)
    assert axe_violations(page) == []
