"""Viewing sessions of videos and documents, the beats their players send, and each
person's union of watched intervals per course."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course
from learntrace.org.models import Employee


class Attempt(models.Model):
    """One opening of a course page: the server's start time bounds what its beats may claim."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="attempts")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="attempts")
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.IntegerField(default=-1)
    played_ms = models.BigIntegerField(default=0)  # everything played, repeats included
    credited_ms = models.BigIntegerField(default=0)
    cut_ms = models.BigIntegerField(default=0)  # claimed but not credited (over the wall clock, hidden, …)
    flagged = models.BooleanField(default=False)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["employee", "course", "started_at"])]

    def __str__(self):
        return f"{self.employee} {self.course} {self.started_at:%Y-%m-%d %H:%M}"


class Beat(models.Model):
    """What one heartbeat claimed and what the server credited of it. Append-only;
    (attempt, seq) is the idempotency key, so a resent beat is accepted once."""

    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="beats")
    seq = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    segments = models.JSONField(default=list)  # [[start_ms, end_ms], ...] as claimed
    reading_ms = models.PositiveIntegerField(default=0)  # documents: visible reading time claimed
    rate = models.FloatField(default=1.0)
    hidden = models.BooleanField(default=False)
    client_elapsed_ms = models.BigIntegerField(default=0)
    credited_ms = models.PositiveIntegerField(default=0)
    cut_ms = models.PositiveIntegerField(default=0)
    flags = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "seq"], name="one_beat_per_seq")]

    def __str__(self):
        return f"{self.attempt_id} #{self.seq}"


class Coverage(models.Model):
    """A person's union of watched intervals of one course (video), or their credited
    reading time (document). The row is locked while a beat is applied."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="coverages")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="coverages")
    intervals = models.JSONField(default=list)
    covered_ms = models.BigIntegerField(default=0)
    credited_ms = models.BigIntegerField(default=0)
    played_ms = models.BigIntegerField(default=0)
    last_position_ms = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["employee", "course"], name="one_coverage_per_course")]

    def __str__(self):
        return f"{self.employee} {self.course}: {self.covered_ms} ms"


class LearnerClock(models.Model):
    """How much wall-clock time a person has already spent being credited. A person has one
    pair of eyes: two tabs, or two courses at once, share it (see services.apply_beat)."""

    employee = models.OneToOneField(Employee, on_delete=models.CASCADE, primary_key=True,
                                    related_name="learner_clock")
    busy_until = models.DateTimeField()

    def __str__(self):
        return f"{self.employee} busy until {self.busy_until}"


FLAG_LABELS = {
    "over_wall_clock": _("claimed more than the time that had passed"),
    "beat_too_long": _("one beat claimed too much at once"),
    "hidden": _("played while the page was hidden"),
    "rate_above_2x": _("played faster than 2×"),
}
