"""Where each person stands in each plan period, kept up to date by the worker.

`Standing` is the materialised per-person-per-period figure that compliance rules,
reports, exports and the API read, so none of them aggregates raw facts."""

from django.conf import settings
from django.db import models

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
    missing = models.JSONField(default=list)  # what is owed, e.g. [{"what": "hours", "kind": "video", "owed": 3600}]

    # Set by rule evaluation at the due day and at close (compliance.services).
    compliant = models.BooleanField(null=True)
    consequences = models.JSONField(default=list)  # [{"rule": id, "name": ..., "kind": ..., "value": ...}]
    score = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    recognitions = models.JSONField(default=list)  # titles earned, e.g. ["培训之星"]
    evaluated_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["period", "department_path"]),
            models.Index(fields=["plan", "period_starts_at"]),
            models.Index(fields=["employee", "period_starts_at"]),
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
