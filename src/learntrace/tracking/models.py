"""Viewing sessions of videos and documents, and each person's clock. What the beats
claimed and credited is kept as learning facts (`records.CreditedTime`), and the union
of watched intervals in the person's course state (`records.CourseProgress`)."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course, Question
from learntrace.org.models import Employee
from learntrace.plans.models import LearningPlan
from learntrace.records.models import CourseProgress


class Attempt(models.Model):
    """One opening of a course page: the server's start time bounds what its beats may claim.
    Its beats are `records.CreditedTime` facts carrying the attempt's id and their number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="attempts")
    # The employee's login, copied: the beat endpoint finds "an attempt of this user" without a join.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="attempts")
    # The rows every beat of this attempt reads and locks, joined in one query.
    progress = models.ForeignKey(CourseProgress, on_delete=models.PROTECT, related_name="attempts")
    clock = models.ForeignKey("LearnerClock", on_delete=models.PROTECT, related_name="attempts")
    started_at = models.DateTimeField()
    user_agent = models.CharField(max_length=200, blank=True)
    # Attention (see docs/tracking-protocol.md, "Attention"), fixed when the attempt starts and read
    # with every beat. idle_ms: credit stops this long after the last sign of presence (0: off).
    idle_ms = models.PositiveIntegerField(default=0)
    presence_at = models.DateTimeField(null=True, blank=True)
    prompt_open_at = models.DateTimeField(null=True, blank=True)  # an idle prompt waiting for its answer
    # The media position of the next unanswered question (null: none left), where the segment it
    # confirms starts, what the learner does after a wrong answer, and the pieces watched in that
    # segment, held until the question is answered right.
    next_question_ms = models.PositiveIntegerField(null=True, blank=True)
    segment_from_ms = models.PositiveIntegerField(default=0)
    on_wrong = models.CharField(max_length=16, default="rewind")
    held = models.JSONField(default=list, blank=True)
    # Segments lost to a wrong answer when the course goes on without rewinding: not credited again
    # in this attempt.
    forfeited = models.JSONField(default=list, blank=True)
    # The highest number of the tracker's beats applied, as of when the person's clock last moved on to
    # another attempt (while the clock is on this attempt, the clock's own number is newer). A beat
    # numbered above it is new without looking it up; that is what keeps each beat's fact once without a
    # unique index on (attempt, number), a year of which would cost as much as the fact's own columns.
    last_seq = models.IntegerField(default=-1)

    class Meta:
        indexes = [models.Index(fields=["employee", "course", "started_at"])]

    def __str__(self):
        return f"{self.employee} {self.course} {self.started_at:%Y-%m-%d %H:%M}"


class LearnerClock(models.Model):
    """How much wall-clock time a person has already spent being credited. A person has one
    pair of eyes: two tabs, or two courses at once, share it (see services.apply_beat)."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, primary_key=True,
                                    related_name="learner_clock")
    busy_until = models.DateTimeField()
    # The attempt credited last and the highest beat number seen of it: a beat of that attempt
    # with a higher number is new without looking it up (the tracker sends them in order). Every beat
    # of the person locks this row, so two copies of one beat are never applied at once.
    last_attempt_id = models.UUIDField(null=True, blank=True)
    last_seq = models.IntegerField(default=-1)

    def __str__(self):
        return f"{self.employee} busy until {self.busy_until}"


class OnWrong(models.TextChoices):
    REWIND = "rewind", _("Rewind to the previous question and ask again")
    NOT_CREDITED = "not_credited", _("Go on; the segment is not credited")


class AttentionRule(models.Model):
    """How a course (or every course of a plan) checks that the learner is there. Off by default:
    a course or plan without a rule has no idle check and no questions."""

    course = models.OneToOneField(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="attention")
    # A plan sets only the idle check: questions belong to a video's moments.
    plan = models.OneToOneField(LearningPlan, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="attention")
    idle_minutes = models.PositiveSmallIntegerField(
        _("idle check after (minutes without interaction)"), default=0,
        validators=[MaxValueValidator(240)], help_text=_("0: no idle check."))
    random_questions = models.PositiveSmallIntegerField(
        _("random questions from the course quiz"), default=0, validators=[MaxValueValidator(20)],
        help_text=_("Asked at moments the server chooses, in addition to the questions placed below."))
    on_wrong = models.CharField(_("after a wrong or missing answer"), max_length=16, choices=OnWrong.choices,
                                default=OnWrong.REWIND)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(course__isnull=True, plan__isnull=False) | models.Q(course__isnull=False,
                                                                                  plan__isnull=True),
            name="attention_rule_of_course_or_plan")]

    def __str__(self):
        return f"{self.course or self.plan}: {self.idle_minutes} min"


class PlacedQuestion(models.Model):
    """A question of the course's quiz, asked when the video reaches a moment."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="placed_questions")
    question = models.ForeignKey(Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="+")
    at_seconds = models.PositiveIntegerField(_("moment (seconds from the start)"))

    class Meta:
        ordering = ["at_seconds", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "at_seconds"], name="one_question_per_moment")]

    def __str__(self):
        return f"{self.course} @{self.at_seconds}s"


class AttentionCheck(models.Model):
    """One idle prompt or question of an attempt: when it was shown, how it was answered, and
    the time that was not credited because of it."""

    class Kind(models.TextChoices):
        IDLE = "idle", _("idle prompt")
        QUESTION = "question", _("question")

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", _("not reached")
        SHOWN = "shown", _("shown, not answered")
        ANSWERED = "answered", _("answered")
        RIGHT = "right", _("answered right")
        WRONG = "wrong", _("answered wrongly")
        MISSED = "missed", _("not answered in time")

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="checks")
    number = models.PositiveIntegerField()  # within the attempt
    kind = models.CharField(max_length=16, choices=Kind.choices)
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_ms = models.PositiveIntegerField(null=True, blank=True)  # media position of a question
    shown_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SCHEDULED)
    chosen = models.JSONField(default=list, blank=True)
    uncredited_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["attempt", "number"], name="one_check_per_number")]

    def __str__(self):
        return f"{self.attempt_id} #{self.number} {self.kind} {self.outcome}"


FLAG_LABELS = {
    "over_wall_clock": _("claimed more than the time that had passed"),
    "beat_too_long": _("one beat claimed too much at once"),
    "hidden": _("played while the page was hidden"),
    "rate_above_2x": _("played faster than 2×"),
    "question_pending": _("played past a question not yet answered"),
    "idle": _("no sign of presence (idle check)"),
    "another_window": _("another course was playing in another window"),
}
