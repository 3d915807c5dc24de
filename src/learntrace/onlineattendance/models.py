"""Attendance of live online meetings, taken from the meeting platform's participant list.

`OnlineMeeting` holds what a meeting needs for this: its platform, its number there and the
presence rule. Each upload or fetch of a participant list is a `ParticipantImport`, reviewed by
the admin before it credits anyone; its `Participant` rows are the people of the list, one per
person however often they joined, with their merged presence."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from learntrace.checkin.models import Meeting
from learntrace.org.models import Employee


class Platform(models.TextChoices):
    TENCENT = "tencent", _("Tencent Meeting")
    DINGTALK = "dingtalk", _("DingTalk meetings and live")
    FEISHU = "feishu", _("Feishu meetings")
    ZOOM = "zoom", _("Zoom")


class OnlineMeeting(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="online")
    platform = models.CharField(_("meeting platform"), max_length=16, choices=Platform.choices,
                                default=Platform.TENCENT)
    meeting_number = models.CharField(
        _("meeting number on the platform"), max_length=64, blank=True,
        help_text=_("Needed to fetch the participants through the platform's API (Feishu: the 9-digit number)."))
    presence_percent = models.PositiveSmallIntegerField(
        _("credited when present at least (percent of the scheduled time)"), default=85,
        validators=[MinValueValidator(1), MaxValueValidator(100)])

    class Meta:
        verbose_name = _("online meeting")

    def __str__(self):
        return f"{self.meeting} ({self.platform})"


class ParticipantImport(models.Model):
    class Status(models.TextChoices):
        REVIEW = "review", _("To review")
        APPLIED = "applied", _("Credited")
        DISCARDED = "discarded", _("Discarded")

    class Source(models.TextChoices):
        FILE = "file", _("Uploaded file")
        API = "api", _("Fetched from the platform")

    online = models.ForeignKey(OnlineMeeting, on_delete=models.CASCADE, related_name="imports")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REVIEW)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # counts of the credit, once applied

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.online.meeting}: {self.file_name or self.source} ({self.status})"


class Participant(models.Model):
    class Match(models.TextChoices):
        MATCHED = "matched", _("Matched")
        AMBIGUOUS = "ambiguous", _("Several people fit")
        UNMATCHED = "unmatched", _("Nobody fits")
        SKIPPED = "skipped", _("Skipped")

    batch = models.ForeignKey(ParticipantImport, on_delete=models.CASCADE, related_name="participants")
    rows = models.JSONField(default=list)  # the file's row numbers of this person's joins
    name = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    platform_user_id = models.CharField(max_length=128, blank=True)
    employee_no = models.CharField(max_length=64, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=254, blank=True)
    intervals = models.JSONField(default=list)  # merged [[join ISO, leave ISO], ...], as the platform gave them
    first_join = models.DateTimeField()
    last_leave = models.DateTimeField()
    present_seconds = models.PositiveIntegerField(default=0)  # within the scheduled time
    match = models.CharField(max_length=16, choices=Match.choices)
    matched_by = models.CharField(max_length=16, blank=True)
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    candidates = models.ManyToManyField(Employee, blank=True, related_name="+")
    credited_seconds = models.PositiveIntegerField(default=0)  # newly credited when applied
    outcome = models.CharField(max_length=16, blank=True)  # set when applied: see services.OUTCOMES

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.name} ({self.match})"
