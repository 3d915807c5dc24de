"""The catalogue: courses of four kinds, their categories and credit classes, and quizzes."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.core.languages import local_name


class NamedInTwoLanguages(models.Model):
    """Admin-defined names: the Chinese name, and optionally an English one."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return local_name(self.name, self.name_en)


class Category(NamedInTwoLanguages):
    """Management, clinical, compliance, …: a list the training admin edits."""

    class Meta(NamedInTwoLanguages.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class CreditClass(NamedInTwoLanguages):
    """"CME class I", "CME class II", "internal", …: defined by the admin, never hard-coded."""

    class Meta(NamedInTwoLanguages.Meta):
        verbose_name = _("credit class")
        verbose_name_plural = _("credit classes")


class CourseKind(models.TextChoices):
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("Document")
    OFFLINE = "offline", _("Offline meeting")
    LIVE = "live", _("Live online meeting")


class Course(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CourseKind.choices)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="courses")
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"), validators=[MinValueValidator(1)],
        help_text=_("Length of the video or meeting; for a document, the minimum reading time."),
    )
    completion_threshold = models.PositiveSmallIntegerField(
        _("completion threshold (%)"), default=95, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of the video that must really be watched, or of the reading time."),
    )
    no_skipping = models.BooleanField(_("no skipping ahead"), default=False)
    credits = models.DecimalField(_("credits"), max_digits=6, decimal_places=2, default=Decimal("0"),
                                  validators=[MinValueValidator(Decimal("0"))])
    credit_class = models.ForeignKey(CreditClass, verbose_name=_("credit class"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="courses")
    # What continuing-education platforms identify an accredited project by (项目编号) and the hours
    # (学时) it was accredited for, written in the credit export.
    project_number = models.CharField(_("CME project number"), max_length=64, blank=True)
    credit_hours = models.DecimalField(_("accredited hours"), max_digits=6, decimal_places=1, null=True, blank=True,
                                       validators=[MinValueValidator(Decimal("0"))])
    video_file = models.FileField(_("video file"), upload_to="courses/videos/", blank=True)
    external_url = models.URLField(_("external video or meeting URL"), blank=True)
    document_file = models.FileField(_("PDF document"), upload_to="courses/documents/", blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="course_credits_not_negative"),
            models.CheckConstraint(
                condition=models.Q(completion_threshold__gte=1, completion_threshold__lte=100),
                name="course_threshold_in_range",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def required_seconds(self) -> int:
        """Unique seconds needed for completion."""
        return -(-self.duration_seconds * self.completion_threshold // 100)

    @property
    def has_quiz(self) -> bool:
        return hasattr(self, "quiz")


class Quiz(models.Model):
    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        _("attempts allowed"), default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")

    def __str__(self):
        return str(self.course)


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField(_("question"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SINGLE)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self):
        return self.text[:60]


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(_("answer"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text[:60]
