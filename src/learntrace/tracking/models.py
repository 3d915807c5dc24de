"""Viewing sessions of videos and documents, and each person's clock. What the beats
claimed and credited is kept as learning facts (`records.CreditedTime`), and the union
of watched intervals in the person's course state (`records.CourseProgress`)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course
from learntrace.org.models import Employee
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
    # with a higher number is new without looking it up (the tracker sends them in order).
    last_attempt_id = models.UUIDField(null=True, blank=True)
    last_seq = models.IntegerField(default=-1)

    def __str__(self):
        return f"{self.employee} busy until {self.busy_until}"


FLAG_LABELS = {
    "over_wall_clock": _("claimed more than the time that had passed"),
    "beat_too_long": _("one beat claimed too much at once"),
    "hidden": _("played while the page was hidden"),
    "rate_above_2x": _("played faster than 2×"),
}
