"""Delivery guarantees: retries with backoff, unknown outcomes left to the admin, the admin's
resend, and no duplicate when two workers run the scheduler and the sender at once."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from learntrace.compliance.services import refresh_changed
from learntrace.core.models import AuditEntry
from learntrace.notify import services
from learntrace.notify.models import ChannelKind, Delivery, ReminderSchedule
from notify_helpers import channel, delivery, reminder_plan, start_platforms
from test_plans import at


@pytest.fixture
def platforms(settings):
    server = start_platforms(settings)
    yield server
    server.stop()


@pytest.fixture
def robot(platforms, db):
    platforms.dingtalk_robots["robot-token"] = "SECabc"
    return channel(token="robot-token", secret="SECabc", rate_per_minute=20)


def test_a_5xx_is_retried_with_backoff_until_it_goes_through(platforms, robot, org, settings):
    platforms.next_statuses.extend([502, 503])
    sent = delivery(robot, org.learner)
    start = timezone.now()
    assert services.send_delivery(delivery_id=sent.pk, now=start) == "queued"
    sent.refresh_from_db()
    assert sent.attempts == 1 and sent.last_error == "HTTP 502"
    first_wait = sent.next_attempt_at - start
    assert dt.timedelta(seconds=settings.NOTIFY_RETRY_SECONDS) <= first_wait
    assert services.send_delivery(delivery_id=sent.pk, now=start) is None  # not due yet: nobody sends it early
    second = sent.next_attempt_at
    assert services.send_delivery(delivery_id=sent.pk, now=second) == "queued"
    sent.refresh_from_db()
    assert sent.next_attempt_at - second >= dt.timedelta(seconds=2 * settings.NOTIFY_RETRY_SECONDS)  # doubled
    # The sweeper picks it up once it is due (its scheduled task may have been lost).
    with time_machine.travel(sent.next_attempt_at + dt.timedelta(minutes=5)):
        services.sweep()
    sent.refresh_from_db()
    assert sent.status == "sent" and sent.attempts == 3
    assert [a.outcome for a in sent.attempt_log.all()] == ["retry", "retry", "ok"]
    assert [a.status_code for a in sent.attempt_log.all()] == [502, 503, 200]
    assert len(platforms.accepted("dingtalk_robot")) == 1


def test_retries_stop_after_the_last_attempt(platforms, robot, org, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    platforms.next_statuses.extend([500, 500, 500])
    sent = delivery(robot, org.learner)
    assert services.send_delivery(delivery_id=sent.pk) == "queued"
    sent.refresh_from_db()
    assert services.send_delivery(delivery_id=sent.pk, now=sent.next_attempt_at) == "failed"
    assert Delivery.objects.get(pk=sent.pk).last_error == "gave up after 2 attempts: HTTP 500"


def test_a_timeout_after_the_request_left_is_unknown_and_not_sent_again(platforms, robot, org, settings):
    settings.NOTIFY_HTTP_TIMEOUT_SECONDS = 0.5
    platforms.sleep_next = 1.5
    sent = delivery(robot, org.learner)
    assert services.send_delivery(delivery_id=sent.pk) == "unknown"
    sent.refresh_from_db()
    assert sent.status == "unknown" and "ReadTimeout" in sent.last_error
    services.sweep(now=timezone.now() + dt.timedelta(hours=2))
    assert services.send_delivery(delivery_id=sent.pk) is None
    assert Delivery.objects.get(pk=sent.pk).attempts == 1


def test_a_connection_refused_is_retried(settings, org):
    settings.NOTIFY_DINGTALK_ROBOT_URL = "http://127.0.0.1:9/robot/send"  # nothing listens there
    sent = delivery(channel(token="t"), org.learner)
    assert services.send_delivery(delivery_id=sent.pk) == "queued"
    assert "could not be reached" in Delivery.objects.get(pk=sent.pk).last_error


def test_a_send_interrupted_by_a_dead_worker_is_marked_unknown(robot, org, settings):
    sent = delivery(robot, org.learner)
    long_ago = timezone.now() - settings.NOTIFY_SENDING_TIMEOUT - dt.timedelta(minutes=1)
    Delivery.objects.filter(pk=sent.pk).update(status="sending", sending_since=long_ago, attempts=1)
    services.sweep()
    sent.refresh_from_db()
    assert sent.status == "unknown" and sent.last_error == "interrupted while sending"


def test_the_admin_resends_by_hand_and_it_is_audited(platforms, robot, org, client_for):
    platforms.next_statuses.append(500)
    original = delivery(robot, org.learner)
    Delivery.objects.filter(pk=original.pk).update(status="unknown", attempts=1)
    response = client_for(org.admin).post(reverse("notify:resend", args=[original.pk]))
    copy = Delivery.objects.get(resend_of=original)
    assert response.status_code == 302 and response["Location"] == reverse("notify:delivery", args=[copy.pk])
    assert copy.created_by == org.admin.user and copy.key == f"{original.key}:resend:1"
    assert copy.status == "queued"  # the platform answered 500: retried later like any other
    entry = AuditEntry.objects.get(action="resend")
    assert entry.actor == org.admin.user and entry.object_id == str(copy.pk)
    # Resending a message that is still queued is refused with a reason.
    page = client_for(org.admin).post(reverse("notify:resend", args=[copy.pk]), follow=True)
    assert "still being sent" in page.text
    assert Delivery.objects.filter(resend_of=original).count() == 1


def test_a_learner_or_auditor_cannot_resend(robot, org, client_for):
    original = delivery(robot, org.learner)
    Delivery.objects.filter(pk=original.pk).update(status="failed")
    assert client_for(org.learner).post(reverse("notify:resend", args=[original.pk])).status_code == 403
    assert client_for(org.auditor).post(reverse("notify:resend", args=[original.pk])).status_code == 403
    assert not Delivery.objects.filter(resend_of=original).exists()


def _at_once(*jobs):
    """Runs the jobs in threads released together; each thread uses its own database connection."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_scheduler_and_sender_at_once_send_each_message_once(platforms, org, catalog):
    platforms.webhook_secret = "shared"
    now = at(2026, 3, 15, 9, 5)
    plan = reminder_plan(org, catalog, now=now)
    hook = channel(ChannelKind.WEBHOOK, token=f"{platforms.url}/receiver", secret="shared")
    schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15, 25])
    schedule.channels.set([hook, channel(ChannelKind.INAPP)])

    refresh_changed(now=now)  # the worker keeps the standings
    _at_once(lambda: services.run_reminders(now=now), lambda: services.run_reminders(now=now))
    _at_once(lambda: services.run_reminders(now=now), lambda: services.sweep(now=now + dt.timedelta(minutes=5)))
    deliveries = Delivery.objects.all()
    assert deliveries.count() == 4  # the learner and the head, on two channels
    assert set(deliveries.values_list("status", flat=True)) == {"sent"}
    assert sorted(b["recipient"]["employee_no"] for b in platforms.accepted("webhook")) == ["E001", "H001"]

    # Two senders racing for the same queued deliveries: each message leaves once.
    again = [delivery(hook, org.learner, key=f"race:{i}", next_attempt_at=now) for i in range(3)]

    def sender():
        for item in again:
            services.send_delivery(delivery_id=item.pk)

    _at_once(sender, sender)
    assert len(platforms.accepted("webhook")) == 2 + 3
    assert [d.attempts for d in Delivery.objects.filter(key__startswith="race:")] == [1, 1, 1]
