"""xAPI statements sent to a learning record store: a real local HTTP server that behaves
like an LRS (version header required, Basic auth, 200 with ids for a POST, 204 or 409 for a
statement id it already has), down for a while and then back."""

import base64
import datetime as dt
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import time_machine
from django.utils import timezone

from learntrace.api import xapi
from learntrace.api.models import RecordStore, Statement
from learntrace.catalog.models import CourseKind
from learntrace.checkin import services as checkin
from learntrace.checkin.models import Meeting
from learntrace.records.models import CreditedTime, Source
from learntrace.records.services import record_completion

USER, PASSWORD = "lrs-user", "lrs-secret"


class FakeLrs:
    """Keeps statements by id; `down` makes it answer 503."""

    def __init__(self):
        self.statements, self.requests, self.down = {}, [], False
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
