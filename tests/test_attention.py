"""Proof of attention while a video or document plays: idle prompts, questions during the video,
and the attacks that must not earn time (skipping prompts, wrong answers, claiming time past a
question)."""

import datetime as dt
import json
import re

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learntrace.catalog.models import Choice, Course, CourseKind, Question, Quiz
from learntrace.core.models import AuditEntry
from learntrace.plans.models import LearningPlan, PlanItem
from learntrace.plans.services import publish_plan
from learntrace.records.models import CourseProgress, CreditedTime
from learntrace.tracking import attention, services
from learntrace.tracking.models import Attempt, AttentionCheck, AttentionRule, OnWrong, PlacedQuestion
from learntrace.tracking.services import BeatInput, BeatRejected, start_attempt

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def video(catalog):
    return Course.objects.create(title="Ten minutes", kind=CourseKind.VIDEO, category=catalog.management,
                                 duration_seconds=600, completion_threshold=95, is_published=True)


@pytest.fixture
def document(catalog):
    return Course.objects.create(title="Handbook", kind=CourseKind.DOCUMENT, category=catalog.management,
                                 duration_seconds=600, completion_threshold=100, is_published=True)


@pytest.fixture
def questions(video):
    """The course quiz: a single-choice and a multiple-choice question."""
    quiz = Quiz.objects.create(course=video)
    hand = Question.objects.create(quiz=quiz, position=1, text="How long do you wash your hands?")
    Choice.objects.create(question=hand, position=1, text="5 seconds")
    Choice.objects.create(question=hand, position=2, text="20 seconds", is_correct=True)
    signs = Question.objects.create(quiz=quiz, position=2, text="Signs of sepsis?", kind=Question.Kind.MULTIPLE)
    Choice.objects.create(question=signs, position=1, text="Fever", is_correct=True)
    Choice.objects.create(question=signs, position=2, text="Fast breathing", is_correct=True)
    Choice.objects.create(question=signs, position=3, text="Good appetite")
    return hand, signs


def right(question):
    return sorted(c.pk for c in question.choices.all() if c.is_correct)


def wrong(question):
    return [c.pk for c in question.choices.all() if not c.is_correct][:1]


def placed(video, question, at_seconds, **rule):
    AttentionRule.objects.create(course=video, **rule)
    PlacedQuestion.objects.create(course=video, question=question, at_seconds=at_seconds)


def watch(attempt, seq, start, end, *, when, active=False):
    return services.credit_beat(attempt_id=attempt.pk, user_id=attempt.employee.user_id, now=when, beat=BeatInput(
        seq=seq, segments=[(int(start * 1000), int(end * 1000))], active=active,
        client_elapsed_ms=int((when - attempt.started_at).total_seconds() * 1000)))


def answer(attempt, check, choices=None, *, when):
    return services.answer_check(attempt_id=attempt.pk, user_id=attempt.employee.user_id, check_id=check,
                                 choices=choices, now=when)


def progress(employee, course):
    return CourseProgress.objects.get(employee=employee, course=course)


def credited_seconds(employee, course):
    return sum(CreditedTime.objects.filter(employee=employee, course=course).values_list("seconds", flat=True))


def play(attempt, start_s, end_s, *, seq=0, t0=0.0, step=15):
    """Honest playback from start_s to end_s in beats of `step` seconds; returns the outcomes."""
    outcomes = []
    position = start_s
    while position < end_s:
        stop = min(position + step, end_s)
        outcomes.append(watch(attempt, seq, position, stop, when=at(t0 + stop - start_s)))
        seq += 1
        position = stop
    return outcomes


# ---------------------------------------------------------------- off by default


def test_without_a_rule_a_course_has_no_checks_and_credits_as_before(org, video, questions):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert (attempt.idle_ms, attempt.next_question_ms) == (0, None)
    assert not AttentionCheck.objects.exists()
    outcomes = play(attempt, 0, 120)
    assert sum(o.credited_ms for o in outcomes) == 120_000
    assert all(o.question is None and o.prompt is None and o.held_ms == 0 for o in outcomes)


# ---------------------------------------------------------------- questions during the video


def test_a_placed_question_holds_the_segment_until_it_is_answered_right(org, video, questions):
    hand, _signs = questions
    placed(video, hand, 60)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert attempt.next_question_ms == 60_000
    first = play(attempt, 0, 45)
    assert [(o.credited_ms, o.held_ms) for o in first] == [(0, 15_000), (0, 15_000), (0, 15_000)]
    assert all(o.question is None for o in first)  # not due yet: the client knows nothing of it
    crossing = watch(attempt, 3, 45, 65, when=at(65))
    assert (crossing.credited_ms, crossing.held_ms, crossing.cut_ms) == (0, 15_000, 5_000)
    assert crossing.flags == ["question_pending"]
    check = AttentionCheck.objects.get(attempt=attempt)
    assert crossing.question == {
        "check": check.pk, "due_ms": 60_000, "seconds": 60, "text": "How long do you wash your hands?",
        "multiple": False, "choices": [{"id": c.pk, "text": c.text} for c in hand.choices.all()]}
    assert "is_correct" not in json.dumps(crossing.as_dict()) and "correct" not in json.dumps(crossing.as_dict())
    assert progress(org.learner, video).credited_ms == 0

    result = answer(attempt, check.pk, right(hand), when=at(80))
    assert result.as_dict() == {"outcome": "right", "credited_ms": 60_000, "uncredited_ms": 0,
                                "rewind_to_ms": None, "total_credited_ms": 60_000, "covered_ms": 60_000,
                                "completed": False}
    assert credited_seconds(org.learner, video) == 60
    check.refresh_from_db()
    assert (check.outcome, check.shown_at, check.answered_at, check.chosen) == ("right", at(65), at(80), right(hand))
    # The answer's own fact in the record: the held minute, credited at the answer, at normal speed.
    fact = CreditedTime.objects.get(seq=attention.SERVER_SEQ_BASE + check.number)
    assert (fact.seconds, fact.occurred_at, fact.attempt_id) == (60, at(80), attempt.pk)
    assert fact.details == {"segments": [], "reading_ms": 0, "rate": 1.0, "hidden": False, "elapsed_ms": 0,
                            "received_at": at(80).isoformat(), "played_ms": 0, "credited_ms": 60_000, "cut_ms": 0,
                            "flags": [], "check": check.pk}
    # No question left: what follows is credited directly, from the moment of the question.
    after = watch(attempt, 4, 60, 75, when=at(95))
    assert (after.credited_ms, after.held_ms, after.question) == (15_000, 0, None)
    assert progress(org.learner, video).intervals == [[0, 75_000]]


def test_a_part_before_the_answered_question_is_credited_directly_while_the_next_question_waits(
        org, video, questions):
    hand, signs = questions
    placed(video, hand, 60)
    PlacedQuestion.objects.create(course=video, question=signs, at_seconds=120)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    # The learner starts at 0:30 and crosses the first question; answered right, 0:30 to 1:00 is credited.
    play(attempt, 30, 60)
    crossing = watch(attempt, 2, 60, 65, when=at(35))
    answer(attempt, crossing.question["check"], right(hand), when=at(40))
    assert progress(org.learner, video).intervals == [[30_000, 60_000]]
    # Back to the start, before the answered question and with the next one still ahead: the part is
    # new and confirmed, so it is credited at once, not held.
    back = watch(attempt, 3, 0, 15, when=at(55))
    assert (back.credited_ms, back.held_ms) == (15_000, 0)
    assert progress(org.learner, video).intervals == [[0, 15_000], [30_000, 60_000]]
    assert progress(org.learner, video).covered_ms == 45_000


def test_a_right_answer_credits_the_whole_seconds_the_record_still_owes(org, video, questions):
    hand, signs = questions
    AttentionRule.objects.create(course=video)
    PlacedQuestion.objects.create(course=video, question=hand, at_seconds=10)
    PlacedQuestion.objects.create(course=video, question=signs, at_seconds=60)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(attempt, 0, 0, 4.5, when=at(5))
    first = watch(attempt, 1, 5, 10, when=at(10)).question
    assert answer(attempt, first["check"], right(hand), when=at(12)).credited_ms == 9_500  # 0.5 s skipped
    second = play(attempt, 10, 60, seq=2, t0=12)[-1].question
    assert answer(attempt, second["check"], right(signs), when=at(70)).credited_ms == 50_000
    # 9.5 s gave the record 9 whole seconds; 59.5 s in all make 59, so the second answer adds 50.
    facts = CreditedTime.objects.filter(attempt_id=attempt.pk, seq__gte=attention.SERVER_SEQ_BASE).order_by("seq")
    assert list(facts.values_list("seconds", flat=True)) == [9, 50]
    assert credited_seconds(org.learner, video) == 59


def test_a_wrong_answer_with_rewind_loses_the_segment_and_asks_again(org, video, questions):
    hand, signs = questions
    placed(video, hand, 60, on_wrong=OnWrong.REWIND)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 60)
    shown = watch(attempt, 4, 60, 61, when=at(61)).question
    result = answer(attempt, shown["check"], wrong(hand), when=at(70))
    assert (result.outcome, result.credited_ms, result.uncredited_ms, result.rewind_to_ms) == ("wrong", 0, 60_000, 0)
    assert progress(org.learner, video).credited_ms == 0
    first = AttentionCheck.objects.get(pk=shown["check"])
    assert (first.outcome, first.uncredited_ms) == ("wrong", 60_000)
    # Watching the segment again holds it again, and another question of the bank is asked at 60 s.
    again = play(attempt, 0, 60, seq=5, t0=70)
    assert sum(o.held_ms for o in again) == 60_000
    second = watch(attempt, 9, 60, 61, when=at(131)).question
    assert second["check"] != shown["check"] and second["text"] == "Signs of sepsis?" and second["multiple"]
    assert answer(attempt, second["check"], right(signs), when=at(140)).credited_ms == 60_000
    assert credited_seconds(org.learner, video) == 60


def test_a_wrong_answer_without_rewind_forfeits_the_segment_in_this_attempt(org, video, questions):
    hand, _signs = questions
    placed(video, hand, 60, on_wrong=OnWrong.NOT_CREDITED)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 60)
    shown = watch(attempt, 4, 60, 61, when=at(61)).question
    result = answer(attempt, shown["check"], wrong(hand), when=at(70))
    assert (result.outcome, result.uncredited_ms, result.rewind_to_ms) == ("wrong", 60_000, None)
    # It goes on: after the question, time is credited; the lost segment earns nothing again here.
    assert watch(attempt, 5, 60, 75, when=at(85)).credited_ms == 15_000
    replay = watch(attempt, 6, 0, 15, when=at(100))
    assert (replay.credited_ms, replay.held_ms) == (0, 0)
    assert progress(org.learner, video).intervals == [[60_000, 75_000]]
    # A new attempt may earn it, with its own questions.
    later = start_attempt(employee=org.learner, course=video, now=at(200))
    assert later.next_question_ms == 60_000


def test_a_missing_answer_counts_as_wrong(org, video, questions):
    hand, _signs = questions
    placed(video, hand, 60, on_wrong=OnWrong.NOT_CREDITED)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 60)
    shown = watch(attempt, 4, 60, 61, when=at(61)).question
    # The right answer, but after the countdown (60 s) and its 10 s of slack.
    late = answer(attempt, shown["check"], right(hand), when=at(61 + 71))
    assert (late.outcome, late.credited_ms, late.uncredited_ms) == ("missed", 0, 60_000)
    assert answer.__name__ and AttentionCheck.objects.get(pk=shown["check"]).outcome == "missed"


def test_a_script_claiming_time_past_an_unanswered_question_is_cut(org, video, questions):
    hand, _signs = questions
    placed(video, hand, 60)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 60)
    # It never answers and keeps sending beats at the pace of real playback.
    outcomes = play(attempt, 60, 600, seq=4, t0=60)
    assert all(o.credited_ms == 0 and o.held_ms == 0 and o.flags == ["question_pending"] for o in outcomes)
    assert sum(o.cut_ms for o in outcomes) == 540_000
    assert all(o.question is not None for o in outcomes)  # shown again on every beat, same check
    assert {o.question["check"] for o in outcomes} == {AttentionCheck.objects.get().pk}
    assert progress(org.learner, video).credited_ms == 0
    facts = CreditedTime.objects.filter(attempt_id=attempt.pk, seq__gte=4)
    assert {f.details["attention_cut_ms"] for f in facts} == {15_000}


def test_answers_are_checked_and_bad_ones_refused_without_a_change(org, video, questions):
    hand, signs = questions
    placed(video, hand, 60)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    check = AttentionCheck.objects.get(attempt=attempt)
    with pytest.raises(BeatRejected) as not_due:  # answering before the question is shown
        answer(attempt, check.pk, right(hand), when=at(5))
    assert not_due.value.status == 409
    assert not_due.value.message == "This prompt or question is not waiting for an answer."
    play(attempt, 0, 61)
    for bad, message in [("x", "“choices” must be a list of choice numbers."),
                         ([True], "“choices” must be a list of choice numbers."),
                         (right(signs), "These choices are not those of the question.")]:
        with pytest.raises(BeatRejected) as refused:
            answer(attempt, check.pk, bad, when=at(70))
        assert (refused.value.status, refused.value.message) == (400, message)
    with pytest.raises(BeatRejected) as unknown:
        answer(attempt, check.pk + 1000, right(hand), when=at(70))
    assert unknown.value.status == 404
    # The largest number a check may have is looked up; the next one is not a check's number at all.
    for number, status in [(2**31 - 1, 404), (2**31, 400), (0, 400), (True, 400)]:
        with pytest.raises(BeatRejected) as refused:
            answer(attempt, number, right(hand), when=at(70))
        assert refused.value.status == status
    other = start_attempt(employee=org.outsider, course=video, now=at(0))
    with pytest.raises(BeatRejected) as foreign:
        services.answer_check(attempt_id=other.pk, user_id=org.outsider.user_id, check_id=check.pk,
                              choices=right(hand), now=at(70))
    assert foreign.value.status == 404
    check.refresh_from_db()
    assert (check.outcome, check.answered_at) == ("shown", None)
    assert answer(attempt, check.pk, right(hand), when=at(70)).outcome == "right"
    with pytest.raises(BeatRejected) as twice:
        answer(attempt, check.pk, right(hand), when=at(71))
    assert twice.value.status == 409


def test_random_questions_come_from_the_bank_at_moments_the_server_chooses(org, video, questions):
    AttentionRule.objects.create(course=video, random_questions=2)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    checks = list(AttentionCheck.objects.filter(attempt=attempt))
    assert {c.question_id for c in checks} == {q.pk for q in questions}
    assert all(60_000 <= c.due_ms < 540_000 and c.due_ms % 1000 == 0 for c in checks)
    assert abs(checks[0].due_ms - checks[1].due_ms) >= 10_000
    assert attempt.next_question_ms == min(c.due_ms for c in checks)
    assert all(c.outcome == "scheduled" and c.shown_at is None for c in checks)


def test_the_start_of_an_attempt_tells_that_there_are_questions_but_not_when(org, client_for, video, questions):
    placed(video, questions[0], 60, idle_minutes=5)
    client = client_for(org.learner)
    started = client.post(reverse("tracking:attempt_start", args=[video.pk])).json()
    assert (started["questions"], started["idle_ms"], started["answer_seconds"]) == (True, 300_000, 60)
    assert set(started) == {"attempt", "started_at", "duration_ms", "covered_ms", "total_credited_ms", "resume_ms",
                            "furthest_ms", "completed", "no_skipping", "idle_ms", "questions", "answer_seconds"}


def test_the_attention_endpoint_answers_questions_as_json(org, client_for, video, questions):
    hand, _signs = questions
    placed(video, hand, 60)
    client = client_for(org.learner)
    attempt_id = client.post(reverse("tracking:attempt_start", args=[video.pk])).json()["attempt"]
    attempt = Attempt.objects.get(pk=attempt_id)
    check = AttentionCheck.objects.get(attempt=attempt)
    AttentionCheck.objects.filter(pk=check.pk).update(outcome="shown", shown_at=attempt.started_at)
    url = reverse("tracking:attention")
    post = lambda body: client.post(url, body, content_type="application/json")  # noqa: E731
    assert post("[").json() == {"error": "The request is not valid JSON."}
    assert post("[]").status_code == 400
    assert post({"attempt": attempt_id, "check": "1"}).json() == {
        "error": "“check” must be the number of a prompt or question."}
    assert post({"attempt": "nonsense", "check": check.pk}).status_code == 404
    reply = post({"attempt": attempt_id, "check": check.pk, "choices": wrong(hand)})
    assert reply.status_code == 200 and reply.json()["outcome"] == "wrong" and reply.json()["rewind_to_ms"] == 0
    assert client.get(url).status_code == 405


# ---------------------------------------------------------------- the idle check


def test_idle_time_is_not_credited_after_the_deadline_until_the_prompt_is_answered(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcomes = play(attempt, 0, 90)  # no interaction at all
    assert [o.credited_ms for o in outcomes] == [15_000, 15_000, 15_000, 15_000, 0, 0]
    assert [o.prompt is not None for o in outcomes] == [False, False, False, False, True, True]
    assert outcomes[4].flags == ["idle"] and outcomes[4].cut_ms == 15_000
    prompt = AttentionCheck.objects.get(attempt=attempt, kind="idle")
    assert (prompt.shown_at, prompt.outcome) == (at(60), "shown")  # when the idle time ran out
    # Interaction while a prompt waits is not an answer.
    assert watch(attempt, 6, 90, 105, when=at(105), active=True).credited_ms == 0
    result = answer(attempt, prompt.pk, when=at(110))
    assert result.outcome == "answered"
    # The time between the prompt and the answer is spent: the next beat may only claim what followed.
    resumed = watch(attempt, 7, 60, 90, when=at(125))
    assert resumed.credited_ms == 20_000 and resumed.flags == ["over_wall_clock"]
    assert progress(org.learner, video).credited_ms == 80_000


def test_interaction_keeps_the_idle_check_away(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcomes = [watch(attempt, seq, seq * 15, seq * 15 + 15, when=at(seq * 15 + 15), active=seq % 3 == 0)
                for seq in range(12)]
    assert sum(o.credited_ms for o in outcomes) == 180_000
    assert not AttentionCheck.objects.exists()


def test_an_answer_at_the_last_moment_of_its_slack_is_in_time(org, video, questions):
    hand, _signs = questions
    placed(video, hand, 60, on_wrong=OnWrong.NOT_CREDITED)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 60)
    shown = watch(attempt, 4, 60, 61, when=at(61)).question
    assert AttentionCheck.objects.get(pk=shown["check"]).shown_at == at(60)  # reached by the beat ending at 60 s
    last_moment = answer(attempt, shown["check"], right(hand), when=at(60 + 70))  # 60 s and 10 s of slack
    assert (last_moment.outcome, last_moment.credited_ms, last_moment.uncredited_ms) == ("right", 60_000, 0)


def test_an_unanswered_prompt_is_recorded_and_a_late_answer_is_missed(org, document):
    AttentionRule.objects.create(course=document, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    opened = services.open_idle_prompt(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(30))
    outcome = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(45),
                                   beat=BeatInput(seq=0, reading_ms=45_000))
    assert (outcome.credited_ms, outcome.prompt) == (30_000, opened)
    check = AttentionCheck.objects.get(pk=opened["check"])
    assert (check.kind, check.outcome, check.shown_at) == ("idle", "shown", at(30))
    assert answer(attempt, check.pk, when=at(30 + 71)).outcome == "missed"


def test_reading_past_an_open_prompt_on_a_clock_spent_beyond_it_credits_nothing(org, document):
    AttentionRule.objects.create(course=document, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    first = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(30),
                                 beat=BeatInput(seq=0, reading_ms=35_000))  # 30 s and the 5 s of slack
    assert first.credited_ms == 35_000
    services.open_idle_prompt(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(30))
    # The clock is spent up to 35 s, past the prompt opened at 30 s: nothing more, never less than nothing.
    later = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(40),
                                 beat=BeatInput(seq=1, reading_ms=10_000))
    assert (later.credited_ms, later.cut_ms, later.total_credited_ms) == (0, 10_000, 35_000)
    assert progress(org.learner, document).credited_ms == 35_000


def test_a_plan_sets_the_idle_check_for_the_people_it_assigns(org, catalog, video):
    plan = LearningPlan.objects.create(name="Ward safety", starts_on=dt.date(2026, 1, 1), min_total_seconds=3600)
    plan.audience_employees.add(org.learner)
    PlanItem.objects.create(plan=plan, course=video)
    publish_plan(actor=None, plan=plan, now=at(0))
    AttentionRule.objects.create(plan=plan, idle_minutes=10)
    assert start_attempt(employee=org.learner, course=video, now=at(10)).idle_ms == 600_000
    assert start_attempt(employee=org.outsider, course=video, now=at(10)).idle_ms == 0
    AttentionRule.objects.create(course=video, idle_minutes=15)
    assert start_attempt(employee=org.learner, course=video, now=at(20)).idle_ms == 600_000  # the shorter wins


# ---------------------------------------------------------------- properties


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(st.tuples(st.integers(0, 590), st.integers(1, 40), st.integers(1, 30),
                                 st.sampled_from(["none", "right", "wrong", "late"])), min_size=1, max_size=20),
       on_wrong=st.sampled_from([OnWrong.REWIND, OnWrong.NOT_CREDITED]))
def test_any_beats_and_answers_credit_nothing_past_an_unanswered_question_or_above_the_clock(
        org, video, questions, script, on_wrong):
    with transaction.atomic():
        check_any_script(org, video, questions, script, on_wrong)
        transaction.set_rollback(True)


def check_any_script(org, video, questions, script, on_wrong):
    hand, _signs = questions
    placed(video, hand, 120, on_wrong=on_wrong)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    clock = 0
    answered_right = answered = False
    for seq, (start, length, wait, reply) in enumerate(script):
        clock += wait
        outcome = watch(attempt, seq, start, min(start + length, 600), when=at(clock))
        if outcome.question and reply != "none":
            asked = AttentionCheck.objects.get(pk=outcome.question["check"]).question
            choices = right(asked) if reply in ("right", "late") else wrong(asked)
            clock += 80 if reply == "late" else 1
            result = answer(attempt, outcome.question["check"], choices, when=at(clock))
            answered_right = answered_right or result.outcome == "right"
            answered = True
    state = progress(org.learner, video)
    facts = CreditedTime.objects.filter(attempt_id=attempt.pk)
    assert state.credited_ms == state.covered_ms == sum(f.details["credited_ms"] for f in facts)
    assert state.credited_ms <= clock * 1000 + 5_000  # never more than the time that passed
    if not answered:  # everything before the question is held, everything after it cut
        assert state.credited_ms == 0
    if not answered_right and on_wrong == OnWrong.REWIND:  # asked again and again, never right: nothing
        assert state.credited_ms == 0
    attempt.refresh_from_db()
    held = sum(end - start for start, end in attempt.held)
    assert held <= 120_000 and all(end <= 120_000 for _start, end in attempt.held)


# ---------------------------------------------------------------- the admin's settings and HR's view


def test_an_admin_sets_the_checks_of_a_course_and_places_questions(org, client_for, video, questions):
    hand, _signs = questions
    url = reverse("tracking:course_attention", args=[video.pk])
    assert client_for(org.learner).get(url).status_code == 403
    assert client_for(org.head).get(url).status_code == 403
    client = client_for(org.admin)
    page = client.get(url).text
    assert "Questions at moments of the video" in page and "How long do you wash your hands?" in page
    saved = client.post(url, {"save_rule": "1", "idle_minutes": "10", "random_questions": "2",
                              "on_wrong": "not_credited"})
    assert saved.status_code == 302
    rule = AttentionRule.objects.get(course=video)
    assert (rule.idle_minutes, rule.random_questions, rule.on_wrong) == (10, 2, "not_credited")
    audited = AuditEntry.objects.get(object_type="attentionrule", object_id=str(rule.pk), action="create")
    assert audited.summary == "Ten minutes"  # the course the rule is for
    assert client.post(url, {"place": "1", "question": hand.pk, "moment": "2:30"}).status_code == 302
    placed_question = PlacedQuestion.objects.get(course=video)
    assert (placed_question.question, placed_question.at_seconds) == (hand, 150)
    assert AuditEntry.objects.filter(object_type="placedquestion", action="create").count() == 1
    assert "2:30" in client.get(url).text
    for moment, error in [("2:30", "A question is already placed at this moment."),
                          ("10:00", "The moment must be within the video."),
                          ("1:75", "Write the moment as minutes:seconds, for example 12:30."),
                          ("soon", "Write the moment as minutes:seconds, for example 12:30.")]:
        refused = client.post(url, {"place": "1", "question": hand.pk, "moment": moment})
        assert refused.status_code == 200 and error in refused.text
    no_answer = Question.objects.create(quiz=hand.quiz, text="Open question")
    refused = client.post(url, {"place": "1", "question": no_answer.pk, "moment": "3:00"})
    assert "This question has no correct answer to check." in refused.text
    assert client.post(url, {"save_rule": "1", "idle_minutes": "-1", "random_questions": "0",
                             "on_wrong": "rewind"}).status_code == 200
    assert AttentionRule.objects.get(course=video).idle_minutes == 10  # nothing half-written
    remove = reverse("tracking:placed_question_delete", args=[video.pk, placed_question.pk])
    assert client_for(org.learner).post(remove).status_code == 403
    assert client_for(org.admin).post(remove).status_code == 302
    assert not PlacedQuestion.objects.exists()
    assert AuditEntry.objects.filter(object_type="placedquestion", action="delete").count() == 1


def test_the_settings_pages_speak_chinese(org, client_for, video, questions):
    page = client_for(org.admin, "zh-hans").get(reverse("tracking:course_attention", args=[video.pk])).text
    assert "专注度检查" in page and "视频中的弹题" in page
    assert "无操作" in page


def test_an_admin_sets_the_idle_check_of_a_plan(org, client_for, catalog):
    plan = LearningPlan.objects.create(name="Ward safety", starts_on=dt.date(2026, 1, 1), min_total_seconds=3600)
    url = reverse("tracking:plan_attention", args=[plan.pk])
    assert client_for(org.head).get(url).status_code == 403
    client = client_for(org.admin)
    assert "Attention checks" in client.get(reverse("plans:plan", args=[plan.pk])).text
    assert client.post(url, {"idle_minutes": "8"}).status_code == 302
    assert AttentionRule.objects.get(plan=plan).idle_minutes == 8
    assert client.post(url, {"idle_minutes": "999"}).status_code == 200
    assert AttentionRule.objects.get(plan=plan).idle_minutes == 8


def test_hr_sees_prompts_and_questions_shown_answered_missed_and_the_time_lost(org, client_for, video, questions):
    hand, _signs = questions
    placed(video, hand, 60, on_wrong=OnWrong.REWIND, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    play(attempt, 0, 45, step=15)  # active never: the idle deadline is at 60 s
    shown = watch(attempt, 3, 45, 65, when=at(65))  # 15 s held, 5 s past the question
    assert shown.prompt is not None and shown.question is not None
    answer(attempt, shown.question["check"], wrong(hand), when=at(70))  # 60 s lost
    answer(attempt, shown.prompt["check"], when=at(200))  # too late: missed
    page = client_for(org.admin).get(reverse("tracking:learner_detail", args=[video.pk, org.learner.pk])).text
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]*)</dd>", page))
    assert facts["idle prompts shown"] == "1" and facts["idle prompts not answered in time"] == "1"
    assert facts["idle prompts answered in time"] == "0"
    assert (facts["questions shown"], facts["answered right"], facts["answered wrongly"]) == ("1", "0", "1")
    assert facts["time not credited because of them"] == "1:05"  # 60 s lost and 5 s past the question
    assert "played past a question not yet answered" in page
    chinese = client_for(org.admin, "zh-hans").get(
        reverse("tracking:learner_detail", args=[video.pk, org.learner.pk])).text
    assert "专注度检查" in chinese and "因此未计入的时间" in chinese
    plain = client_for(org.admin).get(reverse("tracking:learner_detail", args=[video.pk, org.outsider.pk])).text
    assert 'id="attention"' not in plain


# ---------------------------------------------------------------- one place at a time


def test_with_last_sign_in_wins_a_new_sign_in_ends_the_older_session(org, settings):
    from django.test import Client

    settings.LAST_SIGNIN_WINS = True
    phone, laptop = Client(), Client()
    phone.force_login(org.learner.user)
    assert phone.get(reverse("plans:my")).status_code == 200
    laptop.force_login(org.learner.user)
    ended = phone.get(reverse("plans:my"), headers={"Accept-Language": "en"})
    assert ended.status_code == 302 and ended.url.startswith("/accounts/login/")
    assert laptop.get(reverse("plans:my")).status_code == 200
    other = Client()
    other.force_login(org.head.user)  # someone else's sign-in ends nothing
    assert laptop.get(reverse("plans:my")).status_code == 200


def test_without_the_rule_sessions_stay_side_by_side(org, settings):
    from django.test import Client

    settings.LAST_SIGNIN_WINS = False
    phone, laptop = Client(), Client()
    phone.force_login(org.learner.user)
    laptop.force_login(org.learner.user)
    assert phone.get(reverse("plans:my")).status_code == 200
    assert laptop.get(reverse("plans:my")).status_code == 200
