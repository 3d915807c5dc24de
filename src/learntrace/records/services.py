"""Recording learning facts. Tracking, check-in, imports and quizzes call these
functions; nothing else writes the record tables."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.catalog import grading
from learntrace.catalog.models import Course, Quiz
from learntrace.core.audit import record_change
from learntrace.core.hotpath import insert_row, update_columns
from learntrace.org.models import Employee
from learntrace.records import beat_details
from learntrace.records.models import (
    ArchivedHour,
    Completion,
    Correction,
    CourseProgress,
    CreditedTime,
    QuizAttempt,
    Source,
)
from learntrace.records.signals import completion_recorded, completion_voided, time_corrected


def _progress(employee: Employee, course: Course, at: datetime) -> CourseProgress:
    progress, _created = CourseProgress.objects.get_or_create(
        employee=employee, course=course, defaults={"first_started_at": at, "last_activity_at": at}
    )
    return progress


# savepoint=False: these run inside the caller's transaction (a heartbeat's, a check-in's)
# and add no savepoint round trips; any error still rolls the whole caller back.
@transaction.atomic(savepoint=False)
def record_credited_time(*, employee: Employee, course: Course, seconds: int, occurred_at: datetime,
                         source: str = Source.TRACKING, may_complete: bool = True) -> CreditedTime:
    """`may_complete=False` tells that the course's threshold cannot have been reached yet."""
    if seconds <= 0:
        raise ValueError("credited seconds must be positive")
    # The course state first, then the fact (whose insert locks its hour's running sum, records/sums.py):
    # the order a beat takes them in, so that time credited by hand to a course being watched at that
    # moment waits for the beat instead of deadlocking with it.
    progress = CourseProgress.objects.filter(employee=employee, course=course)
    changes = {
        "credited_ms": F("credited_ms") + seconds * 1000,
        "first_started_at": Least(F("first_started_at"), occurred_at),
        "last_activity_at": Greatest(F("last_activity_at"), occurred_at),
    }
    if not progress.update(**changes):
        try:  # the person's first time on the course: the state starts with it
            with transaction.atomic():
                CourseProgress.objects.create(employee=employee, course=course, credited_ms=seconds * 1000,
                                              first_started_at=occurred_at, last_activity_at=occurred_at)
        except IntegrityError:  # another transaction started it at the same moment
            progress.update(**changes)
    fact = CreditedTime.objects.create(
        employee=employee, course=course, kind=course.kind, category_id=course.category_id,
        seconds=seconds, occurred_at=occurred_at, source=source,
    )
    if may_complete:
        complete_if_done(employee=employee, course=course, at=occurred_at, source=source)
    return fact


_BEAT_FACT_COLUMNS = ("employee_id", "course_id", "kind", "category_id", "seconds", "occurred_at", "source",
                      "attempt_id", "seq", "details", "beat", "recorded_at")
_BEAT_STATE_COLUMNS = ("credited_ms", "intervals", "covered_ms", "played_ms", "last_position_ms",
                       "first_started_at", "last_activity_at")


@transaction.atomic(savepoint=False)
def record_tracked_beat(*, progress: CourseProgress, course: Course, attempt_id, seq: int, seconds: int,
                        occurred_at: datetime, details: dict) -> CreditedTime:
    """One beat of a player, as a fact, and the person's course state it changed.

    `progress` is the locked row with its new coverage, credited and played figures already set;
    `seconds` is how many whole seconds this beat adds to the credited total (often 0)."""
    recorded_at = timezone.now()
    compact = beat_details.compact(details, recorded_at)  # ~25 bytes where the JSON took ~300
    fact = CreditedTime(
        employee_id=progress.employee_id, course=course, kind=course.kind, category_id=course.category_id,
        seconds=seconds, occurred_at=occurred_at, source=Source.TRACKING, attempt_id=attempt_id, seq=seq,
        details=None if compact is not None else details, beat=compact, recorded_at=recorded_at,
    )
    insert_row(CreditedTime, {name: getattr(fact, name) for name in _BEAT_FACT_COLUMNS})
    fact.details = details
    if seconds:
        progress.first_started_at = min(progress.first_started_at, occurred_at)
        progress.last_activity_at = max(progress.last_activity_at, occurred_at)
    update_columns(CourseProgress, progress.pk, {name: getattr(progress, name) for name in _BEAT_STATE_COLUMNS})
    if seconds and progress.completed_at is None and progress.credited_seconds >= course.required_seconds:
        completion = complete_if_done(employee=progress.employee, course=course, at=occurred_at,
                                      source=Source.TRACKING)
        if completion is not None:
            progress.completed_at = completion.completed_at
    return fact


def _requirements_met(progress: CourseProgress, course: Course) -> bool:
    if progress.credited_seconds < course.required_seconds:
        return False
    return not course.has_quiz or progress.quiz_passed_at is not None


@transaction.atomic(savepoint=False)
def complete_if_done(*, employee: Employee, course: Course, at: datetime, source: str) -> Completion | None:
    """Stamp the completion once the course's threshold (and its quiz, if any) is met."""
    progress = CourseProgress.objects.select_for_update().filter(employee=employee, course=course).first()
    if progress is None or progress.completed_at is not None or not _requirements_met(progress, course):
        return None
    return record_completion(employee=employee, course=course, completed_at=at, source=source)


@transaction.atomic
def record_completion(*, employee: Employee, course: Course, completed_at: datetime,
                      source: str) -> Completion | None:
    """Record that `employee` completed `course`; a second completion is ignored (returns None)."""
    try:
        with transaction.atomic():
            completion = Completion.objects.create(
                employee=employee, course=course, completed_at=completed_at,
                credits=course.credits or Decimal("0"), credit_class_id=course.credit_class_id,
                category_id=course.category_id, source=source,
            )
    except IntegrityError:
        return None
    progress = CourseProgress.objects.filter(employee=employee, course=course)
    changes = {"completed_at": completed_at, "last_activity_at": Greatest(F("last_activity_at"), completed_at)}
    if not progress.filter(completed_at__isnull=True).update(**changes) and not progress.exists():
        _progress(employee, course, completed_at)  # a completion without any time (an import, a record by hand)
        progress.filter(completed_at__isnull=True).update(**changes)
    completion_recorded.send(sender=Completion, completion=completion)
    return completion


def grade(quiz: Quiz, answers: dict[int, set[int]]) -> int:
    """Percentage of questions answered exactly right (every correct choice, no wrong one)."""
    questions = list(quiz.questions.prefetch_related("choices"))
    right = sum(1 for q in questions if answered_right(q, answers.get(q.pk, set())))
    return grading.percent(right, len(questions))


def answered_right(question, chosen: set[int]) -> bool:
    """Every correct choice and no wrong one (also the rule for questions asked during a video)."""
    return grading.choices_right(chosen, {c.pk for c in question.choices.all() if c.is_correct})


class QuizClosed(Exception):
    """No attempts left, or the quiz was already passed."""


@transaction.atomic
def submit_quiz(*, employee: Employee, quiz: Quiz, answers: dict[int, set[int]], at: datetime) -> QuizAttempt:
    # Lock the person's progress row so that two tabs cannot both use the last attempt.
    progress = _progress(employee, quiz.course, at)
    progress = CourseProgress.objects.select_for_update().get(pk=progress.pk)
    used = QuizAttempt.objects.filter(employee=employee, quiz=quiz).count()
    if progress.quiz_passed_at is not None or used >= quiz.attempts_allowed:
        raise QuizClosed
    score = grade(quiz, answers)
    attempt = QuizAttempt.objects.create(
        employee=employee, quiz=quiz, number=used + 1, score=score, passed=score >= quiz.pass_mark,
        answers={str(k): sorted(v) for k, v in answers.items()}, submitted_at=at,
    )
    if attempt.passed:
        CourseProgress.objects.filter(pk=progress.pk).update(quiz_passed_at=at)
        complete_if_done(employee=employee, course=quiz.course, at=at, source=Source.QUIZ)
    return attempt


@transaction.atomic
def void_completion(*, actor, completion: Completion, reason: str) -> Correction:
    if not reason.strip():
        raise ValidationError(_("Say why: a correction needs a reason."))
    if Correction.objects.filter(corrects=Correction.Target.COMPLETION, corrects_id=completion.pk, voids=True).exists():
        raise ValidationError(_("This completion is already voided."))
    correction = Correction.objects.create(
        employee=completion.employee, course=completion.course, corrects=Correction.Target.COMPLETION,
        corrects_id=completion.pk, voids=True, occurred_at=completion.completed_at, reason=reason.strip(),
        actor=actor)
    record_change(actor=actor, action="void_completion", obj=correction, summary=reason[:200])
    completion_voided.send(sender=Correction, completion=completion, correction=correction)
    return correction


@transaction.atomic
def correct_time(*, actor, fact: CreditedTime, seconds_delta: int, reason: str) -> Correction:
    """Add or remove credited seconds, pointing at the fact they correct (never below zero in all)."""
    if not reason.strip():
        raise ValidationError(_("Say why: a correction needs a reason."))
    if seconds_delta == 0:
        raise ValidationError(_("A correction must change the time."))
    credited = sum((table.objects.filter(employee=fact.employee, course=fact.course)
                    .aggregate(total=Sum("seconds"))["total"] or 0) for table in (CreditedTime, ArchivedHour))
    corrected = (Correction.objects.filter(employee=fact.employee, course=fact.course)
                 .aggregate(total=Sum("seconds_delta"))["total"] or 0)
    if credited + corrected + seconds_delta < 0:
        raise ValidationError(_("That would take away more time than was ever credited for this course."))
    correction = Correction.objects.create(
        employee=fact.employee, course=fact.course, corrects=Correction.Target.CREDITED_TIME, corrects_id=fact.pk,
        seconds_delta=seconds_delta, occurred_at=fact.occurred_at, reason=reason.strip(), actor=actor)
    record_change(actor=actor, action="correct_time", obj=correction, summary=reason[:200],
                  changes={"seconds": (None, seconds_delta)})
    time_corrected.send(sender=Correction, correction=correction)
    return correction
