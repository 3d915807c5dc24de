"""Offline meetings and their attendance, checked in by a rotating QR code.

`CheckInEvent` rows are the append-only facts (every scan, refusal and manual
correction); `Attendance` is the materialised state of one person at one meeting."""

import datetime as dt
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Course
from learntrace.org.models import Employee
from learntrace.plans.models import LearningPlan


def new_secret() -> str:
    return secrets.token_hex(32)


COUNTS = ("present_count", "checked_out_count")
PREVIOUS_CODE = "previous_code"  # the note of a check-in made with the code that had just changed


class Meeting(models.Model):
    class Roster(models.TextChoices):
        PLAN = "plan", _("The audience of a learning plan")
        PEOPLE = "people", _("Named people")
        OPEN = "open", _("Anyone in the organisation")

    class Credit(models.TextChoices):
        SCHEDULED = "scheduled", _("The scheduled duration")
        OVERLAP = "overlap", _("The time between check-in and check-out, within the schedule")

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True,
                                 validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(_("longitude"), null=True, blank=True,
                                  validators=[MinValueValidator(-180), MaxValueValidator(180)])
    radius_m = models.PositiveIntegerField(_("geofence radius (metres)"), null=True, blank=True,
                                           validators=[MinValueValidator(10), MaxValueValidator(100_000)])
    allowed_networks = models.TextField(_("allowed networks"), blank=True,
                                        help_text=_("IP ranges such as 10.8.0.0/16, one per line; empty: any."))
    roster = models.CharField(_("roster"), max_length=16, choices=Roster.choices, default=Roster.PLAN)
    roster_plan = models.ForeignKey(LearningPlan, verbose_name=_("plan"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    roster_people = models.ManyToManyField(Employee, verbose_name=_("named people"), blank=True, related_name="+")
    organisers = models.ManyToManyField(Employee, verbose_name=_("organisers"), blank=True,
                                        related_name="organised_meetings")
    opens_minutes_before = models.PositiveIntegerField(_("check-in opens (minutes before the start)"), default=15,
                                                       validators=[MaxValueValidator(24 * 60)])
    closes_minutes_after = models.PositiveIntegerField(_("check-in closes (minutes after the start)"), default=30,
                                                       validators=[MaxValueValidator(24 * 60)])
    late_after_minutes = models.PositiveIntegerField(_("late after (minutes after the start)"), default=5,
                                                     validators=[MaxValueValidator(24 * 60)])
    checkout_required = models.BooleanField(_("check-out required"), default=False)
    credit = models.CharField(_("time credited"), max_length=16, choices=Credit.choices, default=Credit.SCHEDULED)
    signature_required = models.BooleanField(_("signature required"), default=False)
    rotation_seconds = models.PositiveSmallIntegerField(_("code changes every (seconds)"), default=10,
                                                        validators=[MinValueValidator(5), MaxValueValidator(120)])
    # Checking out is a mode of the projector page: the code it shows then checks people out.
    checkout_open = models.BooleanField(default=False)
    # Kept by the database's triggers (checkin/counts.py) as attendances change; never written here.
    present_count = models.PositiveIntegerField(default=0, editable=False)
    checked_out_count = models.PositiveIntegerField(default=0, editable=False)
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # A meeting loaded before someone checked in must not write its stale counts back.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in COUNTS]
        super().save(*args, **kwargs)

    @property
    def duration_seconds(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds())

    @property
    def checkin_closes_at(self):
        return self.starts_at + dt.timedelta(minutes=self.closes_minutes_after)


class Attendance(models.Model):
    class Status(models.TextChoices):
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")
        EXCUSED = "excused", _("Excused")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(max_length=16, choices=Status.choices)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    class Method(models.TextChoices):
        SCAN = "scan", _("QR code")
        CODE = "code", _("Typed code")
        MANUAL = "manual", _("By an organiser")
        ONLINE = "online", _("Meeting platform's participant list")

    method = models.CharField(max_length=16, choices=Method.choices)
    device_id = models.CharField(max_length=64, blank=True)
    credited_seconds = models.PositiveIntegerField(default=0)
    signature = models.TextField(blank=True)  # a PNG data URL drawn on the phone
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "employee"], name="one_attendance_per_meeting")]
        indexes = [
            models.Index(fields=["meeting", "device_id"]),
            # The projector's latest arrivals, read every second.
            models.Index(fields=["meeting", "checked_in_at"]),
        ]

    def __str__(self):
        return f"{self.meeting}: {self.employee} {self.status}"


class CheckInEvent(models.Model):
    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("Check-in")
        CHECK_OUT = "check_out", _("Check-out")
        MANUAL_IN = "manual_in", _("Manual check-in")
        MANUAL_OUT = "manual_out", _("Manual check-out")
        EXCUSED = "excused", _("Excused")
        REFUSED = "refused", _("Refused")
        ONLINE = "online", _("Present online")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events")
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    scanned_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=32, blank=True)  # why a scan was refused
    note = models.CharField(max_length=300, blank=True)  # the organiser's reason for a manual entry
    device_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # Set when a check-in is written (checkin.suspicions): the first moment of the burst it closes, and
    # whether another person used its device in the 30 days before. The suspicions are then read from
    # the few flagged check-ins instead of searched for among a month of them. Judgements drawn from the
    # sealed fields, not facts: they are not sealed, and `suspicions.flag_all` draws them again.
    burst_start = models.DateTimeField(null=True, blank=True)
    shared_device = models.BooleanField(default=False, db_default=False)  # rows written in SQL start unflagged

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["meeting", "at"]), models.Index(fields=["ip", "at"]),
            # A check-in asks whether another person used its device in the 30 days before.
            models.Index(fields=["device_id", "at"], name="checkin_event_device_at"),
            # The flagged check-ins of the last 30 days: a few rows where the check-ins are many.
            models.Index(fields=["at"], condition=Q(burst_start__isnull=False), name="checkin_event_burst"),
            models.Index(fields=["at"], condition=Q(shared_device=True), name="checkin_event_shared_device"),
            models.Index(fields=["at"], condition=Q(note=PREVIOUS_CODE), name="checkin_event_previous_code"),
            # A head's dashboard looks up, for each check-in, whether one of their people used the same
            # address at the same meeting: without it PostgreSQL combined the two indexes above, reading
            # the whole meeting once per check-in (21 s for 22 000 check-ins; 27 ms with it).
            models.Index(fields=["meeting", "ip", "at"], name="checkin_event_address"),
            # Suspicions look at one kind of event over the last 30 days (check-ins, refusals): without
            # it every dashboard read the whole table, a year of events for a month's.
            models.Index(fields=["kind", "at"], name="checkin_event_kind_at"),
        ]

    def __str__(self):
        return f"{self.meeting} {self.kind} {self.employee or ''}"


class ScanTicket(models.Model):
    """A valid scan (or typed code) waiting to be confirmed, perhaps after a login.

    It keeps the moment of the scan and is bound to the browser that scanned: the link carries
    a random key and the browser a random secret in an HttpOnly cookie, and only the hashes of
    both are stored. Forwarding the link gives nothing, and it is used once."""

    key_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(max_length=64)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8)
    via = models.CharField(max_length=16)
    scanned_at = models.DateTimeField()
    previous_code = models.BooleanField(default=False)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["scanned_at"])]

    def __str__(self):
        return f"{self.meeting_id} {self.mode} {self.scanned_at:%Y-%m-%d %H:%M:%S}"


class CodeGuesses(models.Model):
    """Wrong typed codes at a meeting: per person, per address and for the whole meeting, counted in
    windows of `CHECKIN_CODE_WINDOW_MINUTES` (see `checkin/typed_codes.py`). Shown to the organiser."""

    class Scope(models.TextChoices):
        PERSON = "person", _("person")
        ADDRESS = "address", _("address")
        MEETING = "meeting", _("the whole meeting")

    key = models.CharField(max_length=120, unique=True)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="code_guesses")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    window_started_at = models.DateTimeField()
    # Guesses of the current window still counted against the limit (a guess is counted before it is
    # judged, and given back when it was right).
    failures = models.PositiveIntegerField(default=0)
    wrong_total = models.PositiveIntegerField(default=0)
    lockouts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.key
