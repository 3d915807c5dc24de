"""xAPI statements sent to a learning record store: a real local HTTP server that behaves
like an LRS (version header required, Basic auth, 200 with ids for a POST, 204 or 409 for a
statement id it already has), down for a while and then back."""

import base64
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone

from learntrace.api import xapi
from learntrace.api.models import RecordStore, Statement
from learntrace.catalog.models import CourseKind
from learntrace.checkin import services as checkin
from learntrace.checkin.models import Meeting
from learntrace.records.models import Completion, CreditedTime, Source
from learntrace.records.services import record_completion

USER, PASSWORD = "lrs-user", "lrs-secret"


class FakeLrs:
    """Keeps statements by id; `down` makes it answer 503."""

    def __init__(self):
        self.statements, self.requests, self.down = {}, [], False
        self.posted = []  # the id of every statement in every POST and PUT, in order
        self.delay = 0.0  # seconds each POST takes, so that senders overlap
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refusal(self):
                lrs.requests.append((self.command, self.path, dict(self.headers)))
                if lrs.down:
                    return 503
                if not self.headers.get("X-Experience-API-Version", "").startswith("1.0"):
                    return 400
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return 401
                if urlparse(self.path).path != "/xapi/statements":
                    return 404
                return None

            def _body(self):
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def do_POST(self):
                refusal = self._refusal()
                if refusal:
                    return self._answer(refusal, {"error": refusal})
                statements = self._body()
                statements = statements if isinstance(statements, list) else [statements]
                lrs.posted += [s["id"] for s in statements]
                time.sleep(lrs.delay)
                if any(s["id"] in lrs.statements for s in statements):
                    return self._answer(409, {"error": "statement id already stored"})
                for statement in statements:
                    lrs.statements[statement["id"]] = statement
                self._answer(200, [s["id"] for s in statements])

            def do_PUT(self):
                refusal = self._refusal()
                if refusal:
                    return self._answer(refusal, {"error": refusal})
                statement_id = parse_qs(urlparse(self.path).query)["statementId"][0]
                lrs.posted.append(statement_id)
                statement = self._body()
                if statement_id in lrs.statements:
                    return self._answer(204 if lrs.statements[statement_id] == statement else 409)
                lrs.statements[statement_id] = statement
                self._answer(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/xapi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs():
    server = FakeLrs()
    yield server
    server.stop()


@pytest.fixture
def store(lrs, db):
    return RecordStore.objects.create(name="Regional LRS", endpoint=lrs.endpoint, username=USER, password=PASSWORD)


@pytest.fixture
def facts(org, catalog, settings):
    settings.SITE_URL = "https://learn.example.com"
    record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(), source="tracking")
    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)
    checkin.manual(meeting=meeting, employee=org.head, actor=org.admin.user, reason="badge reader", kind="manual_in")
    yesterday = now - dt.timedelta(days=1, hours=2)
    for seq, seconds in enumerate((600, 300, 0), start=1):
        fact = CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind=CourseKind.VIDEO,
                                           category=catalog.management, seconds=seconds, occurred_at=yesterday,
                                           source=Source.TRACKING, attempt_id=uuid.UUID(int=1), seq=seq)
        CreditedTime.objects.filter(pk=fact.pk).update(recorded_at=yesterday)
    return meeting


def by_verb(lrs, person="E001"):
    """The statements of one person's facts by verb, and the other person's."""
    return {s["verb"]["id"].rsplit("/", 1)[1]: s for s in lrs.statements.values()
            if s["actor"]["account"]["name"] == person}


def test_the_lrs_itself_requires_the_version_header(lrs):
    auth = (USER, PASSWORD)
    assert httpx.post(f"{lrs.endpoint}/statements", json=[], auth=auth).status_code == 400
    assert httpx.post(f"{lrs.endpoint}/statements", json=[], auth=auth,
                      headers={"X-Experience-API-Version": "1.0.3"}).status_code == 200


def test_completions_attendance_and_video_time_are_sent_as_statements(org, catalog, facts, store, lrs):
    # The meeting's time also completed its course for the head: four facts.
    assert xapi.queue_new_facts(store) == 4
    assert xapi.send_due(store) == 4
    sent = by_verb(lrs)
    assert set(sent) == {"completed", "played"} and set(by_verb(lrs, "H001")) == {"completed", "attended"}
    completed = sent["completed"]
    assert completed["actor"] == {"objectType": "Agent", "account": {"homePage": "https://learn.example.com",
                                                                     "name": "E001"}}
    assert completed["object"]["id"] == f"https://learn.example.com/catalog/courses/{catalog.video.pk}/"
    extensions = completed["result"]["extensions"]
    assert extensions["https://learn.example.com/xapi/extensions/credits"] == 2.0
    assert extensions["https://learn.example.com/xapi/extensions/credit-class"]["code"] == "cme-1"
    attended = by_verb(lrs, "H001")["attended"]
    assert attended["actor"]["account"]["name"] == "H001" and attended["result"]["duration"] == "PT7200S"
    assert attended["object"]["id"] == f"https://learn.example.com/checkin/meetings/{facts.pk}/"
    played = sent["played"]
    assert played["result"]["duration"] == "PT900S"
    assert played["context"]["contextActivities"]["category"][0]["id"] == "https://w3id.org/xapi/video"
    assert "national" not in json.dumps(list(lrs.statements.values())).lower()
    posts = [r for r in lrs.requests if r[0] == "POST"]
    assert posts and all(r[2]["X-Experience-API-Version"] == "1.0.3" for r in posts)
    assert set(Statement.objects.values_list("status", flat=True)) == {"sent"}
    # Nothing new: nothing queued again.
    assert xapi.queue_new_facts(store) == 0


def test_statement_ids_are_derived_from_the_facts_so_a_resend_is_harmless(org, catalog, facts, store, lrs):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    first_ids = set(lrs.statements)
    other = RecordStore.objects.create(name="Same LRS, again", endpoint=lrs.endpoint, username=USER,
                                       password=PASSWORD)
    xapi.queue_new_facts(other)
    assert set(str(i) for i in other.statements.values_list("statement_id", flat=True)) == first_ids
    assert xapi.send_due(other) == 4  # the LRS refused the batch (409); each one then answered 204
    assert xapi.resend(store, list(store.statements.values_list("pk", flat=True))) == 4
    assert xapi.send_due(store) == 4
    assert set(lrs.statements) == first_ids and len(lrs.statements) == 4
    assert [r[0] for r in lrs.requests].count("PUT") == 8


def test_failures_are_retried_with_backoff_until_the_lrs_is_back(org, catalog, facts, store, lrs):
    lrs.down = True
    start = timezone.now()
    xapi.queue_new_facts(store, now=start)
    assert xapi.send_due(store, now=start) == 0
    rows = list(store.statements.all())
    assert all(r.attempts == 1 and r.last_error.startswith("HTTP 503") and r.next_attempt_at > start for r in rows)
    assert xapi.send_due(store, now=start + dt.timedelta(seconds=10)) == 0  # not due yet: no request
    assert len([r for r in lrs.requests if r[0] == "POST"]) == 1
    later = start + dt.timedelta(minutes=2)
    assert xapi.send_due(store, now=later) == 0
    assert store.statements.filter(attempts=2).count() == 4
    lrs.down = False
    assert xapi.send_due(store, now=later + dt.timedelta(hours=1)) == 4
    assert len(lrs.statements) == 4 and not store.statements.exclude(status="sent").exists()


def test_an_unreachable_store_and_wrong_credentials_are_reported(org, catalog, facts, store, lrs, settings):
    settings.XAPI_MAX_ATTEMPTS = 2
    store.password = "wrong"
    store.save()
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    assert set(store.statements.values_list("last_error", flat=True)) == {'HTTP 401: {"error": 401}'}
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        xapi.send_due(store)
    assert set(store.statements.values_list("status", flat=True)) == {"failed"}
    lrs.stop()
    store.password = PASSWORD
    store.save()
    assert xapi.resend(store) == 4
    xapi.send_due(store)
    assert all("ConnectError" in e for e in store.statements.values_list("last_error", flat=True))


def test_the_periodic_task_queues_and_sends_for_active_stores(org, catalog, facts, store, lrs):
    from learntrace.api.tasks import send_statements

    RecordStore.objects.create(name="Switched off", endpoint=lrs.endpoint, is_active=False)
    send_statements.call_local()
    assert len(lrs.statements) == 4
    assert not Statement.objects.filter(store__is_active=False).exists()


# ---------------------------------------------------------------- facts found by what is missing, rows claimed


def completed_by(lrs) -> list[str]:
    return sorted(s["actor"]["account"]["name"] for s in lrs.statements.values() if s["verb"]["id"] == xapi.COMPLETED)


def test_a_fact_with_a_lower_id_that_appears_later_is_still_sent(org, catalog, store, lrs):
    """What a late commit looks like to the sender: a fact below one already sent."""
    first = record_completion(employee=org.head, course=catalog.video, completed_at=timezone.now(), source="manual")
    Completion.objects.filter(pk=first.pk).update(id=first.pk + 10)  # ids below it are free
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    late = record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(), source="manual")
    Completion.objects.filter(pk=late.pk).update(id=first.pk + 5)
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    assert completed_by(lrs) == ["E001", "H001"] and sorted(lrs.posted) == sorted(lrs.statements)
    assert xapi.queue_new_facts(store) == 0


@pytest.mark.django_db(transaction=True)
def test_a_completion_committed_after_a_higher_one_is_delivered(org, catalog, store, lrs):
    """Two connections on PostgreSQL: the lower id is taken first and committed last."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writers take turns: an id cannot be committed after a higher one")
    taken, release = threading.Event(), threading.Event()
    ids = []

    def slow_writer():
        try:
            with transaction.atomic():
                ids.append(record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(),
                                             source="manual").pk)
                taken.set()
                release.wait(60)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert taken.wait(60)
    higher = record_completion(employee=org.head, course=catalog.video, completed_at=timezone.now(), source="manual")
    assert higher.pk > ids[0]
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    assert completed_by(lrs) == ["H001"]
    release.set()
    writer.join(60)
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    assert completed_by(lrs) == ["E001", "H001"] and sorted(lrs.posted) == sorted(lrs.statements)


def test_the_floor_rises_only_past_facts_queued_long_enough_ago_and_the_nightly_run_searches_all(
        org, catalog, store, lrs):
    first = record_completion(employee=org.head, course=catalog.video, completed_at=timezone.now(), source="manual")
    xapi.queue_new_facts(store)
    store.refresh_from_db()
    assert store.completion_floor == 0  # recorded just now: an id below it may still be uncommitted
    later = timezone.now() + xapi.GRACE + dt.timedelta(seconds=1)
    xapi.queue_new_facts(store, now=later)
    store.refresh_from_db()
    assert store.completion_floor == first.pk
    # A fact below the floor (a transaction open for longer than GRACE): found by the nightly run.
    hidden = record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(),
                               source="manual")
    Completion.objects.filter(pk=hidden.pk).update(id=first.pk - 1)
    assert xapi.queue_new_facts(store, now=later) == 0
    from learntrace.api.tasks import send_statements_of_every_fact

    send_statements_of_every_fact.call_local()
    assert completed_by(lrs) == ["E001", "H001"]


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_post_the_same_statement(org, catalog, store, lrs, settings):
    settings.XAPI_BATCH_SIZE = 3
    now = timezone.now()
    for minute in range(24):
        CreditedTime.objects.create(employee=org.learner, course=catalog.meeting, kind=CourseKind.OFFLINE,
                                    category=catalog.management, seconds=600, source=Source.CHECKIN,
                                    occurred_at=now - dt.timedelta(minutes=minute))
    assert xapi.queue_new_facts(store) == 24
    lrs.delay = 0.05
    start, delivered = threading.Barrier(2), []

    def sender():
        try:
            start.wait(30)
            delivered.append(xapi.send_due(store))
        finally:
            connections.close_all()

    senders = [threading.Thread(target=sender) for _ in range(2)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(120)
    assert sum(delivered) == 24 and len(delivered) == 2
    assert len(lrs.posted) == 24 and set(lrs.posted) == set(lrs.statements)
    assert [r[0] for r in lrs.requests] == ["POST"] * 8
    assert set(store.statements.values_list("status", flat=True)) == {"sent"}
    assert not store.statements.filter(claim__isnull=False).exists()


def test_a_claimed_statement_is_not_posted_by_another_sender_until_its_claim_lapses(org, catalog, facts, store,
                                                                                      lrs):
    xapi.queue_new_facts(store)
    now = timezone.now()
    claim, rows = xapi._claim(store, now)  # another sender holds them (it died while posting)
    assert len(rows) == 4
    assert xapi.send_due(store, now=now) == 0 and lrs.posted == []
    assert xapi.send_due(store, now=now + xapi.CLAIM) == 4
    assert len(lrs.posted) == 4 and set(store.statements.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_delivered_statements_delivered_and_queues_what_the_marks_skipped(
        org, catalog, lrs, settings):
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("api", "0002_rate_window")], [("api", "0003_statement_names_its_fact")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    sent, skipped = [record_completion(employee=person, course=catalog.video, completed_at=timezone.now(),
                                       source="manual") for person in (org.head, org.learner)]
    store = old.get_model("api", "RecordStore").objects.create(
        name="LRS", endpoint=lrs.endpoint, username=USER, password=PASSWORD, completion_mark=skipped.pk + 1)
    # Delivered before the upgrade: the completion below the mark; the other one the mark skipped.
    body = xapi.completion_statement(sent)
    old.get_model("api", "Statement").objects.create(
        store_id=store.pk, statement_id=uuid.UUID(body["id"]), verb=xapi.COMPLETED, body=body, status="sent",
        next_attempt_at=timezone.now(), sent_at=timezone.now())
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    row = Statement.objects.get()
    assert (row.status, row.fact_kind, row.fact_id) == ("sent", "completion", sent.pk)
    store = RecordStore.objects.get()
    assert (store.completion_floor, store.attendance_floor) == (0, 0)
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    assert completed_by(lrs) == ["E001"] and len(lrs.posted) == 1
    assert xapi.queue_new_facts(store) == 0
