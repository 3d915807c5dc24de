"""Attention checks in a real browser playing a real WebM: a question at a moment of the video and
an idle prompt, in both languages, with axe-core's WCAG 2.1 AA checks while each is open."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accessibility import axe_violations
from test_browser import log_in, tracked_video  # noqa: F401 - the fixture is used by name

TEXT = {
    "en": {"question": "A question on what you just watched", "answer": "Answer", "right": "Right: the part you",
           "idle": "Still learning?", "continue": "Continue learning"},
    "zh-hans": {"question": "随堂提问:刚才的内容", "answer": "提交答案", "right": "回答正确",
                "idle": "还在学习吗?", "continue": "继续学习"},
}

def no_violations(page):
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_question_and_an_idle_prompt_pause_the_video_and_are_answered(live_server, org, new_page,
                                                                        tracked_video, language):  # noqa: F811
    from learntrace.catalog.models import Choice, Question, Quiz
    from learntrace.tracking.models import Attempt, AttentionCheck, AttentionRule, PlacedQuestion

    quiz = Quiz.objects.create(course=tracked_video)
    question = Question.objects.create(quiz=quiz, text="How long do you wash your hands?")
    Choice.objects.create(question=question, position=1, text="5 seconds")
    right = Choice.objects.create(question=question, position=2, text="20 seconds", is_correct=True)
    AttentionRule.objects.create(course=tracked_video, idle_minutes=30)
    PlacedQuestion.objects.create(course=tracked_video, question=question, at_seconds=3)
    text = TEXT[language]

    page = new_page(phone=True)
    log_in(page, live_server.url, "learner", language)
    page.goto(f"{live_server.url}/catalog/courses/{tracked_video.pk}/")
    expect(page.locator("[data-tracker]")).to_have_attribute("data-attempt", re.compile(r"^[0-9a-f-]{36}$"))
    attempt = Attempt.objects.get(pk=page.locator("[data-tracker]").get_attribute("data-attempt"))
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")

    # The question: due at 3 s, revealed by the server only then; the player pauses and asks.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=20_000)
    expect(dialog.get_by_role("heading")).to_have_text(text["question"])
    expect(dialog.get_by_text("How long do you wash your hands?")).to_be_visible()
    assert page.evaluate("() => document.querySelector('video').paused")
    assert "is_correct" not in page.content()
    no_violations(page)
    dialog.get_by_label("20 seconds").check()
    dialog.get_by_role("button", name=text["answer"]).click()
    expect(page.locator(".tracker-notice")).to_contain_text(text["right"])
    check = AttentionCheck.objects.get(attempt=attempt, kind="question")
    assert (check.outcome, check.chosen) == ("right", [right.pk])
    page.wait_for_function("() => !document.querySelector('video').paused")

    # The idle check: no interaction since the answer, and the idle time is made short here.
    Attempt.objects.filter(pk=attempt.pk).update(idle_ms=1000, presence_at=timezone.now() - dt.timedelta(seconds=30))
    expect(dialog).to_be_visible(timeout=20_000)
    expect(dialog.get_by_role("heading")).to_have_text(text["idle"])
    assert page.evaluate("() => document.querySelector('video').paused")
    no_violations(page)
    with page.expect_response(lambda response: "/tracking/attention/" in response.url):
        dialog.get_by_role("button", name=text["continue"]).click()
    expect(dialog).to_be_hidden()
    prompt = AttentionCheck.objects.get(attempt=attempt, kind="idle")
    assert prompt.outcome == "answered" and prompt.answered_at is not None
    page.evaluate("() => document.querySelector('video').pause()")
