"""Sending statements to learning record stores in the background."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.api import tokens, xapi
from learntrace.api.models import RecordStore


@db_periodic_task(crontab(minute="*"))
def send_statements() -> None:
    xapi.sync_all()


@db_periodic_task(crontab(hour="2", minute="47"))
def send_statements_of_every_fact() -> None:
    """Once a night the search for facts not queued yet starts from the first fact."""
    xapi.sync_all(everything=True)


@db_periodic_task(crontab(hour="3", minute="17"))
def forget_old_token_uses() -> None:
    tokens.forget_old_uses()


@db_periodic_task(crontab(minute="*/10"))
def forget_old_rate_windows() -> None:
    tokens.forget_old_windows()


@db_task()
def send_statements_now(store_id: int) -> None:
    store = RecordStore.objects.filter(pk=store_id, is_active=True).first()
    if store is not None:
        xapi.queue_new_facts(store)
        xapi.send_due(store)
