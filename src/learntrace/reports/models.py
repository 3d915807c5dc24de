"""Exports written in the background: who asked, for what, how far along, and the file."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    # A random id: a job cannot be reached by counting, and is served only to who asked for it.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    report = models.CharField(max_length=32)
    file_format = models.CharField(max_length=8)
    # The filters as given in the page's query string; scope is recomputed from the requester's roles.
    query = models.JSONField(default=dict)
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "created_at"])]

    def __str__(self):
        return f"{self.report}.{self.file_format} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, 100 * self.done_rows // self.total_rows) if self.total_rows else 0

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}
