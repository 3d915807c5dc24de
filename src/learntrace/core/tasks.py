"""Periodic proof that the background worker runs."""

from django.db.models import F
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.core.models import WorkerHeartbeat


def record_worker_heartbeat(name: str = "worker") -> WorkerHeartbeat:
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(name=name).update(last_seen=now, runs=F("runs") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(name=name, defaults={"last_seen": now, "runs": 1})
    return WorkerHeartbeat.objects.get(name=name)


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    record_worker_heartbeat()


@db_task()
def worker_ping() -> None:
    """Enqueued on demand (the system page's "test the worker" button, and the tests)."""
    record_worker_heartbeat()
