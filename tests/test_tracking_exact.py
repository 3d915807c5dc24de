"""Exact outcomes of tracking: the edges of what a beat may say (through the real endpoint where a
player sends it), and the credited, cut and covered milliseconds of a run of beats worked out by hand."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learntrace.catalog.models import Course, CourseKind
from learntrace.records.models import CourseProgress, CreditedTime
from learntrace.tracking import services
from learntrace.tracking.models import LearnerClock
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
