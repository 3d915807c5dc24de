"""Sitting an exam: drawing a paper, saving answers, leaving the page, submitting and grading.

The server alone decides: the paper (drawn here, kept on the sitting), the deadline (answers
arriving after it are refused, and the sitting is submitted with what was saved before), the
count of times the page was left, and the grade (catalog.grading, the same rule as course
quizzes). The client receives questions and option texts only, never which is right."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.catalog import grading
from learntrace.core.audit import record_change
from learntrace.exams.models import (
    BankQuestion,
    Exam,
    ExamResult,
    QuestionKind,
    ResultAnswer,
    Sitting,
)
from learntrace.exams.signals import result_recorded
from learntrace.org.models import Employee

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from learntrace.core.audit import Actor

MAX_TEXT_ANSWER = 500
_draw = random.SystemRandom()  # a learner must not predict their paper from the time they start


class Refused(Exception):
    """A request the exam cannot take; `code` names the reason for the API and the tests."""

    messages = {
        "not_open": gettext_lazy("This exam is not open now."),
        "no_attempts": gettext_lazy("You have no attempts left for this exam."),
        "passed": gettext_lazy("You have already passed this exam."),
        "short_bank": gettext_lazy("The question banks have too few questions for this exam; please tell the "
                                   "training admin."),
        "ended": gettext_lazy("This sitting has already been submitted."),
        "time_up": gettext_lazy("Time was up: answers sent after the deadline were not accepted."),
        "not_drawn": gettext_lazy("An answer was sent for a question that is not on your paper."),
        "bad_answer": gettext_lazy("An answer is not one of the question's options."),
    }

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(self.messages[self.code])


def is_open(exam: Exam, now: datetime) -> bool:
    return exam.is_published and (exam.opens_at is None or exam.opens_at <= now) and \
        (exam.closes_at is None or now < exam.closes_at)


def open_exams() -> QuerySet[Exam]:
    """Exams people may sit now (published and within their window)."""
    now = timezone.now()
    return Exam.objects.filter(is_published=True).filter(
        Q(opens_at__isnull=True) | Q(opens_at__lte=now)).filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))


# --- the paper -------------------------------------------------------------------------------

def draw_paper(exam: Exam) -> list[dict]:
    """The questions for one sitting: the fixed paper in order, or each rule's count drawn at
    random (no question twice); options in the order shown. Refused when a bank runs short."""
    if exam.mode == Exam.Mode.FIXED:
        picked = [(item.question_id, item.points) for item in exam.items.all()]
    else:
        picked, taken = [], set()
        for rule in exam.rules.all():
            pool = BankQuestion.objects.filter(bank__category_id=rule.category_id, is_active=True)
            if rule.difficulty is not None:
                pool = pool.filter(difficulty=rule.difficulty)
            ids = [pk for pk in pool.values_list("pk", flat=True) if pk not in taken]
            if len(ids) < rule.count:
                raise Refused("short_bank")
            chosen = _draw.sample(ids, rule.count)
            taken.update(chosen)
            picked += [(pk, rule.points) for pk in chosen]
        _draw.shuffle(picked)
    if not picked:
        raise Refused("short_bank")
    choices: dict[int, list[int]] = {}
    for question in BankQuestion.objects.filter(pk__in=[pk for pk, _points in picked]).prefetch_related("choices"):
        choices[question.pk] = [choice.pk for choice in question.choices.all()]
    paper = []
    for pk, points in picked:
        order = list(choices[pk])
        if exam.shuffle_choices:
            _draw.shuffle(order)
        paper.append({"q": pk, "c": order, "p": points})
    return paper


def questions_of(sitting: Sitting) -> list[tuple[dict, BankQuestion, list]]:
    """(paper entry, question, choices in the order shown) for each question of a sitting."""
    questions = BankQuestion.objects.prefetch_related("choices").in_bulk([entry["q"] for entry in sitting.paper])
    choices = {}
    for question in questions.values():
        for choice in question.choices.all():
            choices[choice.pk] = choice
    return [(entry, questions[entry["q"]], [choices[pk] for pk in entry["c"]]) for entry in sitting.paper]


# --- starting --------------------------------------------------------------------------------

def attempts_used(exam: Exam, employee: Employee) -> int:
    return Sitting.objects.filter(exam=exam, employee=employee).count()


def start(*, exam: Exam, employee: Employee, now: datetime | None = None) -> Sitting:
    """The person's running sitting of the exam, or a new one with a freshly drawn paper."""
    now = now or timezone.now()
    close_overdue(now, employee=employee)  # a sitting left running past its time ends first
    with transaction.atomic():
        Employee.objects.select_for_update().filter(pk=employee.pk).first()  # one start at a time per person
        running = Sitting.objects.filter(exam=exam, employee=employee, ended_at__isnull=True).first()
        if running is not None:
            return running
        if not is_open(exam, now):
            raise Refused("not_open")
        if ExamResult.objects.filter(exam=exam, employee=employee, passed=True).exists():
            raise Refused("passed")
        used = attempts_used(exam, employee)
        if used >= exam.attempts_allowed:
            raise Refused("no_attempts")
        deadline = now + timedelta(minutes=exam.time_limit_minutes)
        if exam.closes_at is not None:
            deadline = min(deadline, exam.closes_at)
        return Sitting.objects.create(exam=exam, employee=employee, number=used + 1, started_at=now,
                                      deadline=deadline, paper=draw_paper(exam))


# --- answering -------------------------------------------------------------------------------

def clean_answers(sitting: Sitting, raw: dict) -> dict[str, object]:
    """The answers of a request, checked against the person's paper; the whole request is
    refused at the first answer that does not fit (nothing of it is saved)."""
    if not isinstance(raw, dict):
        raise Refused("bad_answer")
    paper = {str(entry["q"]): entry for entry in sitting.paper}
    kinds = dict(BankQuestion.objects.filter(pk__in=[entry["q"] for entry in sitting.paper])
                 .values_list("pk", "kind"))
    cleaned: dict[str, object] = {}
    for key, value in raw.items():
        entry = paper.get(str(key))
        if entry is None:
            raise Refused("not_drawn")
        kind = kinds[entry["q"]]
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            values = value if isinstance(value, list) else [value]
            try:
                ids = sorted({int(v) for v in values if v not in ("", None)})
            except (TypeError, ValueError):
                raise Refused("bad_answer") from None
            if not set(ids) <= set(entry["c"]) or (kind == QuestionKind.SINGLE and len(ids) > 1):
                raise Refused("bad_answer")
            cleaned[str(key)] = ids
        elif kind == QuestionKind.TRUE_FALSE:
            if value not in ("true", "false", ""):
                raise Refused("bad_answer")
            cleaned[str(key)] = value
        else:
            if not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER:
                raise Refused("bad_answer")
            cleaned[str(key)] = value.strip()
    return cleaned


def _locked(sitting: Sitting, now: datetime) -> Sitting | None:
    """The sitting locked for a change; None (and the sitting submitted with what was saved in
    time) when its deadline has passed. Raises when it has already ended."""
    sitting = Sitting.objects.select_for_update().select_related("exam").get(pk=sitting.pk)
    if not sitting.is_running:
        raise Refused("ended")
    if now > sitting.deadline:
        end(sitting=sitting, ending=Sitting.Ending.TIME_UP, at=sitting.deadline)
        return None
    return sitting


def save_answers(*, sitting: Sitting, answers: dict, now: datetime | None = None) -> Sitting:
    """Keep answers given so far (they count if the time runs out before the person submits)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(sitting, now)
        if locked is not None:
            locked.answers = {**locked.answers, **clean_answers(locked, answers)}
            Sitting.objects.filter(pk=locked.pk).update(answers=locked.answers)
            return locked
    raise Refused("time_up")  # after the commit that ended the sitting


def page_left(*, sitting: Sitting, now: datetime | None = None) -> Sitting:
    """The client reports that the exam page was hidden; past the exam's limit it is submitted."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(sitting, now)
        if locked is not None:
            locked.hidden_count += 1
            Sitting.objects.filter(pk=locked.pk).update(hidden_count=locked.hidden_count)
            limit = locked.exam.leave_limit
            if limit is not None and locked.hidden_count > limit:
                end(sitting=locked, ending=Sitting.Ending.LEFT_PAGE, at=now)
            return locked
    raise Refused("time_up")


def submit(*, sitting: Sitting, answers: dict | None = None, now: datetime | None = None) -> ExamResult:
    """Submit with the last answers. After the deadline the sitting ends with the answers saved
    in time, and `Refused("time_up")` says the late ones were not taken."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(sitting, now)
        if locked is not None:
            locked.answers = {**locked.answers, **clean_answers(locked, answers or {})}
            return end(sitting=locked, ending=Sitting.Ending.SUBMITTED, at=now)
    raise Refused("time_up")


# --- grading and the fact --------------------------------------------------------------------

def is_right(question: BankQuestion, correct_choices: set[int], given) -> bool:
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return grading.choices_right(set(given or []), correct_choices)
    if question.kind == QuestionKind.TRUE_FALSE:
        return given in ("true", "false") and (given == "true") == bool(question.answers and question.answers[0])
    return grading.text_right(given or "", [str(text) for text in question.answers])


def end(*, sitting: Sitting, ending: str, at: datetime) -> ExamResult:
    """Close a locked, running sitting: grade it and write the result (called inside a transaction)."""
    questions = BankQuestion.objects.prefetch_related("choices").in_bulk([entry["q"] for entry in sitting.paper])
    points = max_points = 0
    lines = []
    for entry in sitting.paper:
        question = questions[entry["q"]]
        correct = {choice.pk for choice in question.choices.all() if choice.is_correct}
        right = is_right(question, correct, sitting.answers.get(str(entry["q"])))
        max_points += entry["p"]
        points += entry["p"] if right else 0
        lines.append(ResultAnswer(question=question, correct=right))
    score = grading.percent(points, max_points)
    Sitting.objects.filter(pk=sitting.pk).update(ended_at=at, ending=ending, answers=sitting.answers)
    sitting.ended_at, sitting.ending = at, ending
    result = ExamResult.objects.create(
        sitting=sitting, employee_id=sitting.employee_id, exam_id=sitting.exam_id, number=sitting.number,
        answers=sitting.answers, points=points, max_points=max_points, score=score,
        passed=score >= sitting.exam.pass_mark, ending=ending, hidden_count=sitting.hidden_count,
        started_at=sitting.started_at, submitted_at=at,
    )
    for line in lines:
        line.result = result
    ResultAnswer.objects.bulk_create(lines)
    transaction.on_commit(lambda: result_recorded.send(sender=ExamResult, result=result))
    return result


def close_overdue(now: datetime | None = None, *, employee: Employee | None = None) -> int:
    """Submit the sittings whose time is up though the client never came back (the worker runs
    it each minute; starting an exam runs it for the person)."""
    now = now or timezone.now()
    overdue = Sitting.objects.filter(ended_at__isnull=True, deadline__lt=now)
    if employee is not None:
        overdue = overdue.filter(employee=employee)
    closed = 0
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            sitting = Sitting.objects.select_for_update().select_related("exam").filter(pk=pk).first()
            if sitting is not None and sitting.is_running:
                end(sitting=sitting, ending=Sitting.Ending.TIME_UP, at=sitting.deadline)
                closed += 1
    return closed


# --- review and statistics -------------------------------------------------------------------

@dataclass
class ReviewLine:
    question: BankQuestion
    choices: list  # in the order shown
    given: object
    right: bool
    correct_choices: set
    points: int


def review(result: ExamResult) -> list[ReviewLine]:
    lines = []
    for entry, question, choices in questions_of(result.sitting):
        correct = {choice.pk for choice in choices if choice.is_correct}
        given = result.answers.get(str(entry["q"]))
        lines.append(ReviewLine(question=question, choices=choices, given=given,
                                right=is_right(question, correct, given), correct_choices=correct,
                                points=entry["p"]))
    return lines


def question_stats(questions: QuerySet[BankQuestion]) -> QuerySet[BankQuestion]:
    """Each question with `shown` (in submitted sittings) and `right` counts."""
    return questions.annotate(shown=Count("result_lines"),
                              right=Count("result_lines", filter=Q(result_lines__correct=True)))


def correct_rate(question) -> int | None:
    return grading.percent(question.right, question.shown) if question.shown else None


# --- admin writes ----------------------------------------------------------------------------

@transaction.atomic
def save_question(*, actor: Actor, question: BankQuestion, choices: list[tuple[str, bool]]) -> BankQuestion:
    """Save a question with its options (choice questions) in one write, with its audit entry."""
    created = question.pk is None
    if not created and ResultAnswer.objects.filter(question=question).exists():
        raise ValidationError(_("People have already answered this question; add a new one instead."))
    question.save()
    question.choices.all().delete()  # a question turned into a true/false one keeps no options
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        question.choices.bulk_create([
            question.choices.model(question=question, position=position, text=text, is_correct=correct)
            for position, (text, correct) in enumerate(choices)
        ])
    record_change(actor=actor, action="create" if created else "update", obj=question,
                  summary=f"{question.bank.name}: {question.text}")
    return question


def results_of(exam: Exam) -> QuerySet[ExamResult]:
    return exam.results.select_related("employee", "employee__department").order_by("-submitted_at")

