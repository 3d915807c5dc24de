"""Proof of attention while a course plays: which rule applies to an attempt, the moments the server
chooses for questions, and what the client may see of a question (never which answer is right).

The crediting rules themselves live in services.py with the rest of a beat's arithmetic."""

import datetime as dt
import random

from django.db.models import Q

from learntrace.catalog.models import Course, CourseKind, Question
from learntrace.tracking.models import Attempt, AttentionCheck, AttentionRule, OnWrong, PlacedQuestion

ANSWER_SECONDS = 60  # the countdown of a question and of an idle prompt
ANSWER_SLACK_SECONDS = 10  # network and a slow phone: an answer this late is still in time
# Questions the server chooses are placed between these fractions of the video, at least this far apart.
RANDOM_FROM, RANDOM_TO = 0.1, 0.9
RANDOM_MIN_GAP_MS = 10_000
# Beat numbers above what a player may send (parse_beat's maximum) are the server's own facts:
# the held segment credited when a question is answered right.
SERVER_SEQ_BASE = 10_000_001
_random = random.SystemRandom()  # the moments must not be predictable from earlier attempts


def rule_for(employee, course: Course, now: dt.datetime) -> tuple[int, int, str]:
    """(idle minutes, random questions, on wrong) for this person and course: the course's own rule,
    and the idle check of any published plan the person is assigned to now that requires the course
    (the shortest idle time wins)."""
    rules = list(AttentionRule.objects.filter(
        Q(course=course) | Q(plan__status="published", plan__items__course=course,
                             plan__periods__starts_at__lte=now, plan__periods__ends_at__gt=now,
                             plan__periods__assignments__employee=employee,
                             plan__periods__assignments__removed_at__isnull=True)).distinct())
    idle = [r.idle_minutes for r in rules if r.idle_minutes]
    own = next((r for r in rules if r.course_id == course.pk), None)
    if own is None:
        return (min(idle) if idle else 0), 0, OnWrong.REWIND
    return (min(idle) if idle else 0), own.random_questions, own.on_wrong


def bank(course: Course) -> list[Question]:
    """The course quiz's questions that have a right answer to check."""
    return [q for q in Question.objects.filter(quiz__course=course).prefetch_related("choices")
            if any(c.is_correct for c in q.choices.all())]


def random_moments(duration_ms: int, count: int, taken: list[int]) -> list[int]:
    """`count` moments in the middle of the video, apart from each other and from `taken`."""
    low, high = int(duration_ms * RANDOM_FROM), int(duration_ms * RANDOM_TO)
    chosen: list[int] = []
    for _attempt in range(count * 20):
        if len(chosen) == count or high <= low:
            break
        moment = _random.randrange(low, high) // 1000 * 1000
        if all(abs(moment - other) >= RANDOM_MIN_GAP_MS for other in taken + chosen):
            chosen.append(moment)
    return sorted(chosen)


def schedule_questions(attempt: Attempt, course: Course, random_count: int) -> None:
    """The attempt's questions: those the admin placed, and `random_count` drawn from the bank at
    moments chosen now. Stored with the attempt; the client learns each only when it is due."""
    if course.kind != CourseKind.VIDEO:
        return
    duration_ms = course.duration_seconds * 1000
    placed = [(p.at_seconds * 1000, p.question_id) for p in PlacedQuestion.objects.filter(course=course)
              if p.at_seconds * 1000 < duration_ms]
    planned = list(placed)
    if random_count:
        placed_ids = {question_id for _at, question_id in placed}
        pool = [q.pk for q in bank(course) if q.pk not in placed_ids] or [q.pk for q in bank(course)]
        questions = _random.sample(pool, min(random_count, len(pool)))
        moments = random_moments(duration_ms, len(questions), [at for at, _q in placed])
        planned += list(zip(moments, questions, strict=False))
    planned.sort()
    AttentionCheck.objects.bulk_create([
        AttentionCheck(attempt=attempt, number=number, kind=AttentionCheck.Kind.QUESTION, question_id=question_id,
                       due_ms=due_ms) for number, (due_ms, question_id) in enumerate(planned, start=1)])
    if planned:
        attempt.next_question_ms = planned[0][0]
        attempt.save(update_fields=["next_question_ms"])


def another_question(course: Course, asked: int | None) -> int | None:
    """After a wrong answer with rewind: ask another question of the bank when there is one."""
    pool = [q.pk for q in bank(course) if q.pk != asked]
    return _random.choice(pool) if pool else asked


def next_check_number(attempt_id) -> int:
    last = AttentionCheck.objects.filter(attempt_id=attempt_id).order_by("-number").values_list("number", flat=True)
    return (last.first() or 0) + 1


def question_payload(check: AttentionCheck) -> dict:
    """What the player shows: the text and the choices, without which ones are right."""
    question = check.question
    return {
        "check": check.pk, "due_ms": check.due_ms, "seconds": ANSWER_SECONDS,
        "text": question.text if question else "",
        "multiple": bool(question and question.kind == Question.Kind.MULTIPLE),
        "choices": [{"id": c.pk, "text": c.text} for c in question.choices.all()] if question else [],
    }


def prompt_payload(check: AttentionCheck) -> dict:
    return {"check": check.pk, "seconds": ANSWER_SECONDS}
