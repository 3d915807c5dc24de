"""Sending webhooks, once per event and subscription, and what the admin does with subscriptions.

As with reminders, the guarantees rest on the database: a delivery row exists, unique per event
and subscription, before anything is sent; a send starts with a conditional UPDATE queued →
sending that only one worker wins. Unlike a reminder, a send without an answer (a timeout, a
worker that died) is tried again: every attempt carries the same `webhook-id`, which the Standard
Webhooks receiver uses to drop what it has already handled."""

import base64
import datetime as dt
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from learntrace.core.audit import field_changes, record_change
from learntrace.core.backoff import backoff_seconds
from learntrace.webhooks.addresses import AddressRefused, check_url
from learntrace.webhooks.events import enqueue, new_webhook_id
from learntrace.webhooks.models import TEST_EVENT, Event, Subscription, WebhookAttempt, WebhookDelivery

logger = logging.getLogger("learntrace.webhooks")

ANSWER_CHARS = 500
REQUEUE_GRACE = dt.timedelta(minutes=2)  # a queued delivery this late lost its task: enqueue it again


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- sending one delivery --------------------------------------------------------------------

@dataclass
class Answer:
    outcome: str  # WebhookAttempt.Outcome
    status_code: int | None = None
    answer: str = ""
    error: str = ""


@cache
def _client() -> httpx.Client:
    """One client per process: its TLS context and connections are reused. Redirects are not
    followed, so a receiver cannot send learntrace on to an address that was never checked."""
    return httpx.Client(follow_redirects=False)


def signature_headers(subscription: Subscription, webhook_id: str, body: str, now: dt.datetime) -> dict[str, str]:
    """The three Standard Webhooks headers; during a rotation's overlap, one signature per secret."""
    moment = now.astimezone(dt.UTC)  # the library reads the clock time as UTC
    keys = [subscription.secret]
    if subscription.previous_secret and subscription.previous_secret_until and subscription.previous_secret_until > now:
        keys.append(subscription.previous_secret)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(Webhook(key).sign(webhook_id, moment, body) for key in keys),
    }


def _post(subscription: Subscription, webhook_id: str, payload: dict[str, Any]) -> Answer:
    try:
        check_url(subscription.url)
    except AddressRefused as refused:
        return Answer(WebhookAttempt.Outcome.FAILED, error=str(refused))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": "learntrace-webhooks",
               **signature_headers(subscription, webhook_id, body, timezone.now())}
    try:
        response = _client().post(subscription.url, content=body.encode(), headers=headers,
                                  timeout=settings.WEBHOOKS_HTTP_TIMEOUT_SECONDS)
    except httpx.TransportError as exc:  # no connection, or no answer: the same id makes a retry safe
        return Answer(WebhookAttempt.Outcome.RETRY, error=f"{type(exc).__name__}: no answer from the receiver")
    except httpx.HTTPError as exc:
        return Answer(WebhookAttempt.Outcome.FAILED, error=type(exc).__name__)
    code, answer = response.status_code, response.text[:ANSWER_CHARS]
    if 200 <= code < 300:
        return Answer(WebhookAttempt.Outcome.OK, code, answer)
    if code >= 500 or code in (408, 429):
        return Answer(WebhookAttempt.Outcome.RETRY, code, answer, f"HTTP {code}")
    return Answer(WebhookAttempt.Outcome.FAILED, code, answer, f"HTTP {code}")


def send_delivery(*, delivery_id: int, now: dt.datetime | None = None) -> str | None:
    """Sends one delivery if it is queued and due and this worker wins the claim. Returns the new
    status, or None when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.QUEUED, next_attempt_at__lte=now,
        ).update(status=WebhookDelivery.Status.SENDING, sending_since=now, attempts=F("attempts") + 1)
        if not claimed:
            return None
        delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
        if not delivery.subscription.is_active:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.FAILED, sending_since=None, attempts=F("attempts") - 1,
                next_attempt_at=None, last_error="the subscription is switched off")
            return WebhookDelivery.Status.FAILED
        attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    answer = _post(delivery.subscription, delivery.webhook_id, delivery.event.payload)
    attempt.finished_at = timezone.now()
    attempt.outcome, attempt.status_code = answer.outcome, answer.status_code
    attempt.answer, attempt.error = answer.answer, answer.error[:300]
    logger.info("webhook %s to subscription %s attempt %s: %s %s %s", delivery.webhook_id, delivery.subscription_id,
                attempt.number, answer.outcome, answer.status_code or "", answer.error)
    with transaction.atomic():
        attempt.save(update_fields=["finished_at", "outcome", "status_code", "answer", "error"])
        return _settle(delivery, attempt, now)


def _limit(delivery: WebhookDelivery) -> int:
    return delivery.give_up_after or settings.WEBHOOKS_MAX_ATTEMPTS


def _settle(delivery: WebhookDelivery, attempt: WebhookAttempt, now: dt.datetime) -> str:
    sending = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.SENDING)
    if attempt.outcome == WebhookAttempt.Outcome.OK:
        sending.update(status=WebhookDelivery.Status.SENT, sending_since=None, sent_at=attempt.finished_at,
                       next_attempt_at=None, last_error="")
        return WebhookDelivery.Status.SENT
    if attempt.outcome == WebhookAttempt.Outcome.RETRY and delivery.attempts < _limit(delivery):
        delay = backoff_seconds(delivery.attempts, first_seconds=settings.WEBHOOKS_RETRY_SECONDS)
        sending.update(status=WebhookDelivery.Status.QUEUED, sending_since=None, last_error=attempt.error,
                       next_attempt_at=max(now, attempt.finished_at or now) + dt.timedelta(seconds=delay))
        transaction.on_commit(lambda: enqueue([delivery.pk], delay=delay))
        return WebhookDelivery.Status.QUEUED
    error = attempt.error
    if attempt.outcome == WebhookAttempt.Outcome.RETRY:
        error = f"gave up after {delivery.attempts} attempts: {attempt.error}"
    sending.update(status=WebhookDelivery.Status.FAILED, sending_since=None, next_attempt_at=None,
                   last_error=error[:300])
    return WebhookDelivery.Status.FAILED


def sweep(*, now: dt.datetime | None = None) -> None:
    """Puts back sends interrupted long ago (the worker died: the next attempt has the same id),
    enqueues queued deliveries whose task was lost, and forgets old sent deliveries."""
    now = now or timezone.now()
    stale = now - settings.WEBHOOKS_SENDING_TIMEOUT
    for delivery_id in WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING,
                                                      sending_since__lt=stale).values_list("pk", flat=True):
        with transaction.atomic():
            WebhookAttempt.objects.filter(delivery_id=delivery_id, outcome=WebhookAttempt.Outcome.PENDING).update(
                outcome=WebhookAttempt.Outcome.RETRY, finished_at=now, error="interrupted while sending")
            WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.SENDING,
                                           sending_since__lt=stale).update(
                status=WebhookDelivery.Status.QUEUED, sending_since=None, next_attempt_at=now,
                last_error="interrupted while sending")
    late = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.QUEUED,
                                               next_attempt_at__lte=now - REQUEUE_GRACE)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
    enqueue(late)
    kept = now - dt.timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    Event.objects.filter(created_at__lt=kept).exclude(
        deliveries__status__in=[WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.SENDING]).delete()


# --- what the admin does ------------------------------------------------------------------------

SUBSCRIPTION_FIELDS = ["name", "url", "events", "is_active"]


def subscription_save(*, actor: Any, subscription: Subscription) -> str | None:
    """Saves a subscription; a new one gets its secret, which is returned to be shown once."""
    check_url(subscription.url)
    before = Subscription.objects.filter(pk=subscription.pk).first() if subscription.pk else None
    changes = field_changes(before, subscription, SUBSCRIPTION_FIELDS)
    secret = None
    if before is None:
        secret = subscription.secret = new_secret()
        subscription.created_by = actor
    with transaction.atomic():
        subscription.save()
        record_change(actor=actor, action="create" if before is None else "update", obj=subscription,
                      summary=subscription.name, changes=changes)
    return secret


def subscription_delete(*, actor: Any, subscription: Subscription) -> int:
    """Deletes a subscription with its deliveries and their attempts (switching it off keeps them);
    the audit trail keeps that it existed and how many deliveries went. Returns that number."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        deliveries = WebhookDelivery.objects.filter(subscription=locked)
        events = list(deliveries.values_list("event_id", flat=True))
        count = len(events)
        record_change(actor=actor, action="delete", obj=locked, summary=locked.name,
                      changes={"url": (locked.url, None), "events": (locked.events, None),
                               "deliveries": (count, None)})
        locked.delete()  # its deliveries and attempts go with it (on_delete=CASCADE)
        # An event no other subscription received has nothing left to show or send.
        for start in range(0, len(events), 500):
            Event.objects.filter(pk__in=events[start:start + 500], deliveries__isnull=True).delete()
    return count


def rotate_secret(*, actor: Any, subscription: Subscription, now: dt.datetime | None = None) -> str:
    """A new secret, returned to be shown once; the old one keeps signing too for
    WEBHOOKS_SECRET_OVERLAP_HOURS, so the receiver can switch without refusing events."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = now + dt.timedelta(hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS)
        locked.secret = new_secret()
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
        record_change(actor=actor, action="rotate_secret", obj=locked, summary=locked.name,
                      changes={"secret": ("***", "***")})
    return str(locked.secret)


def send_test(*, actor: Any, subscription: Subscription, now: dt.datetime | None = None) -> WebhookDelivery:
    """A test event to this subscription only, sent like any other (and logged with them)."""
    if not subscription.is_active:
        raise ValidationError(_("The subscription is switched off: switch it on before sending a test event."))
    now = now or timezone.now()
    key = f"{TEST_EVENT}:{uuid.uuid4().hex}"
    with transaction.atomic():
        event = Event.objects.create(key=key, type=TEST_EVENT, occurred_at=now, payload={
            "type": TEST_EVENT, "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"subscription": subscription.name, "requested_by": actor.get_username()}})
        delivery = WebhookDelivery.objects.create(event=event, subscription=subscription,
                                                  webhook_id=new_webhook_id(), next_attempt_at=now)
        record_change(actor=actor, action="send_test", obj=subscription, summary=subscription.name)
        transaction.on_commit(lambda: enqueue([delivery.pk]))
    return delivery


def resend(*, actor: Any, delivery: WebhookDelivery, now: dt.datetime | None = None) -> WebhookDelivery:
    """Sends a failed delivery again, with the same webhook-id (a receiver that had it drops it),
    allowing it a new round of attempts."""
    now = now or timezone.now()
    if not delivery.subscription.is_active:
        raise ValidationError(_("The subscription is switched off: switch it on before sending again."))
    with transaction.atomic():
        changed = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.FAILED).update(
            status=WebhookDelivery.Status.QUEUED, next_attempt_at=now,
            give_up_after=F("attempts") + settings.WEBHOOKS_MAX_ATTEMPTS)
        if not changed:
            raise ValidationError(_("Only a failed delivery can be sent again."))
        record_change(actor=actor, action="resend", obj=delivery, summary=delivery.webhook_id)
        transaction.on_commit(lambda: enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery
