"""Sealing in the background, and verification on request."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.evidence import services


@db_periodic_task(crontab(minute="*/5"))
def seal_new_facts() -> None:
    services.seal_pending(via="worker")


@db_task()
def verify_now() -> None:
    started = timezone.now()
    services.record_verification(report=services.verify(), started_at=started)

