"""Learning plans: who must learn what, by when, period after period."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.exams.models import Exam
from learntrace.org.models import Department, Employee


class PeriodType(models.TextChoices):
    ONE_OFF = "one_off", _("One-off")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class JoinerPolicy(models.TextChoices):
    """How a plan treats someone who joined the organisation late in a period."""

    NEXT_PERIOD = "next_period", _("Not judged in a period they joined after its due day")
    PRORATED = "prorated", _("Hours target prorated by the days employed in the period")
    GRACE = "grace", _("Not judged in a period they joined less than the grace days before its due day")


class LearningPlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    period_type = models.CharField(_("period"), max_length=16, choices=PeriodType.choices,
                                   default=PeriodType.MONTHLY)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True, help_text=_("Only for one-off plans."))
    due_day = models.PositiveSmallIntegerField(
        _("due day"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("Day of the period's last month by which it is due (clamped to the month's last day)."),
    )

    # The audience: anyone matching every kind of criterion given (departments,
    # levels, positions, tags; any value within one kind), plus the named people.
    audience_levels = models.JSONField(_("levels"), default=list, blank=True)
    audience_positions = models.JSONField(_("positions"), default=list, blank=True)
    audience_tags = models.JSONField(_("tags"), default=list, blank=True)
    audience_employees = models.ManyToManyField(Employee, verbose_name=_("named people"), blank=True,
                                                related_name="+")

    counted_categories = models.ManyToManyField(
        Category, verbose_name=_("counted categories"), blank=True, related_name="+",
        help_text=_("Only time in courses of these categories counts towards the hours; none selected: all."),
    )
    min_total_seconds = models.PositiveIntegerField(_("minimum hours in total"), default=0)
    min_video_seconds = models.PositiveIntegerField(_("minimum hours of video"), default=0)
    min_document_seconds = models.PositiveIntegerField(_("minimum hours of documents"), default=0)
    min_offline_seconds = models.PositiveIntegerField(_("minimum hours of offline meetings"), default=0)
    min_live_seconds = models.PositiveIntegerField(_("minimum hours of live meetings"), default=0)
    follows_credit_rules = models.BooleanField(
        _("judged by the year's credit rules"), default=False,
        help_text=_("A yearly plan's credits are also judged by the credit rule set in force in its year."))
    requires_reflection = models.BooleanField(_("reflection required"), default=False)
    reflection_min_chars = models.PositiveIntegerField(_("minimum reflection length (characters)"), default=0)
    joiner_policy = models.CharField(
        _("people who join during a period"), max_length=16, choices=JoinerPolicy.choices,
        default=JoinerPolicy.NEXT_PERIOD,
        help_text=_("The day someone joined is their hire date, or the day their record was created."))
    joiner_grace_days = models.PositiveSmallIntegerField(
        _("grace days"), default=0, validators=[MaxValueValidator(366)],
        help_text=_("With grace days: how many days before the due day a joiner must have joined to be judged."))
    required_courses = models.ManyToManyField(Course, through="PlanItem", verbose_name=_("required courses"),
                                              blank=True, related_name="plans")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("learning plan")
        verbose_name_plural = _("learning plans")

    def __str__(self):
        return self.name

    def kind_targets(self) -> dict[str, int]:
        return {
            CourseKind.VIDEO: self.min_video_seconds, CourseKind.DOCUMENT: self.min_document_seconds,
            CourseKind.OFFLINE: self.min_offline_seconds, CourseKind.LIVE: self.min_live_seconds,
        }

    def targets_snapshot(self) -> dict:
        """What a period of this plan asks for, copied into the period when it opens (and while it
        is open), so that editing the plan next month does not rewrite what last month asked."""
        return {
            "min_total_seconds": self.min_total_seconds,
            "min_seconds_by_kind": {kind: seconds for kind, seconds in self.kind_targets().items() if seconds},
            "course_ids": list(self.items.values_list("course_id", flat=True)),
            "exam_ids": list(self.exam_items.values_list("exam_id", flat=True)),
            "counted_category_ids": sorted(self.counted_categories.values_list("pk", flat=True)),
            "credit_targets": [
                {"credit_class_id": t.credit_class_id, "category_id": t.category_id, "min_credits": str(t.min_credits)}
                for t in self.credit_targets.all()
            ],
            "credit_rules": self.follows_credit_rules,
            "requires_reflection": self.requires_reflection,
            "reflection_min_chars": self.reflection_min_chars if self.requires_reflection else 0,
            "joiner_policy": self.joiner_policy,
            "joiner_grace_days": self.joiner_grace_days if self.joiner_policy == JoinerPolicy.GRACE else 0,
        }


class PlanDepartment(models.Model):
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="audience_departments")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    include_subtree = models.BooleanField(_("with sub-departments"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "department"], name="unique_plan_department")]

    def __str__(self):
        return f"{self.plan}: {self.department}{' +' if self.include_subtree else ''}"


class PlanItem(models.Model):
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="items")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "course"], name="unique_plan_course")]

    def __str__(self):
        return f"{self.plan}: {self.course}"


class PlanExam(models.Model):
    """An exam the plan requires: passed within the period (or, for a one-off plan, before its end)."""

    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="exam_items")
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "exam"], name="unique_plan_exam")]

    def __str__(self):
        return f"{self.plan}: {self.exam}"


class PlanCreditTarget(models.Model):
    """At least `min_credits` per calendar year, of one credit class and/or category (blank: any)."""

    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="credit_targets")
    credit_class = models.ForeignKey(CreditClass, verbose_name=_("credit class"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    min_credits = models.DecimalField(_("minimum credits per year"), max_digits=6, decimal_places=2,
                                      validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.plan}: {self.min_credits} {self.credit_class or ''} {self.category or ''}".strip()


class PlanPeriod(models.Model):
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="periods")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()  # exclusive
    due_at = models.DateTimeField()  # end of the due day
    targets = models.JSONField(default=dict)  # LearningPlan.targets_snapshot()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [models.UniqueConstraint(fields=["plan", "starts_at"], name="unique_plan_period")]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]

    def __str__(self):
        return f"{self.plan} {self.starts_at:%Y-%m-%d}"


class Assignment(models.Model):
    """One person owing one plan for one period; kept in step with the audience."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.CASCADE, related_name="assignments")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="assignments")
    joined_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "employee"], name="unique_assignment")]
        indexes = [models.Index(fields=["employee", "removed_at"])]

    def __str__(self):
        return f"{self.period}: {self.employee}"


class Reflection(models.Model):
    """学习心得: written by the learner for one assignment, reviewed by a training admin."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned for changes")

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="reflection")
    text = models.TextField(_("reflection"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.assignment}: {self.status}"

    @property
    def editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.RETURNED}




class ReflectionEvent(models.Model):
    """A fact for the evidence: a reflection submitted, accepted or returned (its text by digest)."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned for changes")

    reflection = models.ForeignKey(Reflection, on_delete=models.PROTECT, related_name="events")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text_sha256 = models.CharField(max_length=64)
    comment = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.employee} {self.kind} {self.at:%Y-%m-%d}"
