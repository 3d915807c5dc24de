"""Exact outcomes of tracking: the edges of what a beat may say (through the real endpoint where a
player sends it), and the credited, cut and covered milliseconds of a run of beats worked out by hand."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learntrace.catalog.models import Choice, Course, CourseKind, Question, Quiz
from learntrace.core.models import AuditEntry
from learntrace.org.models import Employee
from learntrace.records.models import CourseProgress, CreditedTime
from learntrace.tracking import attention, services
from learntrace.tracking.models import Attempt, AttentionRule, LearnerClock, OnWrong, PlacedQuestion
from learntrace.tracking.services import BeatInput, BeatRejected, parse_beat, start_attempt

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
                                 duration_seconds=120, completion_threshold=100, is_published=True)


def rejection(data, course) -> str:
    with pytest.raises(BeatRejected) as caught:
        parse_beat(data, course)
    assert caught.value.status == 400
    return caught.value.message


# ---------------------------------------------------------------- the end of a video, through the endpoint


def test_beats_ending_in_the_last_two_seconds_of_a_video_are_credited_through_the_endpoint(org, client_for, video):
    client = client_for(org.learner)
    with time_machine.travel(T0, tick=False) as traveller:
        attempt = client.post(reverse("tracking:attempt_start", args=[video.pk])).json()["attempt"]
        answers = []
        for seq, segment in enumerate([[590, 601.5], [580, 590], [570, 602], [560, 602.001]]):
            traveller.shift(10)
            answers.append(client.post(reverse("tracking:beat"), {"attempt": attempt, "beat": json.dumps(
                {"seq": seq, "segments": [segment], "elapsed_ms": 10_000 * (seq + 1)})}))
    assert [answer.status_code for answer in answers] == [200, 200, 200, 400]
    assert [answer.json().get("credited_ms") for answer in answers[:3]] == [10_000, 10_000, 10_000]
    assert answers[3].json() == {"error": "A segment goes beyond the end of the media."}
    progress = CourseProgress.objects.get(employee=org.learner, course=video)
    assert progress.intervals == [[570_000, 600_000]]  # the end is clamped to the duration
    assert (progress.covered_ms, progress.last_position_ms) == (30_000, 600_000)


# ---------------------------------------------------------------- the edges of a beat


def test_a_beat_may_carry_200_segments_and_not_201(video):
    segments = [[i, i + 1] for i in range(200)]
    assert len(parse_beat({"seq": 1, "segments": segments}, video).segments) == 200
    assert rejection({"seq": 1, "segments": [*segments, [200, 201]]}, video) == (
        "“segments” must be a list of at most 200 [start, end] pairs.")


def test_a_beat_with_only_a_number_takes_the_defaults(video):
    beat = parse_beat({"seq": 0}, video)
    assert beat == BeatInput(seq=0, segments=[], reading_ms=0, rate=1.0, hidden=False, client_elapsed_ms=0)


@pytest.mark.parametrize(("key", "lowest", "highest", "too_low", "too_high"), [
    ("seq", 0, 10_000_000, -1, 10_000_001),
    ("rate", 0.0625, 16, 0.0624, 16.001),
    ("elapsed_ms", 0, 7 * 24 * 3600 * 1000, -1, 7 * 24 * 3600 * 1000 + 1),
    ("reading_ms", 0, 600_000, -1, 600_001),
])
def test_each_number_of_a_beat_is_accepted_up_to_its_exact_limits(video, key, lowest, highest, too_low, too_high):
    base = {"seq": 3}
    for value in (lowest, highest):
        parse_beat({**base, key: value}, video)
    minimum, maximum = {"seq": ("0", "10000000"), "rate": ("0.0625", "16"), "elapsed_ms": ("0", "604800000"),
                        "reading_ms": ("0", "600000")}[key]
    for value in (too_low, too_high):
        assert rejection({**base, key: value}, video) == f"“{key}” must be between {minimum} and {maximum}."


def test_what_a_beat_must_be(video, document):
    assert rejection([], video) == "A beat is a JSON object."
    assert rejection({}, video) == "“seq” is missing."
    assert rejection({"seq": True}, video) == "“seq” must be a number."
    assert rejection({"seq": 1.5}, video) == "“seq” must be a whole number."
    assert parse_beat({"seq": 2.0}, video).seq == 2
    assert rejection({"seq": 1, "hidden": "yes"}, video) == "“hidden” must be true or false."
    assert parse_beat({"seq": 1, "hidden": True}, video).hidden is True
    assert rejection({"seq": 1, "segments": {"0": 1}}, video) == (
        "“segments” must be a list of at most 200 [start, end] pairs.")
    for segment in ([1], [1, 2, 3], [1, "2"], [1, True], "12"):
        assert rejection({"seq": 1, "segments": [segment]}, video) == "Each segment must be [start, end] in seconds."
    for segment in ([-0.001, 2], [5, 4.999]):
        assert rejection({"seq": 1, "segments": [segment]}, video) == (
            "A segment must not start before 0 or end before it starts.")
    assert rejection({"seq": 1, "segments": [[0, 1]]}, document) == (
        "A document is tracked by reading time, not segments.")


def test_segments_are_rounded_to_milliseconds_and_clamped_to_the_duration(video):
    beat = parse_beat({"seq": 1, "segments": [[1.0004, 2.0006], [0, 0], [599, 601]]}, video)
    assert beat.segments == [(1000, 2001), (0, 0), (599_000, 600_000)]


# ---------------------------------------------------------------- credited milliseconds, worked out by hand


def credit(attempt, seq, when, **fields):
    beat = BeatInput(seq=seq, client_elapsed_ms=int((when - attempt.started_at).total_seconds() * 1000), **fields)
    outcome = services.credit_beat(attempt_id=attempt.pk, user_id=attempt.employee.user_id, beat=beat, now=when)
    fact = CreditedTime.objects.get(attempt_id=attempt.pk, seq=seq)
    return outcome.credited_ms, outcome.cut_ms, outcome.flags, fact.seconds, outcome.total_credited_ms


def test_a_run_of_video_beats_is_credited_to_the_millisecond(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    # 10.5 s watched in 10 s of wall clock: within the 5 s slack.
    assert credit(attempt, 0, at(10), segments=[(0, 10_500)]) == (10_500, 0, [], 10, 10_500)
    # 9.5 s more 1.5 s after the clock's 10.5 s: 1.5 s + 5 s slack = 6.5 s.
    assert credit(attempt, 1, at(12), segments=[(10_500, 20_000)]) == (6_500, 3_000, ["over_wall_clock"], 7, 17_000)
    # Hidden: nothing, all of it cut.
    assert credit(attempt, 2, at(30), segments=[(17_000, 25_000)], hidden=True) == (0, 8_000, ["hidden"], 0, 17_000)
    # 70 s at 3x costs 35 s of the clock at 2x.
    assert credit(attempt, 3, at(100), segments=[(20_000, 90_000)], rate=3.0) == (
        70_000, 0, ["rate_above_2x"], 70, 87_000)
    # 100 s in one beat: a beat may spend at most 60 s of the clock.
    assert credit(attempt, 4, at(1000), segments=[(100_000, 200_000)]) == (60_000, 40_000, ["beat_too_long"], 60,
                                                                           147_000)
    progress = CourseProgress.objects.get(employee=org.learner, course=video)
    assert progress.intervals == [[0, 17_000], [20_000, 90_000], [100_000, 160_000]]
    assert (progress.covered_ms, progress.credited_ms, progress.played_ms, progress.last_position_ms) == (
        147_000, 147_000, 20_000 + 8_000 + 70_000 + 100_000, 200_000)
    assert LearnerClock.objects.get(employee=org.learner).busy_until == at(17 + 35 + 60)


def test_a_beat_at_the_moment_the_slack_was_spent_gets_nothing(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    # 15 s watched in 10 s: the clock is spent up to 5 s ahead of now.
    assert credit(attempt, 0, at(10), segments=[(0, 15_000)]) == (15_000, 0, [], 15, 15_000)
    # A second beat in the same moment (another tab): no time left on the clock, not even a millisecond.
    assert credit(attempt, 1, at(10), segments=[(15_000, 16_000)]) == (0, 1_000, ["over_wall_clock"], 0, 15_000)
    assert LearnerClock.objects.get(employee=org.learner).busy_until == at(15)


def test_a_replay_of_the_last_beat_is_answered_from_the_record_without_an_insert(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(attempt, 0, at(10), segments=[(0, 10_000)])
    beat = BeatInput(seq=0, segments=[(0, 10_000)], client_elapsed_ms=10_000)
    with CaptureQueriesContext(connection) as queries:
        replay = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, beat=beat, now=at(11))
    assert (replay.duplicate, replay.credited_ms, replay.total_credited_ms) == (True, 10_000, 10_000)
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]


def test_whole_seconds_reach_the_record_as_milliseconds_add_up(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert credit(attempt, 0, at(10), segments=[(0, 1_600)]) == (1_600, 0, [], 1, 1_600)
    assert credit(attempt, 1, at(20), segments=[(1_600, 3_200)]) == (1_600, 0, [], 2, 3_200)
    assert credit(attempt, 2, at(30), segments=[(3_200, 3_700)]) == (500, 0, [], 0, 3_700)


def test_a_beat_is_dated_when_it_was_watched_within_the_attempt_and_now(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    beat = BeatInput(seq=0, segments=[(0, 5_000)], client_elapsed_ms=999_000)  # a client clock ahead of ours
    services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, beat=beat, now=at(8))
    beat = BeatInput(seq=1, segments=[(5_000, 9_000)], client_elapsed_ms=7_000)
    services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, beat=beat, now=at(20))
    assert list(CreditedTime.objects.filter(attempt_id=attempt.pk).order_by("seq").values_list(
        "occurred_at", flat=True)) == [at(8), at(7)]


def test_reading_a_document_is_credited_up_to_its_reading_time_to_the_millisecond(org, document):
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    assert credit(attempt, 0, at(60), reading_ms=50_000) == (50_000, 0, [], 50, 50_000)
    # A rate means nothing for reading; 70 s still owed, a beat spends at most 60 s.
    assert credit(attempt, 1, at(200), reading_ms=90_000, rate=4.0) == (60_000, 10_000, ["beat_too_long"], 60,
                                                                        110_000)
    assert credit(attempt, 2, at(400), reading_ms=30_000) == (10_000, 0, [], 10, 120_000)
    assert credit(attempt, 3, at(500), reading_ms=30_000) == (0, 0, [], 0, 120_000)
    progress = CourseProgress.objects.get(employee=org.learner, course=document)
    assert (progress.covered_ms, progress.played_ms, progress.completed_at) == (120_000, 200_000, at(400))


def test_a_beat_built_with_the_defaults_is_recorded_with_them(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcome = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(10),
                                   beat=BeatInput(seq=0, segments=[(0, 10_000)]))
    assert outcome.as_dict() == {
        "duplicate": False, "credited_ms": 10_000, "cut_ms": 0, "flags": [], "total_credited_ms": 10_000,
        "covered_ms": 10_000, "duration_ms": 600_000, "completed": False, "held_ms": 0, "question": None,
        "prompt": None}
    # Without attention checks the fact says nothing of activity or held time.
    fact = CreditedTime.objects.get(attempt_id=attempt.pk)
    assert fact.details == {
        "segments": [[0, 10_000]], "reading_ms": 0, "rate": 1.0, "hidden": False, "elapsed_ms": 0,
        "received_at": at(10).isoformat(), "played_ms": 10_000, "credited_ms": 10_000, "cut_ms": 0, "flags": []}


def test_with_an_idle_check_a_beat_records_no_activity_unless_reported_and_nothing_held(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcome = services.credit_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(10),
                                   beat=BeatInput(seq=0, segments=[(0, 10_000)], client_elapsed_ms=10_000))
    assert (outcome.credited_ms, outcome.held_ms, outcome.prompt) == (10_000, 0, None)
    details = CreditedTime.objects.get(attempt_id=attempt.pk).details
    assert (details["active"], details["held_ms"], details["attention_cut_ms"]) == (False, 0, 0)
    assert Attempt.objects.get(pk=attempt.pk).presence_at == at(0)  # no interaction reported: no presence


# ---------------------------------------------------------------- the exact edges of the person's clock


def clock_of(employee) -> tuple:
    clock = LearnerClock.objects.get(employee=employee)
    return clock.busy_until, clock.last_attempt_id, clock.last_seq


def test_at_exactly_twice_the_speed_every_millisecond_is_credited_and_nothing_flagged(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    # 10.001 s at 2x cost 5.0005 s of the clock, rounded up to the millisecond.
    assert credit(attempt, 0, at(10), segments=[(0, 10_001)], rate=2.0) == (10_001, 0, [], 10, 10_001)
    assert clock_of(org.learner)[0] == at(5.001)


def test_a_beat_of_exactly_a_minute_is_credited_in_full_and_a_hidden_replay_is_not_flagged(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert credit(attempt, 0, at(60), segments=[(0, 60_000)]) == (60_000, 0, [], 60, 60_000)
    # A hidden tab playing what was already credited adds nothing: nothing to cut or flag.
    assert credit(attempt, 1, at(70), segments=[(0, 10_000)], hidden=True) == (0, 0, [], 0, 60_000)


def test_a_server_clock_set_back_credits_nothing_never_less(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert credit(attempt, 0, at(10), segments=[(0, 15_000)]) == (15_000, 0, [], 15, 15_000)
    # The server's clock steps back 10 s (an NTP correction): the person's clock is 15 s ahead of it.
    assert credit(attempt, 1, at(0), segments=[(15_000, 20_000)]) == (0, 5_000, ["over_wall_clock"], 0, 15_000)
    assert clock_of(org.learner)[0] == at(15)


def test_a_beat_cut_because_another_attempt_spent_the_clock_says_so(org, video):
    first = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(first, 0, at(10), segments=[(0, 15_000)])  # the clock is spent up to 15 s
    # Started at 5 s, before the clock's end: the first attempt spent the clock meanwhile.
    overlapping = start_attempt(employee=org.learner, course=video, now=at(5))
    assert credit(overlapping, 0, at(16), segments=[(100_000, 110_000)]) == (
        6_000, 4_000, ["over_wall_clock", "another_window"], 6, 21_000)
    # Started at the clock's end (21 s): cut for going too fast, not because of the others.
    after = start_attempt(employee=org.learner, course=video, now=at(21))
    assert credit(after, 0, at(22), segments=[(200_000, 210_000)]) == (6_000, 4_000, ["over_wall_clock"], 6, 27_000)


def test_the_clock_keeps_the_highest_number_of_the_attempt_it_last_credited(org, video):
    a = start_attempt(employee=org.learner, course=video, now=at(0))
    b = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(a, 0, at(10), segments=[(0, 1_000)])
    assert clock_of(org.learner)[1:] == (a.pk, 0)
    credit(a, 20, at(20), segments=[(1_000, 2_000)])
    credit(b, 1, at(30), segments=[(2_000, 3_000)])
    assert clock_of(org.learner)[1:] == (b.pk, 1)
    # An older number of `a` after `b`: looked up, and the clock keeps `a`'s highest, 20.
    assert credit(a, 15, at(40), segments=[(3_000, 4_000)])[0] == 1_000
    assert clock_of(org.learner)[1:] == (a.pk, 20)


def test_a_beat_of_999_ms_gives_the_record_no_second_and_the_next_millisecond_gives_one(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert credit(attempt, 0, at(10), segments=[(0, 999)]) == (999, 0, [], 0, 999)
    assert credit(attempt, 1, at(20), segments=[(999, 1_000)]) == (1, 0, [], 1, 1_000)


def test_the_position_to_resume_is_the_end_of_the_last_segment_of_the_beat(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(attempt, 0, at(20), segments=[(0, 5_000), (10_000, 15_000)])
    progress = CourseProgress.objects.get(employee=org.learner, course=video)
    assert (progress.last_position_ms, progress.intervals) == (15_000, [[0, 5_000], [10_000, 15_000]])


# ---------------------------------------------------------------- the exact edges of the idle check


def test_the_idle_check_cuts_at_the_deadline_to_the_millisecond_at_twice_the_speed(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert credit(attempt, 0, at(50), segments=[(0, 100_000)], rate=2.0) == (100_000, 0, [], 100, 100_000)
    # The clock is at 50 s, the idle deadline at 60 s: 10 s of clock are left, 20 s of video at 2x.
    assert credit(attempt, 1, at(70), segments=[(100_000, 140_000)], rate=2.0) == (
        20_000, 20_000, ["idle"], 20, 120_000)
    assert clock_of(org.learner)[0] == at(60)
    assert CreditedTime.objects.get(attempt_id=attempt.pk, seq=1).details["attention_cut_ms"] == 20_000


def test_a_beat_that_ends_exactly_at_the_idle_deadline_or_at_the_clock_is_not_cut_for_idling(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    # The idle deadline is at 60 s; 40 s from 20 s reach it exactly.
    exact = start_attempt(employee=org.outsider, course=video, now=at(0))
    credit(exact, 0, at(20), segments=[(0, 20_000)])
    assert credit(exact, 1, at(58), segments=[(20_000, 60_000)]) == (40_000, 0, [], 40, 60_000)
    # 45 s from 20 s at 55 s: the clock allows 40 s (35 s and the slack), and so does the deadline.
    # The wall clock cuts it, not the idle check.
    fast = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(fast, 0, at(20), segments=[(0, 20_000)])
    assert credit(fast, 1, at(55), segments=[(20_000, 65_000)]) == (40_000, 5_000, ["over_wall_clock"], 40, 60_000)


def test_an_answered_idle_prompt_says_exactly_where_the_course_stands(org, video):
    AttentionRule.objects.create(course=video, idle_minutes=1)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    credit(attempt, 0, at(20), segments=[(0, 20_000)])
    prompt = services.open_idle_prompt(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(30))
    answered = services.answer_check(attempt_id=attempt.pk, user_id=org.learner.user_id, check_id=prompt["check"],
                                     now=at(40))
    assert answered.as_dict() == {"outcome": "answered", "credited_ms": 0, "uncredited_ms": 0, "rewind_to_ms": None,
                                  "total_credited_ms": 20_000, "covered_ms": 20_000, "completed": False}


# ---------------------------------------------------------------- answers to questions


@pytest.fixture
def hand_washing(video):
    quiz = Quiz.objects.create(course=video)
    question = Question.objects.create(quiz=quiz, position=1, text="How long do you wash your hands?")
    Choice.objects.create(question=question, position=1, text="5 seconds")
    Choice.objects.create(question=question, position=2, text="20 seconds", is_correct=True)
    return question


def test_the_choices_of_an_answer_are_at_most_50_numbers_of_31_bits(db):
    assert services._choice_ids([1, 2**31 - 1]) == {1, 2**31 - 1}
    assert services._choice_ids(list(range(1, 51))) == set(range(1, 51))
    for bad in (list(range(1, 52)), [0], [2**31], [True], [1.0], "12", {"1": 1}):
        with pytest.raises(BeatRejected) as refused:
            services._choice_ids(bad)
        assert (refused.value.status, refused.value.message) == (400, "“choices” must be a list of choice numbers.")


def test_every_choice_of_a_question_at_once_is_a_wrong_answer(org, video, hand_washing):
    AttentionRule.objects.create(course=video, on_wrong=OnWrong.NOT_CREDITED)
    PlacedQuestion.objects.create(course=video, question=hand_washing, at_seconds=10)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    shown = credit_outcome(attempt, 0, at(10), segments=[(0, 10_000)]).question
    every_choice = [choice.pk for choice in hand_washing.choices.all()]
    answered = services.answer_check(attempt_id=attempt.pk, user_id=org.learner.user_id, check_id=shown["check"],
                                     choices=every_choice, now=at(20))
    assert answered.as_dict() == {"outcome": "wrong", "credited_ms": 0, "uncredited_ms": 10_000,
                                  "rewind_to_ms": None, "total_credited_ms": 0, "covered_ms": 0, "completed": False}


def credit_outcome(attempt, seq, when, **fields):
    beat = BeatInput(seq=seq, client_elapsed_ms=int((when - attempt.started_at).total_seconds() * 1000), **fields)
    return services.credit_beat(attempt_id=attempt.pk, user_id=attempt.employee.user_id, beat=beat, now=when)


def test_right_answers_give_the_record_the_whole_seconds_reached_to_the_millisecond(org, video, hand_washing):
    AttentionRule.objects.create(course=video)
    for moment in (60, 120, 180):
        PlacedQuestion.objects.create(course=video, question=hand_washing, at_seconds=moment)
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    right = [choice.pk for choice in hand_washing.choices.all() if choice.is_correct]
    seq = 0
    # Each minute is held until its question is answered right; the second skips its first 50 ms.
    for start_ms, end_ms, clock in [(0, 60_000, 0), (60_050, 120_000, 61), (120_000, 180_000, 122)]:
        for a in range(start_ms, end_ms, 15_000):
            outcome = credit_outcome(attempt, seq, at(clock + (min(a + 15_000, end_ms) - start_ms) / 1000),
                                     segments=[(a, min(a + 15_000, end_ms))])
            seq += 1
        answered = services.answer_check(attempt_id=attempt.pk, user_id=org.learner.user_id,
                                         check_id=outcome.question["check"], choices=right,
                                         now=at(clock + 61))
        assert answered.outcome == "right"
    facts = CreditedTime.objects.filter(attempt_id=attempt.pk, seq__gte=attention.SERVER_SEQ_BASE).order_by("seq")
    # 60 000 ms, then 119 950 ms, then 179 950 ms credited in all: 60, 119 and 179 whole seconds.
    assert [(fact.details["credited_ms"], fact.seconds) for fact in facts] == [
        (60_000, 60), (59_950, 59), (60_000, 60)]


def test_placing_a_question_is_audited_with_its_moment_in_minutes_and_seconds(org, video, hand_washing):
    for moment in (59, 545):
        services.place_question(actor=org.admin.user, course=video, question=hand_washing, at_seconds=moment)
    entries = AuditEntry.objects.filter(object_type="placedquestion", action="create").order_by("pk")
    assert [entry.summary for entry in entries] == ["Ten minutes @0:59: How long do you wash your hands?",
                                                    "Ten minutes @9:05: How long do you wash your hands?"]


# ---------------------------------------------------------------- starting an attempt, what the player is told


def test_only_an_active_employees_own_viewing_is_tracked(org, video, catalog):
    org.outsider.is_active = False
    org.outsider.save()
    without_account = Employee.objects.create(employee_no="E009", name="No account", department=org.b)
    for employee in (org.outsider, without_account):
        with pytest.raises(BeatRejected) as refused:
            start_attempt(employee=employee, course=video, now=at(0))
        assert (refused.value.status, refused.value.message) == (
            403, "Only an active employee's own viewing is tracked.")
    with pytest.raises(BeatRejected) as untracked:
        start_attempt(employee=org.learner, course=catalog.meeting, now=at(0))
    assert (untracked.value.status, untracked.value.message) == (404, "This course is not tracked here.")
    assert not Attempt.objects.exists()
    attempt = start_attempt(employee=org.learner, course=video, now=at(0), user_agent="M" * 300)
    assert Attempt.objects.get(pk=attempt.pk).user_agent == "M" * 200


def test_what_the_player_is_told_when_it_opens(org, video, hand_washing):
    assert services.coverage_state(org.learner, video) == {
        "duration_ms": 600_000, "covered_ms": 0, "total_credited_ms": 0, "resume_ms": 0, "furthest_ms": 0,
        "completed": False, "no_skipping": False}
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    assert services.attention_state(attempt) == {"idle_ms": 0, "questions": False, "answer_seconds": 60}
    credit(attempt, 0, at(10), segments=[(0, 10_000)])
    credit(attempt, 1, at(20), segments=[(12_000, 20_000)])
    # A gap of 2 s is more than the 1 s that "no skipping" forgives: the furthest point is 10 s.
    assert services.coverage_state(org.learner, video) == {
        "duration_ms": 600_000, "covered_ms": 18_000, "total_credited_ms": 18_000, "resume_ms": 20_000,
        "furthest_ms": 10_000, "completed": False, "no_skipping": False}
    AttentionRule.objects.create(course=video, idle_minutes=2)
    PlacedQuestion.objects.create(course=video, question=hand_washing, at_seconds=30)
    later = start_attempt(employee=org.learner, course=video, now=at(100))
    assert services.attention_state(later) == {"idle_ms": 120_000, "questions": True, "answer_seconds": 60}
