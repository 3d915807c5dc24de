"""Where each person stands in each plan period, kept up to date by the worker.

`Standing` is the materialised per-person-per-period figure that compliance rules,
reports, exports and the API read, so none of them aggregates raw facts."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.org.models import Department, Employee
from learntrace.plans.models import Assignment, LearningPlan, PlanPeriod


class Standing(models.Model):
    """One assignment's figures: refreshed while the period is open, frozen once it is closed."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="standing")
    # Copied from the assignment so reports filter and group without joins.
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(PlanPeriod, on_delete=models.CASCADE, related_name="standings")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="standings")
    # The department the person belonged to when last refreshed (frozen with the period).
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    department_path = models.CharField(max_length=255, db_index=True)
    period_starts_at = models.DateTimeField()
    joined_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    # Credited seconds within the period (counted categories only), by kind of course.
    video_seconds = models.PositiveIntegerField(default=0)
    document_seconds = models.PositiveIntegerField(default=0)
    offline_seconds = models.PositiveIntegerField(default=0)
    live_seconds = models.PositiveIntegerField(default=0)
    total_seconds = models.PositiveIntegerField(default=0)
    target_seconds = models.PositiveIntegerField(default=0)
    owed_seconds = models.PositiveIntegerField(default=0)
    required_total = models.PositiveSmallIntegerField(default=0)
    required_done = models.PositiveSmallIntegerField(default=0)
    credits = models.DecimalField(max_digits=8, decimal_places=2, default=0)  # completed within the period
    credits_year = models.DecimalField(max_digits=8, decimal_places=2, default=0)  # calendar year to period end
    reflection_status = models.CharField(max_length=16, blank=True)  # "" when not required
    complete = models.BooleanField(default=False)  # every target of the period met
    completed_at = models.DateTimeField(null=True, blank=True)  # when the last missing target was met
    quizzes_required = models.PositiveSmallIntegerField(default=0)  # required courses that have a quiz
    quizzes_passed = models.PositiveSmallIntegerField(default=0)  # ... passed within the period
    missing = models.JSONField(default=list)  # what is owed, e.g. [{"what": "hours", "kind": "video", "owed": 3600}]
    # Joined the organisation after the due day (or within the plan's grace days): not judged.
    joined_after_due = models.BooleanField(default=False)

    # Set by rule evaluation at the due day and at close (compliance.services).
    compliant = models.BooleanField(null=True)
    consequences = models.JSONField(default=list)  # [{"rule": id, "name": ..., "kind": ..., "value": ...}]
    score = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    recognitions = models.JSONField(default=list)  # titles earned, e.g. ["培训之星"]
    evaluated_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField()
    # The latest of refreshed_at, evaluated_at and frozen_at, stored so that the API's cursor
    # pages through a period by index.
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["period", "changed_at", "id"]),
            models.Index(fields=["period", "department_path"]),
            models.Index(fields=["plan", "period_starts_at"]),
            models.Index(fields=["employee", "period_starts_at"]),
            # Who owes most in a period, first: the reports' non-completers read a few rows of it.
            models.Index(fields=["period", "-owed_seconds", "employee", "period_starts_at"],
                         condition=models.Q(removed_at__isnull=True, complete=False, joined_after_due=False),
                         name="standing_owing_idx"),
        ]

    def __str__(self):
        return f"{self.assignment}"


class PeriodState(models.Model):
    """Whether a period's outcome is frozen, and the reopenings an admin asked for."""

    period = models.OneToOneField(PlanPeriod, on_delete=models.CASCADE, related_name="state")
    evaluated_at = models.DateTimeField(null=True, blank=True)  # at the due day
    frozen_at = models.DateTimeField(null=True, blank=True)  # at close
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reopen_reason = models.TextField(blank=True)

    def __str__(self):
        return f"{self.period}"


class Window(models.TextChoices):
    PERIOD = "period", _("Each period of the plan")
    QUARTER = "quarter", _("Quarter (from the periods in it)")
    YEAR = "year", _("Year (from the periods in it)")


class Rule(models.Model):
    """What compliance means for a plan, and what follows from it."""

    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="compliance_rules")
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=200)
    window = models.CharField(_("evaluated per"), max_length=16, choices=Window.choices, default=Window.PERIOD,
                              help_text=_("A quarterly or yearly rule is missed when any period in it is missed."))
    counts_hours = models.BooleanField(_("hours (in total and by kind)"), default=True)
    counts_courses = models.BooleanField(_("required courses"), default=True)
    counts_credits = models.BooleanField(_("credits by class and category"), default=True)
    counts_reflection = models.BooleanField(_("reflection"), default=True)
    reflection_must_be_accepted = models.BooleanField(
        _("reflection must be accepted"), default=False,
        help_text=_("Otherwise a submitted reflection is enough."))
    counts_quizzes = models.BooleanField(_("quizzes of the required courses passed"), default=False)
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "pk"]
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")

    def __str__(self):
        return self.name


class Consequence(models.Model):
    class AppliesTo(models.TextChoices):
        COMPLIANT = "compliant", _("Those who comply")
        NON_COMPLIANT = "non_compliant", _("Those who do not comply")
        ABOVE_TARGET = "above_target", _("Those above target")
        TOP = "top", _("The top N by hours")

    class Kind(models.TextChoices):
        FLAG = "flag", _("Eligibility")
        PERCENT = "percent", _("Percentage adjustment")
        SCORE = "score", _("Score adjustment")
        TITLE = "title", _("Recognition title")

    class Level(models.TextChoices):
        PERSON = "person", _("The person")
        DEPARTMENT = "department", _("Their department")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="consequences")
    applies_to = models.CharField(_("applies to"), max_length=16, choices=AppliesTo.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100,
                            help_text=_("e.g. management allowance, department bonus, Training Star"))
    value = models.DecimalField(_("value"), max_digits=6, decimal_places=2, default=0,
                                help_text=_("Percent or points, negative for a cut; "
                                            "unused for eligibility and titles."))
    level = models.CharField(_("applies to whom"), max_length=16, choices=Level.choices, default=Level.PERSON)
    department_share = models.PositiveSmallIntegerField(
        _("share of the department (%)"), default=0,
        help_text=_("For a department: applies when at least this share of its members miss (0: any member)."))
    top_n = models.PositiveIntegerField(_("N"), null=True, blank=True)

    class Meta:
        ordering = ["rule", "pk"]

    def __str__(self):
        return self.name


class DepartmentOutcome(models.Model):
    """A department's consequences for one period (or the quarter or year that period closes)."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.CASCADE, related_name="department_outcomes")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    members = models.PositiveIntegerField(default=0)
    non_compliant = models.PositiveIntegerField(default=0)
    consequences = models.JSONField(default=list)
    evaluated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "department"], name="unique_department_outcome")]

    def __str__(self):
        return f"{self.period}: {self.department}"


class Watermark(models.Model):
    """How far the incremental refresh has read each table of facts."""

    source = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)
    # Ids at or below last_id that no run has seen yet, as [first, last, unix time first missed]: a fact
    # written by a transaction that commits after one with a higher id (or one rolled back). Looked at
    # again by every run until found, or until the hourly refresh of everything open has covered it.
    gaps = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"{self.source} {self.last_id}"


HISTOGRAM_HOURS = 12  # the hours distribution has one bar per hour up to 12 h, then "12 h and more"


class PeriodFigures(models.Model):
    """A period's standings summed per department (people still in the audience): what the
    organisation-wide reports read instead of a hundred thousand standings."""

    period = models.ForeignKey(PlanPeriod, on_delete=models.CASCADE, related_name="figures")
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    department_path = models.CharField(max_length=255)
    people = models.PositiveIntegerField(default=0)
    complete = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    done_seconds = models.BigIntegerField(default=0)  # each person's hours counted up to their target
    target_seconds = models.BigIntegerField(default=0)
    owed_seconds = models.BigIntegerField(default=0)
    # People by whole hours credited: h0 = under one hour ... h12 = twelve hours and more.
    h0 = models.PositiveIntegerField(default=0)
    h1 = models.PositiveIntegerField(default=0)
    h2 = models.PositiveIntegerField(default=0)
    h3 = models.PositiveIntegerField(default=0)
    h4 = models.PositiveIntegerField(default=0)
    h5 = models.PositiveIntegerField(default=0)
    h6 = models.PositiveIntegerField(default=0)
    h7 = models.PositiveIntegerField(default=0)
    h8 = models.PositiveIntegerField(default=0)
    h9 = models.PositiveIntegerField(default=0)
    h10 = models.PositiveIntegerField(default=0)
    h11 = models.PositiveIntegerField(default=0)
    h12 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "department"], name="unique_period_figures")]
        indexes = [models.Index(fields=["period", "department_path"])]

    def __str__(self):
        return f"{self.period}: {self.department_path}"
