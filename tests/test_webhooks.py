"""Webhooks out: subscriptions made by an admin, events from completions, attendance and compliance,
signed as Standard Webhooks and checked here with the library's own `Webhook.verify`, against a real
HTTP server on 127.0.0.1; retries, giving up, sending again, each event once, and the addresses
refused (server-side request forgery)."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from learntrace.checkin import services as checkin_services
from learntrace.checkin.models import CheckInEvent
from learntrace.compliance import services as compliance_services
from learntrace.core.models import AuditEntry
from learntrace.records.models import Completion
from learntrace.records.services import record_completion, void_completion
from learntrace.webhooks import events, services
from learntrace.webhooks.models import Event, EventType, Subscription, WebhookDelivery
from test_checkin import meeting  # noqa: F401 - a fixture
from test_compliance import allowance_rule, monthly_plan, watch
from test_compliance import at as shanghai
from test_notify_delivery import _at_once
from webhook_receiver import Receiver

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOKS_HTTP_TIMEOUT_SECONDS = 2
    server = Receiver().start()
    yield server
    server.stop()


def subscribe(receiver, events_=tuple(EventType.values), *, path="/hooks", **fields) -> tuple[Subscription, str]:
    subscription = Subscription(name=fields.pop("name", "Payroll"), url=f"{receiver.url}{path}",
                                events=list(events_), **fields)
    return subscription, services.subscription_save(actor=None, subscription=subscription)


def verified(receiver, secret) -> list[dict]:
    """Every payload received, each checked with the library's verification (raises if one fails)."""
    return [Webhook(secret).verify(item.body, item.headers) for item in receiver.received]


def complete(org, catalog):
    return record_completion(employee=org.learner, course=catalog.video, completed_at=NOW, source="tracking")


def form(url, events_=("completion.recorded", "completion.voided"), **fields):
    return {"name": "Payroll", "url": url, "events": list(events_), "is_active": "on", **fields}


# --- end to end ---------------------------------------------------------------------------------

def test_an_admin_subscribes_and_completions_arrive_signed(receiver, org, catalog, client_for,
                                                           django_capture_on_commit_callbacks):
    admin = client_for(org.admin)
    response = admin.post(reverse("webhooks:subscription_new"), form(f"{receiver.url}/hooks"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", response.text).group(0)
    subscription = Subscription.objects.get()
    assert subscription.secret == secret and subscription.created_by == org.admin.user
    assert subscription.events == ["completion.recorded", "completion.voided"]
    assert secret not in admin.get(reverse("webhooks:subscription_edit", args=[subscription.pk])).text  # once
    assert AuditEntry.objects.filter(action="create", object_type="subscription").exists()

    with django_capture_on_commit_callbacks(execute=True):
        completion = complete(org, catalog)
    [received] = receiver.received
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "completion.recorded"
    assert payload["data"]["completion_id"] == completion.pk
    assert payload["data"]["employee"] == {"employee_no": "E001", "name": "Learner in cardiology"}
    assert payload["data"]["course"]["title"] == "Leading a ward"
    delivery = WebhookDelivery.objects.get()
    assert received.headers["webhook-id"] == delivery.webhook_id and delivery.status == "sent"
    assert received.headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):  # another secret
        Webhook(services.new_secret()).verify(received.body, received.headers)
    with pytest.raises(WebhookVerificationError):  # a changed body
        Webhook(secret).verify(received.body.replace(b"E001", b"E999"), received.headers)

    with django_capture_on_commit_callbacks(execute=True):
        void_completion(actor=org.admin.user, completion=completion, reason="Watched on a colleague's account")
    voided = verified(receiver, secret)[1]
    assert voided["type"] == "completion.voided" and voided["data"]["completion_id"] == completion.pk
    assert voided["data"]["reason"] == "Watched on a colleague's account"


def test_nothing_is_stored_for_events_nobody_chose(receiver, org, catalog, django_capture_on_commit_callbacks):
    subscribe(receiver, [EventType.COMPLETION_VOIDED])
    subscribe(receiver, [EventType.COMPLETION_RECORDED], name="Switched off", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        complete(org, catalog)
    assert not Event.objects.exists() and not WebhookDelivery.objects.exists() and receiver.received == []


def test_a_check_in_is_sent_and_a_refused_scan_is_not(receiver, org, meeting,  # noqa: F811
                                                      django_capture_on_commit_callbacks):
    _subscription, secret = subscribe(receiver, [EventType.ATTENDANCE_RECORDED])
    with django_capture_on_commit_callbacks(execute=True):
        checkin_services.manual(meeting=meeting, employee=org.learner, actor=org.admin.user,
                                reason="Badge forgotten", kind=CheckInEvent.Kind.MANUAL_IN, at=meeting.starts_at)
        with pytest.raises(checkin_services.CheckInRefused):
            checkin_services.scan(meeting=meeting, employee=org.outsider, mode="in", scanned_at=meeting.starts_at,
                                  via="scan", device_id="phone", now=meeting.starts_at)
    [payload] = verified(receiver, secret)
    assert payload["type"] == "attendance.recorded" and payload["data"]["kind"] == "manual_in"
    assert payload["data"]["employee"]["employee_no"] == "E001"
    assert payload["data"]["meeting"]["title"] == "Monthly management meeting"
    assert payload["data"]["at"] == meeting.starts_at.isoformat().replace("+00:00", "Z")


def test_judging_a_period_and_changed_consequences_are_sent(receiver, org, catalog, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    monkeypatch.setattr(events, "BATCH", 2)  # five people: stored in three batches
    plan = monthly_plan(org, catalog)
    allowance_rule(plan)
    watch(org.learner, catalog.video, 2, shanghai(2026, 3, 3, 10))
    watch(org.outsider, catalog.video, 1, shanghai(2026, 3, 4, 10))
    _subscription, secret = subscribe(receiver, [EventType.PERIOD_JUDGED, EventType.CONSEQUENCE_CHANGED])
    compliance_services.refresh_changed(now=shanghai(2026, 3, 20, 9))
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.process_periods(now=shanghai(2026, 3, 26, 0, 5))  # the 25th is over
    march = plan.periods.get(starts_at=shanghai(2026, 3, 1)).pk
    payloads = verified(receiver, secret)
    [judged] = [p for p in payloads if p["type"] == "period.judged" and p["data"]["period"]["id"] == march]
    assert (judged["data"]["people"], judged["data"]["compliant"], judged["data"]["non_compliant"]) == (5, 1, 4)
    changed = {p["data"]["employee"]["employee_no"]: p["data"] for p in payloads
               if p["type"] == "consequence.changed" and p["data"]["period"]["id"] == march}
    assert sorted(changed) == ["A001", "E001", "E002", "H001", "U001"]
    assert changed["E001"]["compliant"] is True and changed["E001"]["before"]["compliant"] is None
    assert [c["name"] for c in changed["E001"]["consequences"]] == ["Performance"]
    assert changed["E002"]["compliant"] is False and changed["E002"]["score"] == "-5.00"

    # The outsider catches up: only their verdict changed, and no whole judgement happened.
    receiver.received.clear()
    watch(org.outsider, catalog.video, 1, shanghai(2026, 3, 28, 10))
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.refresh_changed(now=shanghai(2026, 3, 28, 11))
    [caught_up] = verified(receiver, secret)
    assert caught_up["type"] == "consequence.changed" and caught_up["data"]["employee"]["employee_no"] == "E002"
    assert (caught_up["data"]["before"]["compliant"], caught_up["data"]["compliant"]) == (False, True)


# --- retries, giving up, each once -----------------------------------------------------------------

def test_a_5xx_is_retried_with_backoff_and_the_same_webhook_id(receiver, org, catalog, settings):
    _subscription, secret = subscribe(receiver)
    receiver.next_statuses.extend([500, 503])
    complete(org, catalog)  # queued: the commit that would send it never comes in this test
    delivery = WebhookDelivery.objects.get()
    start = timezone.now()
    assert services.send_delivery(delivery_id=delivery.pk, now=start) == "queued"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at - start >= dt.timedelta(seconds=settings.WEBHOOKS_RETRY_SECONDS)
    assert services.send_delivery(delivery_id=delivery.pk, now=start) is None  # not due: nobody sends it early
    second = delivery.next_attempt_at
    assert services.send_delivery(delivery_id=delivery.pk, now=second) == "queued"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - second >= dt.timedelta(seconds=2 * settings.WEBHOOKS_RETRY_SECONDS)
    verified(receiver, secret)  # both attempts carry a valid signature
    # The sweeper sends it once it is due (its scheduled task may have been lost).
    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(minutes=5)):
        services.sweep()
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 3 and delivery.next_attempt_at is None
    assert [(a.outcome, a.status_code) for a in delivery.attempt_log.all()] == [("retry", 500), ("retry", 503),
                                                                                ("ok", 204)]
    assert {item.headers["webhook-id"] for item in receiver.received} == {delivery.webhook_id}
    assert len(receiver.received) == 3


def test_timeouts_and_refused_connections_are_retried_and_a_4xx_is_not(receiver, org, catalog, settings):
    settings.WEBHOOKS_HTTP_TIMEOUT_SECONDS = 0.5
    subscribe(receiver, name="Slow")
    receiver.sleep_next = 1.5
    complete(org, catalog)
    slow = WebhookDelivery.objects.get()
    assert services.send_delivery(delivery_id=slow.pk) == "queued"
    assert "ReadTimeout" in WebhookDelivery.objects.get(pk=slow.pk).last_error

    nobody = Subscription(name="Nobody listens", url="http://127.0.0.1:9/hooks", events=EventType.values)
    services.subscription_save(actor=None, subscription=nobody)
    gone = Subscription(name="Gone", url=f"{receiver.url}/gone", events=EventType.values)
    services.subscription_save(actor=None, subscription=gone)
    void_completion(actor=org.admin.user, completion=Completion.objects.get(), reason="Test")
    refused = WebhookDelivery.objects.get(subscription=nobody)
    assert services.send_delivery(delivery_id=refused.pk) == "queued"
    assert "ConnectError" in WebhookDelivery.objects.get(pk=refused.pk).last_error
    receiver.next_statuses.append(410)
    answered = WebhookDelivery.objects.get(subscription=gone)
    assert services.send_delivery(delivery_id=answered.pk) == "failed"
    answered.refresh_from_db()
    assert answered.last_error == "HTTP 410" and answered.attempts == 1


def test_it_gives_up_after_the_last_attempt_shows_it_and_the_admin_sends_again(
        receiver, org, catalog, settings, client_for, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    _subscription, secret = subscribe(receiver)
    receiver.next_statuses.extend([500, 500])
    complete(org, catalog)
    delivery = WebhookDelivery.objects.get()
    assert services.send_delivery(delivery_id=delivery.pk) == "queued"
    delivery.refresh_from_db()
    assert services.send_delivery(delivery_id=delivery.pk, now=delivery.next_attempt_at) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "gave up after 2 attempts: HTTP 500" and delivery.next_attempt_at is None

    log = client_for(org.auditor).get(reverse("webhooks:deliveries"), {"status": "failed"})
    assert "gave up after 2 attempts" in log.text and "completion.recorded" in log.text
    detail = client_for(org.auditor).get(reverse("webhooks:delivery", args=[delivery.pk]))
    assert delivery.webhook_id in detail.text and "Send again" not in detail.text  # auditors only read
    assert client_for(org.auditor).post(reverse("webhooks:resend", args=[delivery.pk])).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.admin).post(reverse("webhooks:resend", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 3
    assert [item.headers["webhook-id"] for item in receiver.received] == [delivery.webhook_id] * 3
    verified(receiver, secret)
    assert AuditEntry.objects.filter(action="resend", actor=org.admin.user).exists()
    again = client_for(org.admin).post(reverse("webhooks:resend", args=[delivery.pk]), follow=True)
    assert "Only a failed delivery can be sent again." in again.text


def test_an_event_reported_twice_is_stored_and_sent_once(receiver, org, catalog):
    subscribe(receiver)
    subscribe(receiver, name="Second")
    completion = complete(org, catalog)
    events.on_completion_recorded(sender=Completion, completion=completion)  # the same fact again
    assert Event.objects.count() == 1 and WebhookDelivery.objects.count() == 2
    for delivery in WebhookDelivery.objects.all():
        assert services.send_delivery(delivery_id=delivery.pk) == "sent"
        assert services.send_delivery(delivery_id=delivery.pk) is None
    assert len(receiver.received) == 2 and len({item.headers["webhook-id"] for item in receiver.received}) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_each_event_once(receiver, org, catalog):
    subscribe(receiver)
    for course in (catalog.video, catalog.meeting, catalog.clinical_video):
        record_completion(employee=org.learner, course=course, completed_at=NOW, source="tracking")
    deliveries = list(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(deliveries) == 3  # the commits above also sent them already: nothing is left to claim
    WebhookDelivery.objects.update(status="queued", attempts=0, next_attempt_at=timezone.now())
    receiver.received.clear()

    def sender():
        for delivery_id in deliveries:
            services.send_delivery(delivery_id=delivery_id)

    _at_once(sender, sender)
    assert len(receiver.received) == 3
    assert sorted(WebhookDelivery.objects.values_list("attempts", flat=True)) == [1, 1, 1]


def test_a_send_interrupted_by_a_dead_worker_is_tried_again_with_the_same_id(receiver, org, catalog, settings):
    subscribe(receiver)
    complete(org, catalog)
    delivery = WebhookDelivery.objects.get()
    long_ago = timezone.now() - settings.WEBHOOKS_SENDING_TIMEOUT - dt.timedelta(minutes=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="sending", sending_since=long_ago, attempts=1)
    services.sweep()
    delivery.refresh_from_db()
    assert delivery.status == "queued" and delivery.last_error == "interrupted while sending"
    assert services.send_delivery(delivery_id=delivery.pk) == "sent"
    assert receiver.received[0].headers["webhook-id"] == delivery.webhook_id


# --- secrets ------------------------------------------------------------------------------------

def test_a_rotated_secret_is_shown_once_and_the_old_one_signs_for_a_while(receiver, org, catalog, client_for,
                                                                          settings):
    subscription, old = subscribe(receiver)
    response = client_for(org.admin).post(reverse("webhooks:subscription_rotate", args=[subscription.pk]))
    new = re.search(r"whsec_[A-Za-z0-9+/=]+", response.text).group(0)
    assert new != old and "no-store" in response["Cache-Control"]
    complete(org, catalog)
    assert services.send_delivery(delivery_id=WebhookDelivery.objects.get().pk) == "sent"
    verified(receiver, new)
    verified(receiver, old)  # a receiver not yet switched still accepts it
    subscription.refresh_from_db()
    later = subscription.previous_secret_until + dt.timedelta(seconds=1)
    headers = services.signature_headers(subscription, "msg_1", "{}", later)
    assert headers["webhook-signature"] == Webhook(new).sign("msg_1", later, "{}")  # the new one only


# --- addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/hooks", "Only http:// and https://"),
    ("http://127.0.0.1:8000/hooks", "private, loopback or reserved"),
    ("http://localhost/hooks", "private, loopback or reserved"),
    ("http://10.1.2.3/hooks", "private, loopback or reserved"),
    ("http://169.254.169.254/latest/meta-data/", "private, loopback or reserved"),
    ("http://[::1]/hooks", "private, loopback or reserved"),
    ("http://[::ffff:192.168.0.1]/hooks", "private, loopback or reserved"),
    ("http://0.0.0.0/hooks", "private, loopback or reserved"),
    ("not an address", "Enter a valid URL."),
])
def test_addresses_that_would_reach_the_private_network_are_refused(org, client_for, url, message):
    response = client_for(org.admin).post(reverse("webhooks:subscription_new"), form(url))
    assert response.status_code == 200 and message in response.text
    assert not Subscription.objects.exists()


def test_an_address_allowed_once_is_checked_again_before_each_send(receiver, org, catalog, settings):
    subscribe(receiver)
    complete(org, catalog)
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    delivery = WebhookDelivery.objects.get()
    assert services.send_delivery(delivery_id=delivery.pk) == "failed"
    assert "private, loopback or reserved" in WebhookDelivery.objects.get(pk=delivery.pk).last_error
    assert receiver.received == []


# --- pages ----------------------------------------------------------------------------------------

def test_pages_are_for_admins_and_the_log_for_readers(receiver, org, catalog, client_for):
    subscription, _secret = subscribe(receiver)
    complete(org, catalog)
    delivery = WebhookDelivery.objects.get()
    admin_pages = [reverse("webhooks:subscriptions"), reverse("webhooks:subscription_new"),
                   reverse("webhooks:subscription_edit", args=[subscription.pk])]
    admin_posts = [reverse("webhooks:subscription_rotate", args=[subscription.pk]),
                   reverse("webhooks:subscription_test", args=[subscription.pk]),
                   reverse("webhooks:resend", args=[delivery.pk])]
    readers = [reverse("webhooks:deliveries"), reverse("webhooks:delivery", args=[delivery.pk])]
    for url in admin_pages + readers:
        assert client_for(org.admin).get(url).status_code == 200, url
        assert client_for(org.auditor).get(url).status_code == (200 if url in readers else 403), url
        for who in (org.learner, org.head):
            assert client_for(who).get(url).status_code == 403, url
    for url in admin_posts:
        for who in (org.learner, org.head, org.auditor):
            assert client_for(who).post(url).status_code == 403, url
    anonymous = Client()
    assert anonymous.get(readers[0]).status_code == 302
    assert Subscription.objects.get().secret == subscription.secret  # nothing rotated
    assert not Event.objects.filter(type="webhook.test").exists()


def test_forms_need_a_csrf_token_and_events(org, client_for, receiver):
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(org.admin.user)
    assert guarded.post(reverse("webhooks:subscription_new"), form(f"{receiver.url}/hooks")).status_code == 403
    response = client_for(org.admin).post(reverse("webhooks:subscription_new"),
                                          form(f"{receiver.url}/hooks", events_=()))
    assert response.status_code == 200 and "Choose at least one event." in response.text
    response = client_for(org.admin).post(reverse("webhooks:subscription_new"),
                                          form(f"{receiver.url}/hooks", events_=("completion.deleted",)))
    assert response.status_code == 200 and "Select a valid choice." in response.text
    assert not Subscription.objects.exists()


def test_an_admin_edits_switches_off_and_tests_a_subscription(receiver, org, client_for,
                                                              django_capture_on_commit_callbacks):
    subscription, secret = subscribe(receiver, [EventType.COMPLETION_RECORDED])
    admin = client_for(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(reverse("webhooks:subscription_test", args=[subscription.pk]))
    delivery = WebhookDelivery.objects.get(event__type="webhook.test")
    assert response["Location"] == reverse("webhooks:delivery", args=[delivery.pk])
    [payload] = verified(receiver, secret)
    assert payload["type"] == "webhook.test" and payload["data"]["requested_by"] == "admin"
    page = admin.get(reverse("webhooks:delivery", args=[delivery.pk]))
    assert "Sent" in page.text and "&quot;requested_by&quot;: &quot;admin&quot;" in page.text  # the payload

    response = admin.post(reverse("webhooks:subscription_edit", args=[subscription.pk]),
                          form(subscription.url, events_=("period.judged",), is_active=""))
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.events == ["period.judged"] and not subscription.is_active
    assert subscription.secret == secret  # editing keeps the secret
    page = admin.post(reverse("webhooks:subscription_test", args=[subscription.pk]), follow=True)
    assert "switched off" in page.text
    assert Event.objects.filter(type="webhook.test").count() == 1


def test_the_pages_speak_chinese(receiver, org, catalog, client_for):
    subscription, _secret = subscribe(receiver)
    complete(org, catalog)
    admin = client_for(org.admin, "zh-hans")
    assert "新建订阅" in admin.get(reverse("webhooks:subscriptions")).text
    assert "发送测试事件" in admin.get(reverse("webhooks:subscription_edit", args=[subscription.pk])).text
    assert "排队中" in admin.get(reverse("webhooks:deliveries")).text


def test_without_subscribers_a_fact_costs_no_query_and_a_new_subscription_is_seen_at_once(
        receiver, org, catalog, django_assert_num_queries):
    events.forget_subscribed_events()
    completion = complete(org, catalog)
    with django_assert_num_queries(0):  # the cached list of chosen events answers
        events.on_completion_recorded(sender=Completion, completion=completion)
    subscribe(receiver, [EventType.COMPLETION_RECORDED])  # drops the cached list
    events.on_completion_recorded(sender=Completion, completion=completion)
    assert WebhookDelivery.objects.count() == 1


def test_the_sweep_runs_every_minute():
    from learntrace.webhooks import tasks  # noqa: F401 - registers the tasks, as the worker's start does

    due = HUEY.read_periodic(dt.datetime(2026, 1, 1, 9, 17, tzinfo=dt.UTC))
    assert "sweep_webhooks" in {task.name for task in due}


def test_old_events_are_forgotten_unless_still_being_sent(receiver, org, catalog, settings):
    subscribe(receiver)
    complete(org, catalog)
    sent = WebhookDelivery.objects.get()
    assert services.send_delivery(delivery_id=sent.pk) == "sent"
    void_completion(actor=org.admin.user, completion=Completion.objects.get(), reason="Test")
    waiting = WebhookDelivery.objects.exclude(pk=sent.pk).get()
    WebhookDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + dt.timedelta(days=1))
    Event.objects.update(created_at=timezone.now() - dt.timedelta(days=settings.WEBHOOKS_KEEP_DAYS + 1))
    services.sweep()
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [waiting.pk]


def test_a_host_name_that_does_not_resolve_is_refused(org, client_for):
    response = client_for(org.admin).post(reverse("webhooks:subscription_new"), form("https://receiver.invalid/x"))
    assert "The host name receiver.invalid could not be resolved." in response.text
    assert not Subscription.objects.exists()
