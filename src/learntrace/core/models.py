"""Cross-cutting records: the audit trail of admin changes, the worker's heartbeat, and the shape of
a sending attempt's log (reminders and webhooks)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One change made by an administrator. Values of sensitive fields are never stored here."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task: shows that the background worker is alive."""

    name = models.CharField(max_length=64, primary_key=True)
    last_seen = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} {self.last_seen:%Y-%m-%d %H:%M:%S}"


class KeyFingerprint(models.Model):
    """A fingerprint of a key the installation's data was written with (core/node_keys.py)."""

    setting = models.CharField(max_length=64, primary_key=True)
    fingerprint = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.setting} {self.fingerprint}"


class AttemptLog(models.Model):
    """One try at sending (a reminder to a platform, a webhook to a receiver), with the start of what
    the other side answered and no personal data. Subclasses add the `delivery` and their outcomes."""

    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.CharField(max_length=500, blank=True)  # the start of the other side's response
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["delivery", "number", "id"]

    def __str__(self):
        return f"{self.delivery_id} #{self.number} {self.outcome}"
