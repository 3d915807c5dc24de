"""Webhooks out: the addresses an admin subscribes to events, each event stored once, and one
`WebhookDelivery` per event and subscription (unique: an event reaches a subscription once),
with every attempt and the receiver's answer, as the delivery log of reminders keeps them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from learntrace.core.crypto import EncryptedTextField, mask
from learntrace.core.models import AttemptLog


class EventType(models.TextChoices):
    COMPLETION_RECORDED = "completion.recorded", _("Completion recorded")
    COMPLETION_VOIDED = "completion.voided", _("Completion voided")
    ATTENDANCE_RECORDED = "attendance.recorded", _("Check-in, check-out or excuse at a meeting")
    PERIOD_JUDGED = "period.judged", _("Period judged")
    CONSEQUENCE_CHANGED = "consequence.changed", _("A person's compliance or consequences changed")
    CREDITED_TIME_CORRECTED = "credited_time.corrected", _("Credited time corrected")
    OUTSIDE_CREDIT_RECORDED = "outside_credit.recorded", _("Credits earned elsewhere approved")
    EXAM_RESULT_RECORDED = "exam.result_recorded", _("Exam result recorded")


TEST_EVENT = "webhook.test"  # sent by the "send test event" button; no subscription chooses it


class Subscription(models.Model):
    """An address that receives the chosen events, signed with its secret (Standard Webhooks)."""

    name = models.CharField(pgettext_lazy("thing", "name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)  # EventType values
    # "whsec_" and the base64 of the key; encrypted at rest, shown once when made or rotated.
    secret = EncryptedTextField()
    # After a rotation the old secret signs too, for a while, so the receiver can switch without losing events.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(pgettext_lazy("switched on", "active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self):
        return self.name

    @property
    def secret_masked(self) -> str:
        return mask(self.secret, 6, 4)

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels[event]) for event in self.events if event in labels]


class Event(models.Model):
    """Something that happened, once: its key names the fact and the moment (a second signal for
    the same fact finds the row), its payload is what every subscription receives."""

    key = models.CharField(max_length=200, unique=True)
    type = models.CharField(_("event"), max_length=32)
    payload = models.JSONField()  # {"type", "timestamp", "data"}: the body, as Standard Webhooks suggests
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self):
        return self.key


class WebhookDelivery(models.Model):
    """One event to one subscription. The row exists before anything is sent; its `webhook_id` is
    the same on every attempt, so a receiver drops a repeat it has already handled."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    webhook_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    give_up_after = models.PositiveSmallIntegerField(default=0)  # attempts; 0: WEBHOOKS_MAX_ATTEMPTS
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="one_delivery_per_subscription")]
        indexes = [models.Index(fields=["status", "next_attempt_at"]),
                   models.Index(fields=["subscription", "created_at"])]

    def __str__(self):
        return self.webhook_id


class WebhookAttempt(AttemptLog):
    """One try at sending, with what the receiver answered."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("In progress")
        OK = "ok", _("Accepted")
        RETRY = "retry", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
