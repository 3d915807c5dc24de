"""Reminders and their delivery: the channels an admin configures, the reminder schedules of
plans, one `Delivery` per message (claimed before it is sent, so it goes out once), every
attempt with the platform's answer, and the in-app notifications behind the bell."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.checkin.models import Meeting
from learntrace.core.crypto import EncryptedTextField, mask
from learntrace.core.models import AttemptLog
from learntrace.org.models import Employee
from learntrace.plans.models import LearningPlan, PlanPeriod


class ChannelKind(models.TextChoices):
    INAPP = "inapp", _("In-app notification")
    EMAIL = "email", _("E-mail")
    DINGTALK_ROBOT = "dingtalk_robot", _("DingTalk group robot")
    DINGTALK_WORK = "dingtalk_work", _("DingTalk work notification")
    WECOM_ROBOT = "wecom_robot", _("WeCom group robot")
    FEISHU_BOT = "feishu_bot", _("Feishu group bot")
    WECOM_APP = "wecom_app", _("WeCom app message")
    FEISHU_APP = "feishu_app", _("Feishu app message")
    WEBHOOK = "webhook", _("Webhook")


# Group robots post to a chat and mention the person; the others reach the person directly.
ROBOT_KINDS = {ChannelKind.DINGTALK_ROBOT, ChannelKind.WECOM_ROBOT, ChannelKind.FEISHU_BOT}
# Channels that reach one person directly, with the employee field that addresses them there: these can
# carry a personal sign-in link.
PERSONAL_KINDS = {
    ChannelKind.EMAIL: "email",
    ChannelKind.DINGTALK_WORK: "dingtalk_user_id",
    ChannelKind.WECOM_APP: "wecom_user_id",
    ChannelKind.FEISHU_APP: "feishu_user_id",
}


class Channel(models.Model):
    """One way of reaching people, with its credentials (encrypted at rest, never shown back)."""

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=ChannelKind.choices)
    # The robot's access token (DingTalk), key (WeCom) or hook id (Feishu), or the webhook's URL.
    token = EncryptedTextField(_("token or URL"), blank=True, default="")
    # The robot's signing secret, the corp app's AppSecret (WeCom: Secret, Feishu: App Secret), or the
    # webhook's shared secret. `app_key` is DingTalk's AppKey, WeCom's CorpID or Feishu's App ID.
    secret = EncryptedTextField(_("secret"), blank=True, default="")
    app_key = models.CharField(_("AppKey"), max_length=128, blank=True,
                               help_text=_("DingTalk: the AppKey; WeCom: the CorpID; Feishu: the App ID."))
    agent_id = models.CharField(_("AgentId"), max_length=64, blank=True)
    rate_per_minute = models.PositiveSmallIntegerField(
        _("messages per minute"), default=0, validators=[MaxValueValidator(10_000)],
        help_text=_("The platform's limit; 0: no limit. DingTalk and WeCom robots accept 20 a minute."))
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    # Corp apps (DingTalk, WeCom, Feishu): the access token, shared by every worker until it expires.
    cached_access_token = EncryptedTextField(blank=True, default="")
    cached_access_token_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self):
        return self.name

    @property
    def token_masked(self) -> str:
        return mask(self.token, 4, 4)

    @property
    def secret_masked(self) -> str:
        return mask(self.secret, 0, 4) if self.secret else ""


class ReminderSchedule(models.Model):
    """When and how the people of a plan who are behind are reminded."""

    plan = models.ForeignKey(LearningPlan, verbose_name=_("plan"), on_delete=models.CASCADE,
                             related_name="reminder_schedules")
    days_of_month = models.JSONField(_("days of the month"), default=list, blank=True)  # [15, 25]
    days_before_due = models.JSONField(_("days before the due day"), default=list, blank=True)  # [3, 1]
    time_of_day = models.TimeField(_("time"), default="09:00")
    below_percent = models.PositiveSmallIntegerField(
        _("remind those below this share of the hours (%)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Empty: everyone who has not completed the period."))
    channels = models.ManyToManyField(Channel, verbose_name=_("channels"), related_name="+")
    head_digest = models.BooleanField(_("department heads get a digest of their people"), default=False)
    meeting_days_before = models.PositiveSmallIntegerField(
        _("days before a meeting"), null=True, blank=True, validators=[MaxValueValidator(60)],
        help_text=_("Reminds everyone invited to the plan's meetings this many days before; empty: no reminder."))
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = _("reminder schedule")
        verbose_name_plural = _("reminder schedules")

    def __str__(self):
        return f"{self.plan} #{self.pk}"


class ReminderRun(models.Model):
    """A reminder moment that has been expanded into deliveries (one per schedule, subject and day):
    later runs of the scheduler skip it without recomputing anyone's progress."""

    schedule = models.ForeignKey(ReminderSchedule, on_delete=models.CASCADE, related_name="runs")
    subject_key = models.CharField(max_length=64)  # "period:12" or "meeting:7"
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "subject_key", "day"], name="one_reminder_run")]

    def __str__(self):
        return f"{self.schedule} {self.subject_key} {self.day}"


class Delivery(models.Model):
    """One message to one recipient over one channel. The row exists before anything is sent,
    and its unique key makes a second row for the same message impossible."""

    class Purpose(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        DIGEST = "digest", _("Department digest")
        MEETING = "meeting", _("Meeting reminder")
        CERTIFICATE = "certificate", _("Certificate expiry reminder")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    key = models.CharField(max_length=200, unique=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    schedule = models.ForeignKey(ReminderSchedule, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="deliveries")
    plan = models.ForeignKey(LearningPlan, verbose_name=_("plan"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    period = models.ForeignKey(PlanPeriod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.ForeignKey(Employee, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="deliveries")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT,
                                related_name="deliveries")
    reminder_day = models.DateField(_("reminder day"))
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("message"))  # Markdown, in the recipient's language
    link = models.URLField(max_length=500)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField()
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["channel", "created_at"]),
        ]

    def __str__(self):
        return self.key


class DeliveryAttempt(AttemptLog):
    """One try at sending, with what the platform answered (no personal data)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("In progress")
        OK = "ok", _("Accepted")
        RETRY = "retry", _("Failed, will retry")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Outcome unknown")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)


class SendPermit(models.Model):
    """A message sent through a rate-limited channel: the rows of the last minute are the window
    every worker process counts before sending."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["channel", "at"])]

    def __str__(self):
        return f"{self.channel_id} {self.at:%H:%M:%S}"


class Notification(models.Model):
    """A message behind the bell in the header."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="notifications")
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="notification")
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("message"))
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["employee", "read_at"])]

    def __str__(self):
        return f"{self.employee_id}: {self.subject}"
