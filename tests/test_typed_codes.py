"""Typed-code limits, exactly: a new window, and the counter rows changing between a guess's
statements (another request of the same person or meeting), played in a fixed order."""

from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from learntrace.checkin import services, typed_codes
from learntrace.checkin.models import CodeGuesses, Meeting
from learntrace.checkin.services import IN, CheckInRefused
from test_checkin import at, type_code, wrong_codes


@pytest.fixture
def meeting(org, catalog):
    item = Meeting.objects.create(course=catalog.meeting, title="Fire drill", starts_at=at(0),
                                  ends_at=at(120), roster=Meeting.Roster.PEOPLE)
    item.roster_people.set([org.head, org.learner])
    return item


def person_row(employee):
    return CodeGuesses.objects.get(scope=CodeGuesses.Scope.PERSON, employee=employee)


def right_code(meeting, when):
    return services.current_codes(meeting, when)["code"]


def refusal(call) -> CheckInRefused:
    with pytest.raises(CheckInRefused) as caught:
        call()
    return caught.value


def before_the_read(monkeypatch, change):
    """Run `change` (another request's write) once, just before a guess reads its counter row."""
    real_first, done = QuerySet.first, []

    def first(queryset):
        if queryset.model is CodeGuesses and not done:
            done.append(True)
            change()
        return real_first(queryset)

    monkeypatch.setattr(QuerySet, "first", first)
    return done


def test_a_guess_after_the_window_starts_a_new_one_as_its_first(org, meeting):
    codes = iter(wrong_codes(meeting, at(0), 9))
    for _ in range(3):
        assert refusal(lambda: type_code(meeting, org.learner, next(codes), at(0))).reason == "invalid"
    assert person_row(org.learner).failures == 3
    # Exactly one window (15 minutes) later the count starts again, with this guess.
    assert refusal(lambda: type_code(meeting, org.learner, next(codes), at(15))).reason == "invalid"
    row = person_row(org.learner)
    assert (row.failures, row.window_started_at, row.wrong_total) == (1, at(15), 4)
    for _ in range(4):
        assert refusal(lambda: type_code(meeting, org.learner, next(codes), at(16))).reason == "invalid"
    locked = refusal(lambda: type_code(meeting, org.learner, right_code(meeting, at(17)), at(17)))
    assert (locked.reason, locked.until) == ("code_locked", at(30))


def test_a_limit_freed_by_a_parallel_right_guess_lets_the_guess_count(org, meeting, monkeypatch):
    for code in wrong_codes(meeting, at(0), 4):
        refusal(lambda code=code: type_code(meeting, org.learner, code, at(0)))
    # A fifth guess (right) is counted and being judged: the person's limit is reached for now.
    CodeGuesses.objects.filter(scope=CodeGuesses.Scope.PERSON).update(failures=5)
    done = before_the_read(monkeypatch, lambda: CodeGuesses.objects.filter(scope=CodeGuesses.Scope.PERSON)
                           .update(failures=F("failures") - 1))  # ... and given back
    assert type_code(meeting, org.learner, right_code(meeting, at(1)), at(1)) == (IN, False)
    assert done == [True]
    assert person_row(org.learner).failures == 4


def test_a_window_read_as_ending_exactly_now_is_over(org, meeting, monkeypatch):
    for code in wrong_codes(meeting, at(0), 5):
        refusal(lambda code=code: type_code(meeting, org.learner, code, at(0)))
    # Between the guess's UPDATEs and its read, the row is rewritten to a full window that ends now.
    before_the_read(monkeypatch, lambda: CodeGuesses.objects.filter(scope=CodeGuesses.Scope.PERSON)
                    .update(window_started_at=at(-14), failures=5))
    assert type_code(meeting, org.learner, right_code(meeting, at(1)), at(1)) == (IN, False)
    row = person_row(org.learner)
    assert (row.failures, row.window_started_at) == (0, at(1))


def test_a_counter_created_by_a_parallel_guess_is_counted_on(org, meeting, monkeypatch):
    real_atomic, created = transaction.atomic, []

    def atomic():
        if not created:  # the other guess creates the person's row just before this one does
            created.append(CodeGuesses.objects.create(
                key=f"person:{meeting.pk}:{org.learner.pk}", meeting=meeting, scope=CodeGuesses.Scope.PERSON,
                employee=org.learner, window_started_at=at(0), failures=1))
        return real_atomic()

    monkeypatch.setattr(typed_codes, "transaction", SimpleNamespace(atomic=atomic))
    assert refusal(lambda: type_code(meeting, org.learner, wrong_codes(meeting, at(0), 1)[0], at(0))).reason == \
        "invalid"
    row = person_row(org.learner)
    assert (row.failures, row.wrong_total, row.window_started_at) == (2, 1, at(0))


def test_a_counter_that_keeps_changing_refuses_after_five_tries(org, meeting, monkeypatch):
    real_create, tries = QuerySet.create, []

    def create(queryset, **fields):
        if queryset.model is not CodeGuesses:
            return real_create(queryset, **fields)
        tries.append(fields["key"])  # created by another guess, and gone again by the next read
        raise IntegrityError("UNIQUE constraint failed: checkin_codeguesses.key")

    monkeypatch.setattr(QuerySet, "create", create)
    locked = refusal(lambda: type_code(meeting, org.learner, right_code(meeting, at(2)), at(2)))
    assert (locked.reason, locked.until) == ("code_locked", at(17))
    assert tries == [f"person:{meeting.pk}:{org.learner.pk}"] * 5


def test_a_guess_given_back_after_its_window_restarted_stays_at_zero(org, meeting, monkeypatch):
    real_judge = typed_codes.judge_scan

    def judge(*args, **kwargs):
        # Meanwhile another guess restarted the person's window and was given back.
        CodeGuesses.objects.filter(scope=CodeGuesses.Scope.PERSON).update(failures=0, window_started_at=at(3))
        return real_judge(*args, **kwargs)

    monkeypatch.setattr(typed_codes, "judge_scan", judge)
    assert type_code(meeting, org.learner, right_code(meeting, at(3)), at(3)) == (IN, False)
    assert person_row(org.learner).failures == 0
    assert CodeGuesses.objects.get(scope=CodeGuesses.Scope.MEETING).failures == 0
