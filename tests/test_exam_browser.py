"""A timed exam in the browser, on a phone, in both languages: answers are saved as they are given,
leaving the page is counted, the page submits itself when the server's time is up, and the pages
pass axe-core's WCAG 2.1 AA checks."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accessibility import axe_violations
from exam_fixtures import make_exam_centre
from learntrace.exams.models import ExamResult, Sitting
from test_browser import log_in

TEXT = {
    "en": {"start": "Start the exam", "true": "True", "left": "You left the exam page. This was counted.",
           "result": "Exam result"},
    "zh-hans": {"start": "开始考试", "true": "正确", "left": "你离开了考试页面，已记录一次。",
                "result": "考试成绩"},
}


def assert_accessible(page):
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_timed_exam_on_a_phone(live_server, org, catalog, new_page, language):
    centre = make_exam_centre(catalog.management)
    words = TEXT[language]
    page = new_page(phone=True)
    page.goto(f"{live_server.url}/accounts/login/", timeout=60_000)  # a cold server's first page may be slow
    log_in(page, live_server.url, "learner", language)
    page.goto(f"{live_server.url}/exams/")
    assert_accessible(page)
    page.get_by_role("button", name=words["start"]).click()
    expect(page.locator("#exam-clock")).to_contain_text(":")
    sitting = Sitting.objects.get(employee=org.learner)
    with page.expect_response(lambda r: r.url.endswith("/answers")):
        page.locator(f"fieldset[data-question='{centre.truth.pk}']").get_by_label(words["true"]).check()
    with page.expect_response(lambda r: r.url.endswith("/answers")):
        page.locator(f"#answer-{centre.blank.pk}").fill("120")
        page.locator(f"#answer-{centre.blank.pk}").blur()
    sitting.refresh_from_db()
    assert sitting.answers == {str(centre.truth.pk): "true", str(centre.blank.pk): "120"}
    assert_accessible(page)
    # The page is hidden (another app on the phone): the server counts it and the learner is told.
    with page.expect_response(lambda r: r.url.endswith("/left")):
        page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
                      "document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#exam-notice")).to_have_text(words["left"])
    sitting.refresh_from_db()
    assert sitting.hidden_count == 1
    # The time runs out while the page is open: it submits itself with the answers saved.
    Sitting.objects.filter(pk=sitting.pk).update(deadline=timezone.now() + dt.timedelta(seconds=2))
    page.reload()  # reloading leaves the page too, and is counted
    expect(page.locator("h1")).to_contain_text(words["result"], timeout=20_000)
    result = ExamResult.objects.get(sitting=sitting)
    assert (result.points, result.max_points, result.hidden_count) == (2, 5, 2)
    expect(page.locator("#exam-score")).to_have_text("40 % (2 / 5)")
    assert_accessible(page)
