"""Changes to quizzes that a form alone cannot make: a question with its choices, and removing one
only while nobody has answered the quiz. Each writes its audit entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from learntrace.catalog.forms import QuestionForm
from learntrace.catalog.models import Question, Quiz
from learntrace.core.audit import record_change

if TYPE_CHECKING:
    from learntrace.core.audit import Actor


@transaction.atomic
def add_question(*, actor: Actor, quiz: Quiz, form: QuestionForm) -> Question:
    """Add the question of a validated QuestionForm (the quiz is created with it if new)."""
    if quiz.pk is None:
        quiz.save()
    question = form.save(quiz)
    record_change(actor=actor, action="create", obj=question, summary=f"{quiz.course.title}: {question.text}")
    return question


@transaction.atomic
def remove_question(*, actor: Actor, question: Question) -> None:
    # Locked with the attempts check, so an answer arriving meanwhile cannot lose its question.
    quiz = Quiz.objects.select_for_update().select_related("course").get(pk=question.quiz_id)
    if quiz.attempts.exists():
        raise ValidationError(_("People have already answered this quiz; its questions can no longer change."))
    record_change(actor=actor, action="delete", obj=question, summary=f"{quiz.course.title}: {question.text}")
    question.delete()
