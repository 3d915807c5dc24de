"""Webhooks for the facts recorded besides completions and attendance: completions imported with past
records (in batches: a big import costs a few queries per 500 events, not one per row), corrections of
credited time, credits approved from elsewhere and exam results; and deleting a subscription with its
deliveries. Each received by a real HTTP server on 127.0.0.1 and verified with the standardwebhooks library."""

import csv
import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from exam_fixtures import all_right, make_exam_centre
from learntrace.catalog.models import Course, CourseKind
from learntrace.core.models import AuditEntry
from learntrace.declarations import services as declarations
from learntrace.exams import services as exams
from learntrace.records.history import HistoryImport
from learntrace.records.models import Completion, CreditedTime, Source
from learntrace.records.services import correct_time, record_completion
from learntrace.webhooks import services
from learntrace.webhooks.models import Event, EventType, Subscription, WebhookAttempt, WebhookDelivery
from test_declarations import data as declaration_data
from test_declarations import upload
from test_history_import import HEADER, write
from webhook_receiver import Receiver

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOKS_HTTP_TIMEOUT_SECONDS = 2
    server = Receiver().start()
    yield server
    server.stop()


def subscribe(receiver, events_, *, name="Payroll") -> tuple[Subscription, str]:
    subscription = Subscription(name=name, url=f"{receiver.url}/hooks", events=list(events_))
    return subscription, services.subscription_save(actor=None, subscription=subscription)


def verified(receiver, secret) -> list[dict]:
    return [Webhook(secret).verify(item.body, item.headers) for item in receiver.received]


def test_imported_completions_are_sent_one_event_each(receiver, org, catalog, tmp_path,
                                                      django_capture_on_commit_callbacks):
    _subscription, secret = subscribe(receiver, [EventType.COMPLETION_RECORDED])
    path = write(tmp_path / "paper.csv", [
        [org.head.employee_no, "Monthly management meeting", "2023-05-08", "2", "是", "", "", "", "纸质签到表"],
        [org.learner.employee_no, "Sepsis update", "2023-07-01", "0.5", "否", "", "", "", ""],  # not completed
        [org.learner.employee_no, "Leading a ward", "2023-07-02", "", "是", "3", "", "", ""],
    ])
    with django_capture_on_commit_callbacks(execute=True):
        assert HistoryImport(path, path.name).apply(actor=org.admin.user).completions == 2
    payloads = sorted(verified(receiver, secret), key=lambda payload: payload["data"]["completion_id"])
    completions = list(Completion.objects.order_by("pk"))
    assert [p["data"]["completion_id"] for p in payloads] == [c.pk for c in completions]
    assert {p["type"] for p in payloads} == {"completion.recorded"}
    assert payloads[0]["data"]["employee"]["employee_no"] == org.head.employee_no
    assert payloads[0]["data"]["course"] == {"id": catalog.meeting.pk, "title": "Monthly management meeting",
                                             "kind": "offline"}
    assert payloads[1]["data"]["source"] == Source.IMPORTED and payloads[1]["data"]["credits"] == "3.00"
    assert payloads[1]["data"]["completed_at"] == "2023-07-02T01:00:00Z"  # 9:00 in Shanghai

    # The same file again adds nothing, and sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert HistoryImport(path, path.name).apply(actor=org.admin.user).completions == 0
    assert len(receiver.received) == 2 and WebhookDelivery.objects.count() == 2


def test_an_import_with_a_row_error_sends_nothing(receiver, org, catalog, tmp_path,
                                                  django_capture_on_commit_callbacks):
    subscribe(receiver, [EventType.COMPLETION_RECORDED])
    path = write(tmp_path / "bad.csv", [
        [org.head.employee_no, "Monthly management meeting", "2023-05-08", "2", "是", "", "", "", ""],
        ["NOBODY", "Monthly management meeting", "2023-05-08", "", "是", "", "", "", ""],
    ])
    with django_capture_on_commit_callbacks(execute=True):
        assert not HistoryImport(path, path.name).apply(actor=org.admin.user).ok
    assert not Event.objects.exists() and not WebhookDelivery.objects.exists() and receiver.received == []


@pytest.mark.parametrize("rows", [1200])
def test_a_big_import_stores_its_events_in_batches(receiver, org, catalog, tmp_path, rows):
    subscribe(receiver, [EventType.COMPLETION_RECORDED])
    subscribe(receiver, [EventType.COMPLETION_RECORDED], name="Archive")
    Course.objects.bulk_create([Course(title=f"Course {number}", kind=CourseKind.OFFLINE, category=catalog.clinical,
                                       duration_seconds=3600) for number in range(rows)])
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([org.learner.employee_no, f"Course {number}", "2023-05-08", "", "是", "", "", "", ""]
                         for number in range(rows))
    with CaptureQueriesContext(connection) as queries:
        assert HistoryImport(path, path.name).apply(actor=org.admin.user).completions == rows
    touching_webhooks = [query["sql"] for query in queries.captured_queries if "webhooks_" in query["sql"]]
    # Per 500 events: insert them and read their ids; insert their 1 000 deliveries (two subscriptions) and read
    # their ids, 500 a statement; the subscriptions once. SQLite splits an insert further by its limit on query
    # parameters: still a few statements per batch, never one per row.
    batches = -(-rows // 500)
    per_batch = 6 if connection.vendor == "postgresql" else 20
    assert len(touching_webhooks) <= per_batch * batches + 2, len(touching_webhooks)
    assert Event.objects.filter(type="completion.recorded").count() == rows
    assert WebhookDelivery.objects.count() == 2 * rows


def test_a_correction_of_credited_time_is_sent(receiver, org, catalog, django_capture_on_commit_callbacks):
    _subscription, secret = subscribe(receiver, [EventType.CREDITED_TIME_CORRECTED])
    fact = CreditedTime.objects.create(employee=org.learner, course=catalog.meeting, kind="offline", seconds=7200,
                                       category=catalog.management, occurred_at=NOW, source=Source.IMPORTED)
    with django_capture_on_commit_callbacks(execute=True):
        correction = correct_time(actor=org.admin.user, fact=fact, seconds_delta=-3600, reason="Left after one hour")
    [payload] = verified(receiver, secret)
    assert payload["type"] == "credited_time.corrected"
    assert payload["data"] == {
        "correction_id": correction.pk, "credited_time_id": fact.pk,
        "employee": {"employee_no": org.learner.employee_no, "name": org.learner.name},
        "course": {"id": catalog.meeting.pk, "title": "Monthly management meeting", "kind": "offline"},
        "seconds_delta": -3600, "occurred_at": "2026-03-10T09:00:00Z",
        "corrected_at": correction.recorded_at.isoformat().replace("+00:00", "Z"), "reason": "Left after one hour"}

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception, match="more time"):
        correct_time(actor=org.admin.user, fact=fact, seconds_delta=-7200, reason="Too much")
    assert len(receiver.received) == 1 and Event.objects.count() == 1  # a refused correction sends nothing


def test_approved_outside_credits_are_sent_once_approved(receiver, org, catalog, django_capture_on_commit_callbacks):
    _subscription, secret = subscribe(receiver, [EventType.OUTSIDE_CREDIT_RECORDED])
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declarations.declare(employee=org.learner, data=declaration_data(catalog),
                                           certificate=upload())
        declarations.approve(user=org.head.user, declaration=declaration)
    assert receiver.received == []  # the head's approval is not the fact yet
    with django_capture_on_commit_callbacks(execute=True):
        declarations.approve(user=org.admin.user, declaration=declaration)
    declaration.refresh_from_db()
    [payload] = verified(receiver, secret)
    assert payload["type"] == "outside_credit.recorded"
    data = payload["data"]
    assert data["outside_credit_id"] == declaration.fact_id and data["declaration_id"] == declaration.pk
    assert (data["credits"], data["seconds"], data["credit_class"], data["category"]) == (
        "6.00", 18 * 3600, "cme-1", "clinical")
    assert (data["started_on"], data["ended_on"], data["kind"]) == ("2026-05-10", "2026-05-12", "conference")
    assert data["certificate_sha256"] == declaration.certificate_sha256
    assert data["employee"]["employee_no"] == org.learner.employee_no


def test_exam_results_are_sent(receiver, org, catalog, django_capture_on_commit_callbacks):
    _subscription, secret = subscribe(receiver, [EventType.EXAM_RESULT_RECORDED])
    centre = make_exam_centre(catalog.clinical)
    with django_capture_on_commit_callbacks(execute=True):
        result = exams.submit(sitting=exams.start(exam=centre.exam, employee=org.learner), answers=all_right(centre))
    [payload] = verified(receiver, secret)
    assert payload["type"] == "exam.result_recorded"
    assert payload["data"]["result_id"] == result.pk and payload["data"]["passed"] is True
    assert payload["data"]["exam"] == {"id": centre.exam.pk, "title": centre.exam.title}
    assert (payload["data"]["score"], payload["data"]["attempt"]) == (100, 1)
    assert payload["data"]["employee"]["employee_no"] == org.learner.employee_no


# --- deleting a subscription --------------------------------------------------------------------

def test_an_admin_deletes_a_subscription_with_its_deliveries(receiver, org, catalog, client_for):
    kept, _secret = subscribe(receiver, [EventType.COMPLETION_RECORDED], name="Archive")
    gone, _secret = subscribe(receiver, [EventType.COMPLETION_RECORDED, EventType.COMPLETION_VOIDED])
    record_completion(employee=org.learner, course=catalog.video, completed_at=NOW, source="tracking")
    delivery = WebhookDelivery.objects.get(subscription=gone)
    assert services.send_delivery(delivery_id=delivery.pk) == "sent"
    test = services.send_test(actor=org.admin.user, subscription=gone)  # still queued
    admin = client_for(org.admin)

    assert "Delete subscription" in admin.get(reverse("webhooks:subscription_edit", args=[gone.pk])).text
    page = admin.get(reverse("webhooks:subscription_delete", args=[gone.pk]))
    assert page.status_code == 200
    assert "Its 2 deliveries and their attempts are deleted" in page.text and "1 of them is still waiting" in page.text
    assert Subscription.objects.filter(pk=gone.pk).exists()  # asking changes nothing

    response = admin.post(reverse("webhooks:subscription_delete", args=[gone.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("webhooks:subscriptions")
    assert list(Subscription.objects.all()) == [kept]
    assert list(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == [kept.pk]
    assert not WebhookAttempt.objects.exists()
    # The completion's event stays for the other subscription; the test event had no one else: it goes.
    assert list(Event.objects.values_list("type", flat=True)) == ["completion.recorded"]
    assert not Event.objects.filter(pk=test.event_id).exists()
    entry = AuditEntry.objects.get(action="delete", object_type="subscription")
    assert entry.summary == "Payroll" and entry.changes["deliveries"] == [2, None]
    assert services.send_delivery(delivery_id=test.pk) is None  # a queued task finds nothing to send
    assert admin.post(reverse("webhooks:subscription_delete", args=[gone.pk])).status_code == 404


def test_only_an_admin_deletes_and_with_the_csrf_token(receiver, org, client_for):
    subscription, _secret = subscribe(receiver, [EventType.COMPLETION_RECORDED])
    url = reverse("webhooks:subscription_delete", args=[subscription.pk])
    for who in (org.learner, org.head, org.auditor):
        assert client_for(who).get(url).status_code == 403
        assert client_for(who).post(url).status_code == 403
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(org.admin.user)
    assert guarded.post(url).status_code == 403
    assert Client().post(url).status_code == 302  # to log in
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_the_delete_page_speaks_chinese(receiver, org, client_for):
    subscription, _secret = subscribe(receiver, [EventType.COMPLETION_RECORDED])
    page = client_for(org.admin, "zh-hans").get(reverse("webhooks:subscription_delete", args=[subscription.pk]))
    assert "删除订阅" in page.text and "发送记录" in page.text


def test_the_new_events_are_offered_in_the_form(org, client_for):
    page = client_for(org.admin).get(reverse("webhooks:subscription_new")).text
    for event in ("credited_time.corrected", "outside_credit.recorded", "exam.result_recorded"):
        assert f'value="{event}"' in page
