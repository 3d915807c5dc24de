"""Automatic check-in for video and documents: what is credited, and the attacks that must fail."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learntrace.catalog.models import Course, CourseKind
from learntrace.records.models import Completion, CourseProgress, CreditedTime
from learntrace.tracking import services
from learntrace.tracking.models import Attempt
from learntrace.tracking.services import BeatInput, BeatRejected, parse_beat, start_attempt

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def video(catalog):
    return Course.objects.create(title="Ten minutes", kind=CourseKind.VIDEO, category=catalog.management,
                                 duration_seconds=600, completion_threshold=95, is_published=True)


@pytest.fixture
def document(catalog):
    return Course.objects.create(title="Handbook", kind=CourseKind.DOCUMENT, category=catalog.management,
                                 duration_seconds=120, completion_threshold=100, is_published=True)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def watch(attempt, seq, start, end, *, when, rate=1.0, hidden=False):
    beat = BeatInput(seq=seq, segments=[(int(start * 1000), int(end * 1000))], rate=rate, hidden=hidden,
                     client_elapsed_ms=int((when - attempt.started_at).total_seconds() * 1000))
    return apply_beat(attempt, beat, when)


def apply_beat(attempt, beat, when):
    return services.credit_beat(attempt_id=attempt.pk, user_id=attempt.employee.user_id, beat=beat, now=when)


def beats(attempt):
    return CreditedTime.objects.filter(attempt_id=attempt.pk).order_by("seq")


def attempt_totals(attempt):
    return {key: sum(fact.details[key] for fact in beats(attempt)) for key in ("played_ms", "credited_ms", "cut_ms")}


def credited_seconds(employee, course):
    return sum(CreditedTime.objects.filter(employee=employee, course=course).values_list("seconds", flat=True))


def test_honest_viewing_is_credited_and_completes_once(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    for seq in range(40):  # 40 beats of 15 s: the whole 600 s
        outcome = watch(attempt, seq, seq * 15, seq * 15 + 15, when=at(seq * 15 + 15))
        assert outcome.cut_ms == 0
    assert credited_seconds(org.learner, video) == 600
    completion = Completion.objects.get(employee=org.learner, course=video)
    assert completion.completed_at == at(570)  # the beat that reached 95 % (570 of 600 s)
    assert attempt_totals(attempt)["credited_ms"] == 600_000
    assert attempt_totals(attempt)["cut_ms"] == 0


def test_a_beat_claiming_an_hour_after_ten_seconds_is_cut_and_flagged(org, catalog):
    long_video = Course.objects.create(title="Hour", kind=CourseKind.VIDEO, category=catalog.management,
                                       duration_seconds=3600, is_published=True)
    attempt = start_attempt(employee=org.learner, course=long_video, now=at(0))
    outcome = watch(attempt, 0, 0, 3600, when=at(10))
    assert outcome.credited_ms <= 15_000
    assert outcome.cut_ms >= 3_585_000
    assert "beat_too_long" in outcome.flags
    fact = beats(attempt).get()
    assert fact.details["cut_ms"] == outcome.cut_ms and fact.details["segments"] == [[0, 3_600_000]]
    # The seconds that were cut are not in the coverage: watching them for real still counts later.
    assert CourseProgress.objects.get(employee=org.learner, course=long_video).covered_ms == outcome.credited_ms


def test_a_replayed_sequence_number_is_accepted_once(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    first = watch(attempt, 0, 0, 15, when=at(15))
    again = watch(attempt, 0, 15, 30, when=at(30))  # same seq, different claim
    assert not first.duplicate and again.duplicate
    assert again.credited_ms == first.credited_ms == 15_000
    assert credited_seconds(org.learner, video) == 15
    assert beats(attempt).count() == 1


def test_watching_the_same_part_again_counts_as_repeat_not_credit(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(attempt, 0, 0, 30, when=at(30))
    again = watch(attempt, 1, 0, 30, when=at(60))
    assert again.credited_ms == 0 and again.cut_ms == 0
    more = watch(attempt, 2, 30, 45, when=at(75))
    assert more.credited_ms == 15_000
    coverage = CourseProgress.objects.get(employee=org.learner, course=video)
    assert (coverage.covered_ms, coverage.played_ms) == (45_000, 75_000)
    assert coverage.last_position_ms == 45_000


def test_two_tabs_playing_at_once_share_one_clock(org, video):
    first = start_attempt(employee=org.learner, course=video, now=at(0))
    second = start_attempt(employee=org.learner, course=video, now=at(0))
    for i in range(8):  # two minutes, each tab playing a different half of the video
        watch(first, i, i * 15, i * 15 + 15, when=at(i * 15 + 15))
        watch(second, i, 300 + i * 15, 300 + i * 15 + 15, when=at(i * 15 + 15))
    assert credited_seconds(org.learner, video) <= 120 + services.SLACK_MS // 1000


def test_playback_faster_than_2x_is_credited_as_2x(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcome = watch(attempt, 0, 0, 60, when=at(15), rate=4.0)
    assert outcome.credited_ms <= 2 * 15_000 + 2 * services.SLACK_MS
    assert "rate_above_2x" in outcome.flags and "over_wall_clock" in outcome.flags
    honest = start_attempt(employee=org.outsider, course=video, now=at(0))
    assert watch(honest, 0, 0, 30, when=at(15), rate=2.0).credited_ms == 30_000


def test_hidden_playback_is_not_credited(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    outcome = watch(attempt, 0, 0, 15, when=at(15), hidden=True)
    assert outcome.credited_ms == 0 and outcome.flags == ["hidden"]
    assert credited_seconds(org.learner, video) == 0


def test_beats_queued_offline_are_credited_when_they_arrive(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    for seq in range(10):  # 150 s of watching, all sent at once when the network is back
        outcome = watch(attempt, seq, seq * 15, seq * 15 + 15, when=at(160))
        assert outcome.cut_ms == 0
    assert credited_seconds(org.learner, video) == 150


def test_credit_is_attributed_to_when_it_was_watched(org, video):
    shanghai_month_end = dt.datetime(2026, 3, 31, 15, 59, 30, tzinfo=dt.UTC)  # 23:59:30 in Shanghai
    attempt = start_attempt(employee=org.learner, course=video, now=shanghai_month_end)
    beat = BeatInput(seq=0, segments=[(0, 20_000)], client_elapsed_ms=20_000)
    apply_beat(attempt, beat, shanghai_month_end + dt.timedelta(minutes=5))  # arrives in April
    fact = CreditedTime.objects.get()
    assert fact.seconds == 20 and fact.occurred_at == shanghai_month_end + dt.timedelta(seconds=20)


def test_reading_a_document_is_credited_up_to_the_minimum_reading_time(org, document):
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    for seq in range(10):
        apply_beat(attempt, BeatInput(seq=seq, reading_ms=15_000), at(15 * seq + 15))
    assert credited_seconds(org.learner, document) == 120
    assert Completion.objects.filter(employee=org.learner, course=document).exists()
    with pytest.raises(BeatRejected):
        parse_beat({"seq": 11, "segments": [[0, 10]]}, document)


@pytest.mark.parametrize("data,message", [
    ({"seq": 0, "segments": [[-1, 10]]}, "before 0"),
    ({"seq": 0, "segments": [[10, 5]]}, "before it starts"),
    ({"seq": 0, "segments": [[0, 700]]}, "beyond the end"),
    ({"seq": 0, "segments": [[0, "10"]]}, "[start, end]"),
    ({"seq": 0, "segments": [[0, float("nan")]]}, "[start, end]"),
    ({"seq": 0, "segments": "0-10"}, "list"),
    ({"seq": -1}, "between"),
    ({"seq": 1.5}, "whole number"),
    ({"seq": True}, "number"),
    ({"segments": []}, "missing"),
    ({"seq": 0, "rate": 100}, "between"),
    ({"seq": 0, "hidden": "no"}, "true or false"),
    ([1, 2], "JSON object"),
])
def test_malformed_beats_are_refused_with_a_reason(video, data, message):
    with pytest.raises(BeatRejected, match=message):
        parse_beat(data, video)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600), st.integers(1, 40),
                          st.sampled_from([0.5, 1.0, 1.5, 2.0, 4.0])), min_size=1, max_size=25))
def test_random_beat_sequences_stay_within_duration_and_wall_clock(org, video, beats):
    with transaction.atomic():
        attempt = start_attempt(employee=org.learner, course=video, now=at(0))
        elapsed = 0
        for seq, (a, b, gap, rate) in enumerate(beats):
            elapsed += gap
            watch(attempt, seq, min(a, b), max(a, b), when=at(elapsed), rate=rate)
        total = credited_seconds(org.learner, video)
        assert total <= 600
        assert total <= 2 * elapsed + 2 * services.SLACK_MS / 1000 + 1
        transaction.set_rollback(True)


# ---------------------------------------------------------------- the endpoints


def post_beat(client, attempt_id, beat):
    return client.post(reverse("tracking:beat"), {"attempt": str(attempt_id), "beat": json.dumps(beat)})


def test_the_endpoints_start_an_attempt_and_take_beats(org, client_for, video):
    client = client_for(org.learner)
    with time_machine.travel(T0, tick=False) as traveller:
        started = client.post(reverse("tracking:attempt_start", args=[video.pk])).json()
        traveller.shift(15)
        answer = post_beat(client, started["attempt"], {"seq": 0, "segments": [[0, 15]], "rate": 1, "hidden": False,
                                                         "elapsed_ms": 15000})
    assert answer.status_code == 200 and answer.json()["credited_ms"] == 15_000
    assert answer.json()["total_credited_ms"] == 15_000


def test_the_beat_endpoint_accepts_a_json_body_with_the_csrf_header(org, video):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner.user)
    attempt = start_attempt(employee=org.learner, course=video)
    refused = client.post(reverse("tracking:beat"), {"attempt": str(attempt.pk), "beat": "{}"})
    assert refused.status_code == 403  # no CSRF token
    client.get(reverse("catalog:course", args=[video.pk]))
    token = client.cookies["csrftoken"].value
    answer = client.post(reverse("tracking:beat"), json.dumps({"attempt": str(attempt.pk), "beat": {"seq": 0}}),
                         content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 200


@pytest.mark.parametrize("body", ["not json", "[]", json.dumps({"seq": 0, "segments": [[0, 9999]]})])
def test_bad_beats_get_a_json_400(org, client_for, video, body):
    attempt = start_attempt(employee=org.learner, course=video)
    response = client_for(org.learner).post(reverse("tracking:beat"), {"attempt": str(attempt.pk), "beat": body})
    assert response.status_code == 400 and "error" in response.json()


def test_beats_for_another_persons_attempt_are_refused(org, client_for, video):
    theirs = start_attempt(employee=org.outsider, course=video)
    response = post_beat(client_for(org.learner), theirs.pk, {"seq": 0, "segments": [[0, 5]]})
    assert response.status_code == 404
    assert post_beat(client_for(org.learner), "not-a-uuid", {"seq": 0}).status_code == 404
    assert not CreditedTime.objects.exists()


def test_unpublished_and_untracked_courses_take_no_attempts(org, client_for, video, catalog):
    video.is_published = False
    video.save()
    client = client_for(org.learner)
    assert client.post(reverse("tracking:attempt_start", args=[video.pk])).status_code == 404
    assert client.post(reverse("tracking:attempt_start", args=[catalog.meeting.pk])).status_code == 404
    assert client.get(reverse("tracking:beat")).status_code == 405
    assert not Attempt.objects.exists()


def test_hr_sees_who_watched_how_much(org, client_for, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(attempt, 0, 0, 60, when=at(10))  # flagged: more than the time that passed
    outsider = start_attempt(employee=org.outsider, course=video, now=at(0))
    watch(outsider, 0, 0, 15, when=at(15))
    admin_page = client_for(org.admin).get(reverse("tracking:course_learners", args=[video.pk])).text
    assert org.learner.name in admin_page and org.outsider.name in admin_page
    head_page = client_for(org.head).get(reverse("tracking:course_learners", args=[video.pk])).text
    assert org.learner.name in head_page and org.outsider.name not in head_page
    assert client_for(org.learner).get(reverse("tracking:course_learners", args=[video.pk])).status_code == 403
    detail = client_for(org.admin).get(reverse("tracking:learner_detail", args=[video.pk, org.learner.pk])).text
    assert "claimed more than the time that had passed" in detail
    assert client_for(org.head).get(
        reverse("tracking:learner_detail", args=[video.pk, org.outsider.pk])).status_code == 404


def test_a_beat_costs_a_fixed_number_of_queries(org, video, django_assert_num_queries):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    apply_beat(attempt, BeatInput(seq=0, segments=[(0, 15_000)]), at(15))
    # Lock and read, move the clock, insert the fact, update the course state; in a test the
    # transaction is a savepoint (SAVEPOINT and RELEASE), in production BEGIN and COMMIT.
    with django_assert_num_queries(6) as captured:
        services.receive_beat(attempt_id=attempt.pk, user_id=org.learner.user_id,
                              data={"seq": 1, "segments": [[15, 30]]}, now=at(30))
    statements = [q["sql"].split()[0] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT",
                                                                                                      "RELEASE"))]
    assert statements == ["SELECT", "UPDATE", "INSERT", "UPDATE"]


# ---------------------------------------------------------------- documents, hostile numbers, replays


@pytest.mark.parametrize("rate", [1, 2, 16])
def test_reading_is_credited_at_most_one_to_one_whatever_the_rate(org, document, rate):
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    outcomes = [services.receive_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(15 * seq + 15),
                                      data={"seq": seq, "reading_ms": 30_000, "rate": rate}) for seq in range(4)]
    # One minute of reading (and the protocol's 5 s of slack), never the 120 s claimed.
    assert [o.credited_ms for o in outcomes] == [20_000, 15_000, 15_000, 15_000]
    assert credited_seconds(org.learner, document) == 65
    assert all("rate_above_2x" not in o.flags for o in outcomes)


def test_honest_reading_at_any_rate_is_credited_in_full(org, document):
    attempt = start_attempt(employee=org.learner, course=document, now=at(0))
    outcome = services.receive_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, now=at(15),
                                    data={"seq": 0, "reading_ms": 15_000, "rate": 2})
    assert (outcome.credited_ms, outcome.cut_ms, outcome.flags) == (15_000, 0, [])


@pytest.mark.parametrize("segments", [
    [[1e308, 1e308]], [[0, 1e308]], [[1e300, 1e308]], [[10**400, 10**400]], [[0, 10**30]],
])
def test_huge_segments_are_refused_as_beyond_the_end(video, segments):
    with pytest.raises(BeatRejected, match="beyond the end"):
        parse_beat({"seq": 0, "segments": segments}, video)


@pytest.mark.parametrize("data,message", [
    ({"seq": 0, "segments": [[float("inf"), float("inf")]]}, "[start, end]"),
    ({"seq": 0, "segments": [[float("-inf"), 0]]}, "[start, end]"),
    ({"seq": 0, "segments": [[-1e308, 0]]}, "before 0"),
    ({"seq": 0, "segments": [[-0.5, 0]]}, "before 0"),
    ({"seq": 1e308}, "between"),
    ({"seq": 10**400}, "between"),
    ({"seq": float("nan")}, "must be a number"),
    ({"seq": 0, "rate": float("inf")}, "must be a number"),
    ({"seq": 0, "rate": 1e-300}, "between"),
    ({"seq": 0, "rate": -1}, "between"),
    ({"seq": 0, "elapsed_ms": 1e308}, "between"),
    ({"seq": 0, "elapsed_ms": -1}, "between"),
    ({"seq": 0, "reading_ms": 10**400}, "between"),
    ({"seq": 0, "reading_ms": float("-inf")}, "must be a number"),
])
def test_non_finite_negative_and_huge_numbers_are_refused(video, data, message):
    with pytest.raises(BeatRejected, match=message):
        parse_beat(data, video)


_json_scalars = st.none() | st.booleans() | st.text(max_size=5) | st.integers(-10**400, 10**400) | st.floats()
_json_values = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                            | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)
_beat_fields = st.sampled_from(["seq", "segments", "reading_ms", "rate", "hidden", "elapsed_ms"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_beat_fields, _json_values | st.lists(st.lists(_json_scalars, max_size=3), max_size=3)))
def test_any_beat_is_parsed_or_refused_with_a_reason(video, data):
    try:
        beat = parse_beat(data, video)
    except BeatRejected as exc:
        assert exc.status == 400 and exc.message
        return
    assert all(0 <= start <= end <= 600_000 for start, end in beat.segments)
    assert 0.0625 <= beat.rate <= 16 and beat.seq >= 0 and beat.reading_ms >= 0


_edge_numbers = st.sampled_from([0, 1, -1, 0.0625, 16, 600, 602, 10_000_000, 7 * 24 * 3600 * 1000, 600_000, 1e308,
                                  -1e308, 10**400, float("nan"), float("inf"), 5e-324]) | st.floats() | st.integers()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({"seq": st.integers(0, 100) | _edge_numbers}, optional={
    # Mostly valid values, so that a hostile number anywhere is reached by the parser.
    "reading_ms": st.integers(0, 20_000) | _edge_numbers, "rate": st.floats(0.0625, 16) | _edge_numbers,
    "elapsed_ms": st.integers(0, 20_000) | _edge_numbers, "hidden": st.booleans(),
    "segments": st.lists(st.lists(st.floats(0, 600) | _edge_numbers, min_size=2, max_size=2), max_size=3)}))
def test_any_numbers_in_a_beat_are_credited_or_refused_never_an_error(org, video, data):
    with transaction.atomic():
        attempt = start_attempt(employee=org.learner, course=video, now=at(0))
        try:
            outcome = services.receive_beat(attempt_id=attempt.pk, user_id=org.learner.user_id, data=data, now=at(15))
        except BeatRejected as exc:
            assert exc.status == 400
        else:
            # At most 2× the 15 s that passed and the 5 s of slack.
            assert 0 <= outcome.credited_ms <= 40_000 and outcome.total_credited_ms == outcome.credited_ms
        transaction.set_rollback(True)


HOSTILE_BEATS = [
    '{"seq": 0, "segments": [[1e308, 1e308]]}',
    '{"seq": 0, "segments": [[0, 1e999]]}',
    '{"seq": 0, "segments": [[NaN, 1]]}',
    '{"seq": 0, "segments": [[0, Infinity]]}',
    '{"seq": -Infinity}',
    '{"seq": 0, "rate": NaN}',
    '{"seq": 0, "elapsed_ms": 1e308}',
    '{"seq": 0, "reading_ms": -5}',
    '{"seq": 1' + "0" * 5000 + "}",
    '{"seq": 0, "segments": ' + "[" * 100_000 + "]" * 100_000 + "}",
]


@pytest.mark.parametrize("beat", HOSTILE_BEATS)
def test_hostile_numbers_get_a_400_on_the_page_endpoint(org, client_for, video, beat):
    attempt = start_attempt(employee=org.learner, course=video)
    response = client_for(org.learner).post(reverse("tracking:beat"), {"attempt": str(attempt.pk), "beat": beat})
    assert response.status_code == 400 and response.json()["error"]
    assert not CreditedTime.objects.exists()


@pytest.mark.parametrize("beat", HOSTILE_BEATS)
def test_hostile_numbers_get_a_400_on_the_api(org, client_for, video, beat):
    attempt = start_attempt(employee=org.learner, course=video)
    body = '{"attempt": "' + str(attempt.pk) + '", "beat": ' + beat + '}'
    response = client_for(org.learner).post("/api/v1/tracking/beat", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["message"]
    assert not CreditedTime.objects.exists()


def test_interleaved_and_replayed_beats_are_each_credited_once(org, video):
    a = start_attempt(employee=org.learner, course=video, now=at(0))
    b = start_attempt(employee=org.learner, course=video, now=at(0))
    first_a20 = watch(a, 20, 0, 15, when=at(15))
    watch(b, 1, 100, 115, when=at(30))
    a15 = watch(a, 15, 200, 215, when=at(45))  # older, but never seen: new
    replay_a20 = watch(a, 20, 300, 315, when=at(60))
    assert (a15.duplicate, a15.credited_ms) == (False, 15_000)
    assert replay_a20.duplicate and replay_a20.credited_ms == first_a20.credited_ms == 15_000
    assert watch(b, 1, 400, 415, when=at(75)).duplicate
    assert watch(a, 15, 400, 415, when=at(90)).duplicate
    assert not watch(a, 21, 400, 415, when=at(105)).duplicate
    assert sorted(beats(a).values_list("seq", flat=True)) == [15, 20, 21]
    assert credited_seconds(org.learner, video) == 60


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_gives_each_attempt_its_highest_beat_so_replays_stay_replays(org, video):
    """Beats kept before the unique index on (attempt, number) was dropped are still told from new ones."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from learntrace.tracking.attention import SERVER_SEQ_BASE
    from learntrace.tracking.models import LearnerClock

    before = [("tracking", "0002_attention_checks"), ("records", "0007_fact_indexes_that_queries_use")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    progress = CourseProgress.objects.create(employee=org.learner, course=video, first_started_at=at(0),
                                             last_activity_at=at(0))
    clock = LearnerClock.objects.create(employee=org.learner, busy_until=at(0))
    attempts = [old.get_model("tracking", "Attempt").objects.create(
        employee_id=org.learner.pk, user_id=org.learner.user_id, course_id=video.pk, progress_id=progress.pk,
        clock_id=clock.pk, started_at=at(0)) for _ in range(2)]
    for seq in (0, 1, 2, SERVER_SEQ_BASE):  # the tracker's beats, then an answered question's fact
        old.get_model("records", "CreditedTime").objects.create(
            employee_id=org.learner.pk, course_id=video.pk, kind=video.kind, category_id=video.category_id,
            seconds=1, occurred_at=at(seq % 100), source="tracking", attempt_id=attempts[0].pk, seq=seq,
            details={"credited_ms": 1000})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(Attempt.objects.values_list("pk", "last_seq")) == {attempts[0].pk: 2, attempts[1].pk: -1}
    kept, fresh = Attempt.objects.get(pk=attempts[0].pk), Attempt.objects.get(pk=attempts[1].pk)
    assert watch(kept, 1, 0, 15, when=at(15)).duplicate  # the clock was on no attempt: the attempt's number
    assert not watch(kept, 3, 0, 15, when=at(20)).duplicate
    assert not watch(fresh, 0, 15, 30, when=at(40)).duplicate
    assert watch(kept, 2, 0, 15, when=at(45)).duplicate
    assert sorted(beats(kept).values_list("seq", flat=True)) == [0, 1, 2, 3, SERVER_SEQ_BASE]
    assert list(beats(fresh).values_list("seq", flat=True)) == [0]


def test_an_attempt_keeps_its_highest_beat_when_the_clock_moves_to_another(org, video):
    a = start_attempt(employee=org.learner, course=video, now=at(0))
    b = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(a, 7, 0, 15, when=at(15))
    assert Attempt.objects.get(pk=a.pk).last_seq == -1  # the clock holds it while on this attempt
    watch(b, 0, 15, 30, when=at(30))
    assert Attempt.objects.get(pk=a.pk).last_seq == 7
    watch(a, 8, 30, 45, when=at(45))
    assert Attempt.objects.get(pk=b.pk).last_seq == 0
    assert watch(a, 7, 45, 60, when=at(60)).duplicate and watch(b, 0, 45, 60, when=at(60)).duplicate
    assert beats(a).count() == 2 and beats(b).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_beat_sent_twice_at_once_is_kept_once(org, video):
    """Two web processes receiving the same beat at the same moment: the clock's lock serialises them."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time")
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    answers, errors = [], []
    barrier = threading.Barrier(4)

    def send():
        try:
            barrier.wait()
            answers.append(watch(attempt, 0, 0, 15, when=at(15)))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(answer.duplicate for answer in answers) == [False, True, True, True]
    assert {answer.credited_ms for answer in answers} == {15_000}
    assert beats(attempt).count() == 1 and credited_seconds(org.learner, video) == 15


def test_the_api_answers_an_out_of_order_replay_with_the_first_answer(org, client_for, video):
    a = start_attempt(employee=org.learner, course=video)
    b = start_attempt(employee=org.learner, course=video)
    client = client_for(org.learner)

    def send(attempt, seq):
        return client.post("/api/v1/tracking/beat", json.dumps({"attempt": str(attempt.pk), "beat": {
            "seq": seq, "segments": [[seq, seq + 1]]}}), content_type="application/json")

    answers = [send(a, 20), send(b, 1), send(a, 15), send(a, 20)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200]
    assert [r.json()["duplicate"] for r in answers] == [False, False, False, True]
    assert answers[3].json()["credited_ms"] == answers[0].json()["credited_ms"]
    page = post_beat(client, a.pk, {"seq": 15, "segments": [[0, 1]]})
    assert page.status_code == 200 and page.json()["duplicate"]
