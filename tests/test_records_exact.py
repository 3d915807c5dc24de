"""Recording learning facts, exactly: credited seconds and times, the completion threshold to the
second, quiz grades and attempts, and the limits of corrections."""

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from learntrace.catalog.models import Choice, Question, Quiz
from learntrace.core.models import AuditEntry
from learntrace.records.models import Completion, Correction, CourseProgress, CreditedTime, Source
from learntrace.records.services import (
    QuizClosed,
    correct_time,
    grade,
    record_completion,
    record_credited_time,
    record_tracked_beat,
    submit_quiz,
    void_completion,
)

START = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def progress(employee, course) -> CourseProgress:
    return CourseProgress.objects.get(employee=employee, course=course)


def test_credited_seconds_add_up_and_stretch_the_first_and_last_activity(org, catalog):
    video = catalog.video
    with pytest.raises(ValueError, match="positive"), transaction.atomic():
        record_credited_time(employee=org.learner, course=video, seconds=0, occurred_at=at(0))
    record_credited_time(employee=org.learner, course=video, seconds=1, occurred_at=at(10))
    record_credited_time(employee=org.learner, course=video, seconds=600, occurred_at=at(5))
    record_credited_time(employee=org.learner, course=video, seconds=30, occurred_at=at(20))
    row = progress(org.learner, video)
    assert (row.credited_ms, row.first_started_at, row.last_activity_at) == (631_000, at(5), at(20))


def test_a_course_completes_at_its_threshold_to_the_second(org, catalog):
    video, need = catalog.clinical_video, catalog.clinical_video.required_seconds
    record_credited_time(employee=org.learner, course=video, seconds=need - 1, occurred_at=at(0))
    assert not Completion.objects.exists()
    # Enough, but the caller says the threshold cannot have been reached: no completion yet.
    record_credited_time(employee=org.learner, course=video, seconds=1, occurred_at=at(1), may_complete=False)
    assert not Completion.objects.exists()
    record_credited_time(employee=org.learner, course=video, seconds=1, occurred_at=at(2), source=Source.IMPORTED)
    completion = Completion.objects.get()
    assert (completion.completed_at, completion.credits, completion.source) == (at(2), Decimal("5"), Source.IMPORTED)
    assert progress(org.learner, video).completed_at == at(2)
    record_credited_time(employee=org.learner, course=video, seconds=60, occurred_at=at(3))
    assert Completion.objects.count() == 1 and progress(org.learner, video).completed_at == at(2)


def test_a_second_completion_is_ignored(org, catalog):
    video = catalog.video
    first = record_completion(employee=org.learner, course=video, completed_at=at(30), source=Source.IMPORTED)
    assert (first.credits, first.credit_class, first.category) == (Decimal("2"), catalog.cme1, catalog.management)
    assert record_completion(employee=org.learner, course=video, completed_at=at(40), source=Source.IMPORTED) is None
    row = progress(org.learner, video)
    assert (row.completed_at, row.first_started_at, row.last_activity_at) == (at(30), at(30), at(30))


@pytest.fixture
def quiz(catalog):
    quiz = Quiz.objects.create(course=catalog.clinical_video, pass_mark=66, attempts_allowed=2)
    questions = [Question.objects.create(quiz=quiz, text=f"Question {n}", position=n) for n in range(3)]
    for question in questions:
        Choice.objects.create(question=question, text="right", is_correct=True)
        Choice.objects.create(question=question, text="wrong")
    return quiz


def answers(quiz, right: int) -> dict[int, set[int]]:
    """The right choice for the first `right` questions, the wrong one for the others."""
    return {question.pk: {question.choices.get(is_correct=index < right).pk}
            for index, question in enumerate(quiz.questions.all())}


def test_grades_are_whole_percentages_rounded_down(catalog, quiz):
    assert [grade(quiz, answers(quiz, right)) for right in range(4)] == [0, 33, 66, 100]
    first = quiz.questions.first()
    both = {first.pk: set(first.choices.values_list("pk", flat=True))}
    assert grade(quiz, both) == 0  # a wrong choice ticked too
    assert grade(Quiz.objects.create(course=catalog.video), {}) == 0  # no questions


def test_quiz_attempts_are_numbered_pass_at_the_mark_and_close(org, catalog, quiz):
    video = catalog.clinical_video
    record_credited_time(employee=org.learner, course=video, seconds=video.required_seconds, occurred_at=at(0))
    assert not Completion.objects.exists()  # the quiz is still to pass
    failed = submit_quiz(employee=org.learner, quiz=quiz, answers=answers(quiz, 1), at=at(10))
    assert (failed.number, failed.score, failed.passed) == (1, 33, False)
    passed = submit_quiz(employee=org.learner, quiz=quiz, answers=answers(quiz, 2), at=at(20))
    assert (passed.number, passed.score, passed.passed) == (2, 66, True)
    assert progress(org.learner, video).quiz_passed_at == at(20)
    assert Completion.objects.get().completed_at == at(20)
    with pytest.raises(QuizClosed):
        submit_quiz(employee=org.learner, quiz=quiz, answers=answers(quiz, 3), at=at(30))


def test_attempts_run_out_at_the_allowed_number(org, quiz):
    for number in (1, 2):
        assert submit_quiz(employee=org.head, quiz=quiz, answers=answers(quiz, 0), at=at(number)).number == number
    with pytest.raises(QuizClosed):
        submit_quiz(employee=org.head, quiz=quiz, answers=answers(quiz, 3), at=at(3))
    assert progress(org.head, quiz.course).quiz_passed_at is None


def test_time_can_be_corrected_down_to_zero_and_no_further(org, catalog):
    fact = record_credited_time(employee=org.learner, course=catalog.meeting, seconds=600, occurred_at=at(0))
    admin = org.admin.user
    with pytest.raises(ValidationError, match="must change the time"):
        correct_time(actor=admin, fact=fact, seconds_delta=0, reason="Nothing")
    with pytest.raises(ValidationError, match="more time than was ever credited"):
        correct_time(actor=admin, fact=fact, seconds_delta=-601, reason="Too much")
    first = correct_time(actor=admin, fact=fact, seconds_delta=-1, reason="  One second less  ")
    assert (first.seconds_delta, first.reason) == (-1, "One second less")
    assert correct_time(actor=admin, fact=fact, seconds_delta=-599, reason="Not there").seconds_delta == -599
    with pytest.raises(ValidationError, match="more time than was ever credited"):
        correct_time(actor=admin, fact=fact, seconds_delta=-1, reason="Below zero")
    assert list(Correction.objects.values_list("seconds_delta", flat=True).order_by("pk")) == [-1, -599]
    entry = AuditEntry.objects.filter(action="correct_time").order_by("pk").first()
    assert entry.summary == "  One second less  "[:200]


def test_a_void_keeps_its_reason_trimmed_and_its_summary_short(org, catalog):
    fact = record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=3600, occurred_at=at(0))
    completion = Completion.objects.get(employee=org.learner)
    with pytest.raises(ValidationError, match="needs a reason"):
        void_completion(actor=org.admin.user, completion=completion, reason="   ")
    reason = "Watched on a colleague's account. " * 10
    correction = void_completion(actor=org.admin.user, completion=completion, reason=reason)
    assert (correction.reason, correction.voids, correction.occurred_at) == (reason.strip(), True, fact.occurred_at)
    assert AuditEntry.objects.get(action="void_completion").summary == reason[:200]


@pytest.mark.parametrize("correct", [
    lambda fact, completion, admin: correct_time(actor=admin, fact=fact, seconds_delta=-60, reason="Left early"),
    lambda fact, completion, admin: void_completion(actor=admin, completion=completion, reason="Not attended"),
])
def test_a_correction_whose_audit_entry_fails_is_not_kept(org, catalog, monkeypatch, correct):
    fact = record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=3600, occurred_at=at(0))
    completion = Completion.objects.get(employee=org.learner)

    def audit_down(**kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr("learntrace.records.services.record_change", audit_down)
    with pytest.raises(RuntimeError):
        correct(fact, completion, org.admin.user)
    assert not Correction.objects.exists()


def beat(employee, course, credited_ms: int, seconds: int, when) -> CourseProgress:
    """A player's beat that brings the person's credited time to `credited_ms` and adds `seconds`."""
    row, _ = CourseProgress.objects.get_or_create(employee=employee, course=course,
                                                  defaults={"first_started_at": at(0), "last_activity_at": at(0)})
    row.credited_ms = credited_ms
    record_tracked_beat(progress=row, course=course, attempt_id=uuid.uuid4(), seq=1, seconds=seconds,
                        occurred_at=when, details={})
    return row


def test_a_beat_that_reaches_the_threshold_completes_the_course_and_says_so(org, catalog, quiz):
    video = catalog.video
    reached = beat(org.learner, video, video.required_seconds * 1000, 5, at(40))
    assert reached.completed_at == at(40) and Completion.objects.get().completed_at == at(40)
    assert (progress(org.learner, video).first_started_at, progress(org.learner, video).last_activity_at) == \
        (at(0), at(40))
    # A course whose threshold was lowered below someone's time completes at their next beat that
    # credits time, not at one that credits nothing.
    document = catalog.meeting
    assert beat(org.head, document, document.required_seconds * 1000, 0, at(41)).completed_at is None
    assert not Completion.objects.filter(employee=org.head).exists()
    assert progress(org.head, document).last_activity_at == at(0)  # nor does it count as activity
    assert beat(org.head, document, document.required_seconds * 1000, 1, at(42)).completed_at == at(42)
    # A course with a quiz still to pass is not completed by its time alone.
    with_quiz = catalog.clinical_video
    waiting = beat(org.learner, with_quiz, with_quiz.required_seconds * 1000, 5, at(50))
    assert waiting.completed_at is None and Completion.objects.count() == 2
    assert (waiting.first_started_at, waiting.last_activity_at) == (at(0), at(50))
    assert (progress(org.learner, with_quiz).first_started_at, progress(org.learner, with_quiz).last_activity_at) == \
        (at(0), at(50))


def test_time_added_to_a_beat_that_credited_nothing_can_be_taken_back_exactly(org, catalog):
    beat(org.learner, catalog.video, 0, 0, at(5))
    fact = CreditedTime.objects.get(seconds=0)
    admin = org.admin.user
    correct_time(actor=admin, fact=fact, seconds_delta=60, reason="Watched on a borrowed laptop")
    assert correct_time(actor=admin, fact=fact, seconds_delta=-60, reason="It was a colleague").seconds_delta == -60
    with pytest.raises(ValidationError, match="more time than was ever credited"):
        correct_time(actor=admin, fact=fact, seconds_delta=-1, reason="Below zero")


def test_a_completion_whose_progress_cannot_be_stamped_is_not_kept(org, catalog, monkeypatch):
    def progress_down(*args):
        raise RuntimeError("progress unavailable")

    monkeypatch.setattr("learntrace.records.services._progress", progress_down)
    with pytest.raises(RuntimeError):
        record_completion(employee=org.learner, course=catalog.video, completed_at=at(5), source=Source.IMPORTED)
    assert not Completion.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_quiz_is_submitted_in_its_own_transaction(org, catalog, quiz):
    # Outside any caller's transaction (a worker, a shell): the lock on the person's progress needs one.
    attempt = submit_quiz(employee=org.learner, quiz=quiz, answers=answers(quiz, 3), at=at(5))
    assert (attempt.number, attempt.score, attempt.passed) == (1, 100, True)
    assert progress(org.learner, quiz.course).quiz_passed_at == at(5)


def test_all_of_a_facts_time_can_be_taken_back_at_once_and_the_audit_keeps_200_characters(org, catalog):
    fact = record_credited_time(employee=org.learner, course=catalog.meeting, seconds=600, occurred_at=at(0))
    reason = "Signed in by a colleague while on leave; confirmed by the ward's rota. " * 4
    assert correct_time(actor=org.admin.user, fact=fact, seconds_delta=-600, reason=reason).seconds_delta == -600
    summary = AuditEntry.objects.get(action="correct_time").summary
    assert (summary, len(summary)) == (reason[:200], 200)


@pytest.mark.django_db(transaction=True)
def test_credited_time_whose_completion_fails_is_not_kept(org, catalog, monkeypatch):
    def completion_down(**kwargs):
        raise RuntimeError("completion unavailable")

    monkeypatch.setattr("learntrace.records.services.complete_if_done", completion_down)
    with pytest.raises(RuntimeError):
        record_credited_time(employee=org.learner, course=catalog.video, seconds=60, occurred_at=at(0))
    assert not CreditedTime.objects.exists() and not CourseProgress.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_first_credits_at_the_same_moment_both_count(org, catalog):
    # Both find no course state and start one: the second waits for the first's row, then adds to it.
    start, failures = threading.Barrier(2), []

    def credit(seconds, minutes):
        try:
            start.wait()
            with transaction.atomic():
                record_credited_time(employee=org.learner, course=catalog.meeting, seconds=seconds,
                                     occurred_at=at(minutes), source=Source.CHECKIN, may_complete=False)
                time.sleep(0.3)  # both have looked for the state before either commits
        except Exception as failure:  # noqa: BLE001 (reported by the assertion below)
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=credit, args=args) for args in ((60, 5), (90, 0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    state = progress(org.learner, catalog.meeting)
    assert (state.credited_ms, state.first_started_at, state.last_activity_at) == (150_000, at(0), at(5))
    assert CreditedTime.objects.filter(employee=org.learner).count() == 2
