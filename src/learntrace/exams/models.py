"""The exam centre: question banks, exams drawn from them, sittings and their results.

A `Sitting` is one person's attempt while it runs (the questions drawn for them, the answers
saved so far, the deadline, how often they left the page); it changes until it is submitted.
The `ExamResult` written at submission is the fact: appended once, never updated, and sealed
in the evidence like the other facts. `ResultAnswer` rows, one per question shown, give the
per-question statistics."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category
from learntrace.org.models import Employee


class QuestionBank(models.Model):
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="question_banks")
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("question bank")
        verbose_name_plural = _("question banks")

    def __str__(self):
        return self.name


class Difficulty(models.IntegerChoices):
    EASY = 1, _("Easy")
    MEDIUM = 2, _("Medium")
    HARD = 3, _("Hard")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TRUE_FALSE = "true_false", _("True or false")
    FILL_IN = "fill_in", _("Fill in the blank")


class BankQuestion(models.Model):
    bank = models.ForeignKey(QuestionBank, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices)
    text = models.TextField(_("question"))
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), choices=Difficulty.choices,
                                                  default=Difficulty.MEDIUM)
    # True/false: [true] or [false]; fill-in: the accepted answers (compared normalised, see
    # catalog.grading); choice questions keep theirs on their choices.
    answers = models.JSONField(default=list, blank=True)
    explanation = models.TextField(_("explanation"), blank=True,
                                   help_text=_("Shown with the correct answer when the exam lets people review."))
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive questions are no longer drawn for new sittings."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [models.Index(fields=["bank", "difficulty"])]

    def __str__(self):
        return self.text[:60]


class BankChoice(models.Model):
    question = models.ForeignKey(BankQuestion, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(_("answer"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text[:60]


class Exam(models.Model):
    class Mode(models.TextChoices):
        FIXED = "fixed", _("Fixed paper: the same questions for everyone")
        RANDOM = "random", _("Random draw per person, by category and difficulty")

    class Review(models.TextChoices):
        NONE = "none", _("Score only")
        ANSWERS = "answers", _("Their answers, marked right or wrong")
        CORRECT = "correct", _("Their answers with the correct answers")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("paper"), max_length=16, choices=Mode.choices, default=Mode.FIXED)
    time_limit_minutes = models.PositiveSmallIntegerField(
        _("time limit (minutes)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(600)])
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(100)])
    attempts_allowed = models.PositiveSmallIntegerField(
        _("attempts allowed"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)])
    leave_limit = models.PositiveSmallIntegerField(
        _("times the page may be left"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("Leaving the exam page once more than this submits the exam. Empty: no limit."))
    shuffle_choices = models.BooleanField(_("shuffle the options"), default=True)
    review = models.CharField(_("after submission, people see"), max_length=16, choices=Review.choices,
                              default=Review.ANSWERS)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True,
                                     help_text=_("Sittings still running then are submitted at this moment."))
    is_published = models.BooleanField(_("published"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exam")
        verbose_name_plural = _("exams")
        constraints = [
            models.CheckConstraint(condition=models.Q(pass_mark__gte=1, pass_mark__lte=100),
                                   name="exam_pass_mark_in_range"),
        ]

    def __str__(self):
        return self.title


class ExamItem(models.Model):
    """A question of a fixed paper."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(BankQuestion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    points = models.PositiveSmallIntegerField(_("points"), default=1,
                                              validators=[MinValueValidator(1), MaxValueValidator(100)])

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["exam", "question"], name="one_item_per_question")]

    def __str__(self):
        return f"{self.exam}: {self.question}"


class ExamRule(models.Model):
    """Part of a random paper: `count` questions of a category (and difficulty, or any) per person."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="rules")
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), choices=Difficulty.choices, null=True,
                                                  blank=True)
    count = models.PositiveSmallIntegerField(_("number of questions"),
                                             validators=[MinValueValidator(1), MaxValueValidator(200)])
    points = models.PositiveSmallIntegerField(_("points each"), default=1,
                                              validators=[MinValueValidator(1), MaxValueValidator(100)])

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.exam}: {self.count} × {self.category}"


class Sitting(models.Model):
    """One person's attempt at an exam, while it runs and after."""

    class Ending(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        TIME_UP = "time_up", _("Time was up")
        LEFT_PAGE = "left_page", _("Left the page too often")

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="sittings")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="exam_sittings")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    # The paper drawn for this person: [{"q": question id, "c": [choice ids, in the order shown], "p": points}]
    paper = models.JSONField(default=list)
    # Saved so far: {question id: [choice ids] | "true"/"false" | text}
    answers = models.JSONField(default=dict, blank=True)
    hidden_count = models.PositiveSmallIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=16, choices=Ending.choices, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["exam", "employee", "number"], name="one_sitting_number")]
        indexes = [models.Index(fields=["deadline"], condition=models.Q(ended_at__isnull=True),
                                name="sitting_running")]

    def __str__(self):
        return f"{self.employee} {self.exam} #{self.number}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class ExamResult(models.Model):
    """The fact of a submitted sitting: what was answered, the score and whether it passed."""

    sitting = models.OneToOneField(Sitting, on_delete=models.PROTECT, related_name="result")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="exam_results")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="results")
    number = models.PositiveSmallIntegerField()
    answers = models.JSONField()
    points = models.PositiveIntegerField()
    max_points = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField()  # percent
    passed = models.BooleanField()
    ending = models.CharField(max_length=16, choices=Sitting.Ending.choices)
    hidden_count = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["employee", "submitted_at"]),
            models.Index(fields=["exam", "passed"]),
        ]

    def __str__(self):
        return f"{self.employee} {self.exam} #{self.number}: {self.score}%"


class ResultAnswer(models.Model):
    """One question shown in a submitted sitting, and whether it was answered right."""

    result = models.ForeignKey(ExamResult, on_delete=models.CASCADE, related_name="lines")
    question = models.ForeignKey(BankQuestion, on_delete=models.PROTECT, related_name="result_lines")
    correct = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["question", "correct"])]

    def __str__(self):
        return f"{self.result_id} {self.question_id}: {'right' if self.correct else 'wrong'}"
