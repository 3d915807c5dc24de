"""In a browser, in both languages: the new meeting page creates a meeting with its new course in one
submit, and the course form shows only the chosen kind's fields; axe checks every page."""

import pytest
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Meeting
from test_browser import log_in

SAVE = {"zh-hans": "保存", "en": "Save"}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_admin_schedules_a_meeting_with_a_new_course_in_one_step(live_server, org, catalog, new_page, language):
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/checkin/meetings/new/")
    # A new meeting starts with a new course: the existing courses' list is hidden until chosen.
    expect(page.locator("#id_new_course_title")).to_be_visible()
    expect(page.locator("#id_course")).to_be_hidden()
    assert axe_violations(page) == []
    page.check("#id_course_source_0")
    expect(page.locator("#id_course")).to_be_visible()
    expect(page.locator("#id_new_course_title")).to_be_hidden()
    page.check("#id_course_source_1")

    page.fill("#id_title", "消防安全培训会")
    page.fill("#id_starts_at", "2026-03-10T09:00")
    page.fill("#id_ends_at", "2026-03-10T10:30")
    page.fill("#id_location", "行政楼三楼会议室")
    page.select_option("#id_roster", "open")
    page.select_option("#id_new_course_category", str(catalog.management.pk))
    page.fill("#id_new_course_credits", "1")
    page.select_option("#id_new_course_credit_class", str(catalog.cme2.pk))
    page.get_by_role("button", name=SAVE[language], exact=True).click()
    expect(page.locator("h1")).to_contain_text("消防安全培训会")
    assert axe_violations(page) == []

    meeting = Meeting.objects.get()
    assert (meeting.course.title, meeting.course.kind, meeting.course.duration_seconds) == (
        "消防安全培训会", CourseKind.OFFLINE, 90 * 60)
    assert (meeting.course.category, meeting.course.credit_class) == (catalog.management, catalog.cme2)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_course_form_shows_only_the_chosen_kinds_fields(live_server, org, catalog, new_page, language):
    page = new_page(phone=language == "zh-hans")
    log_in(page, live_server.url, "admin", language)
    page.goto(f"{live_server.url}/catalog/courses/new/")
    page.select_option("#id_kind", "video")
    expect(page.locator("#id_video_file")).to_be_visible()
    expect(page.locator("#id_external_url")).to_be_visible()
    expect(page.locator("#id_location")).to_be_hidden()
    expect(page.locator("#id_document_file")).to_be_hidden()
    assert axe_violations(page) == []

    page.select_option("#id_kind", "offline")
    expect(page.locator("#id_location")).to_be_visible()
    for hidden in ("#id_video_file", "#id_external_url", "#id_document_file", "#id_completion_threshold"):
        expect(page.locator(hidden)).to_be_hidden()
    page.fill("#id_title", "院感季度例会")
    page.select_option("#id_category", str(catalog.clinical.pk))
    page.fill("#id_duration_minutes", "45")
    page.fill("#id_location", "门诊楼报告厅")
    page.get_by_role("button", name=SAVE[language], exact=True).click()
    expect(page.locator("h1")).to_contain_text("院感季度例会")
    course = Course.objects.get(title="院感季度例会")
    assert (course.kind, course.location, course.duration_seconds) == (CourseKind.OFFLINE, "门诊楼报告厅", 45 * 60)
