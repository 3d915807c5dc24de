"""xAPI statements sent to a learning record store: a real local HTTP server that behaves
like an LRS (version header required, Basic auth, 200 with ids for a POST, 204 or 409 for a
statement id it already has, the stored copy by statementId or voidedStatementId, voiding
statements validated as xAPI 1.0.3 requires), down for a while and then back."""

import base64
import datetime as dt
import json
import threading
import time
import uuid
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.html import escape

from learntrace.api import xapi
from learntrace.api.models import Installation, RecordStore, Statement
from learntrace.catalog.models import CourseKind
from learntrace.checkin import services as checkin
from learntrace.checkin.models import Meeting
from learntrace.records.models import Completion, CreditedTime, Source
from learntrace.records.services import correct_time, record_completion, void_completion
from local_server import JsonHandler, LocalServer

USER, PASSWORD = "lrs-user", "lrs-secret"


def _same(a: dict, b: dict) -> bool:
    """The LRS's own comparison: what it set itself (stored, authority) is not the statement."""
    drop = ("stored", "authority")
    return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


class FakeLrs(LocalServer):
    """Keeps statements by id; `down` makes it answer 503."""

    AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.org", "name": USER}}

    def __init__(self):
        self.statements, self.requests, self.down = {}, [], False
        self.voided = set()  # ids of statements a voiding statement withdrew
        self.posted = []  # the id of every statement in every POST and PUT, in order
        self.delay = 0.0  # seconds each POST takes, so that senders overlap
        lrs = self

        class Handler(JsonHandler):
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
                invalid = next((error for s in statements if (error := lrs.invalid(s, statements))), None)
                if invalid:
                    return self._answer(400, {"error": invalid})
                for statement in statements:
                    lrs.store(statement)
                self._answer(200, [s["id"] for s in statements])

            def do_PUT(self):
                refusal = self._refusal()
                if refusal:
                    return self._answer(refusal, {"error": refusal})
                statement_id = parse_qs(urlparse(self.path).query)["statementId"][0]
                lrs.posted.append(statement_id)
                statement = self._body()
                if statement_id in lrs.statements:
                    return self._answer(204 if _same(lrs.statements[statement_id], statement) else 409)
                invalid = lrs.invalid(statement, [statement])
                if invalid:
                    return self._answer(400, {"error": invalid})
                lrs.store(statement)
                self._answer(204)

            def do_GET(self):
                refusal = self._refusal()
                if refusal:
                    return self._answer(refusal, {"error": refusal})
                query = parse_qs(urlparse(self.path).query)
                if "statementId" in query:  # a voided statement is only found by voidedStatementId
                    found = query["statementId"][0]
                    ok = found in lrs.statements and found not in lrs.voided
                else:
                    found = query["voidedStatementId"][0]
                    ok = found in lrs.voided
                if not ok:
                    return self._answer(404, {"error": "no such statement"})
                self._answer(200, lrs.statements[found])

        super().__init__(Handler)
        self.endpoint = f"{self.url}/xapi"
        self.start()

    def invalid(self, statement: dict, batch: list[dict]) -> str | None:
        """Why xAPI 1.0.3 forbids storing the statement, if it does (voiding rules)."""
        if statement["verb"]["id"] != xapi.VOIDED:
            return None
        target = statement["object"]
        if target.get("objectType") != "StatementRef":
            return "a voiding statement's object must be a StatementRef"
        voiding = self.statements.get(target["id"]) or next((s for s in batch if s["id"] == target["id"]), None)
        if voiding is not None and voiding["verb"]["id"] == xapi.VOIDED:
            return "a voiding statement cannot be voided"
        return None

    def store(self, statement: dict) -> None:
        self.statements[statement["id"]] = {**statement, "stored": "2026-01-01T00:00:00.000Z",
                                            "authority": self.AUTHORITY}
        if statement["verb"]["id"] == xapi.VOIDED:
            self.voided.add(statement["object"]["id"])

    def current(self) -> list[dict]:
        """What the store holds as told: neither voided nor voiding."""
        return [s for i, s in self.statements.items() if i not in self.voided and s["verb"]["id"] != xapi.VOIDED]


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
    assert set(sent) == {"completed", "experienced"} and set(by_verb(lrs, "H001")) == {"completed", "attended"}
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
    watched = sent["experienced"]
    assert watched["result"]["duration"] == "PT900S" and watched["object"]["definition"]["type"] == xapi.MEDIA_TYPE
    yesterday = timezone.localdate() - dt.timedelta(days=1) if timezone.localtime().hour >= 2 else None
    if yesterday is not None:  # the facts were watched 26 hours ago: yesterday, local time
        assert watched["context"]["extensions"]["https://learn.example.com/xapi/extensions/day"] == str(yesterday)
    # A day's total is no player event: the statements do not claim the xAPI Video Profile.
    assert "w3id.org/xapi/video" not in json.dumps(list(lrs.statements.values()))
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
    old_namespace = uuid.uuid5(uuid.NAMESPACE_URL, settings.SITE_URL)  # ids as they were made then
    body = {**xapi.completion_statement(sent, old_namespace),
            "id": str(uuid.uuid5(old_namespace, f"completion:{sent.pk}"))}
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


# ---------------------------------------------------------------- corrections reach the store


def current_by_verb(lrs, person):
    return sorted((s["verb"]["id"].rsplit("/", 1)[1], s["result"].get("duration")) for s in lrs.current()
                  if s["actor"]["account"]["name"] == person)


def test_a_voided_completion_is_withdrawn_with_a_voiding_statement(org, catalog, facts, store, lrs):
    xapi.queue_new_facts(store)
    assert xapi.send_due(store) == 4
    completion = Completion.objects.get(employee=org.learner)
    told = store.statements.get(fact_kind=xapi.COMPLETION, fact_id=completion.pk).statement_id
    void_completion(actor=org.admin.user, completion=completion, reason="entered for the wrong person")
    assert xapi.queue_new_facts(store) == 1 and xapi.send_due(store) == 1
    voiding = store.statements.get(voids=told)
    assert voiding.verb == xapi.VOIDED and voiding.body["object"] == {"objectType": "StatementRef", "id": str(told)}
    assert voiding.body["actor"]["account"]["homePage"] == "https://learn.example.com/xapi/"
    assert lrs.voided == {str(told)}
    assert current_by_verb(lrs, "E001") == [("experienced", "PT900S")]
    assert completed_by(lrs) == ["E001", "H001"]  # the store keeps the voided statement, marked voided
    # Handled once: neither the next run nor the nightly one voids it again.
    assert xapi.queue_new_facts(store) == 0 and xapi.queue_new_facts(store, everything=True) == 0


def test_a_store_added_after_a_void_never_receives_the_voided_completion(org, catalog, facts, lrs):
    void_completion(actor=org.admin.user, completion=Completion.objects.get(employee=org.learner), reason="twice")
    late = RecordStore.objects.create(name="Added later", endpoint=lrs.endpoint, username=USER, password=PASSWORD)
    assert xapi.queue_new_facts(late) == 3 and xapi.send_due(late) == 3
    assert completed_by(lrs) == ["H001"] and not lrs.voided
    assert current_by_verb(lrs, "E001") == [("experienced", "PT900S")]


def test_a_time_correction_voids_the_told_time_and_sends_the_corrected_time(org, catalog, facts, store, lrs):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    fact = CreditedTime.objects.get(employee=org.head, source=Source.CHECKIN)
    first = store.statements.get(fact_kind=xapi.ATTENDANCE).statement_id
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=-1800, reason="left half an hour early")
    assert xapi.queue_new_facts(store) == 2 and xapi.send_due(store) == 2
    assert current_by_verb(lrs, "H001") == [("attended", "PT5400S"), ("completed", None)]
    corrected = next(s for s in lrs.current() if s["verb"]["id"] == xapi.ATTENDED)
    assert corrected["context"]["statement"] == {"objectType": "StatementRef", "id": str(first)}
    assert corrected["result"]["extensions"]["https://learn.example.com/xapi/extensions/credited-seconds"] == 5400
    assert corrected["object"]["id"] == f"https://learn.example.com/checkin/meetings/{facts.pk}/"
    # A second correction replaces the corrected version in turn.
    correct_time(actor=org.admin.user, fact=fact, seconds_delta=600, reason="came back")
    assert xapi.queue_new_facts(store) == 2 and xapi.send_due(store) == 2
    assert current_by_verb(lrs, "H001") == [("attended", "PT6000S"), ("completed", None)]
    assert len(lrs.voided) == 2 and xapi.queue_new_facts(store) == 0
    # A store added now is told the corrected time only.
    other = FakeLrs()
    try:
        late = RecordStore.objects.create(name="Later", endpoint=other.endpoint, username=USER, password=PASSWORD)
        xapi.queue_new_facts(late)
        xapi.send_due(late)
        assert current_by_verb(other, "H001") == [("attended", "PT6000S"), ("completed", None)]
        assert not other.voided
    finally:
        other.stop()


def test_a_correction_of_video_time_restates_the_day(org, catalog, facts, store, lrs):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    beat = CreditedTime.objects.get(employee=org.learner, seconds=600)
    correct_time(actor=org.admin.user, fact=beat, seconds_delta=-300, reason="two tabs at once")
    assert xapi.queue_new_facts(store) == 2 and xapi.send_due(store) == 2
    assert current_by_verb(lrs, "E001") == [("completed", None), ("experienced", "PT600S")]
    # Taking away the rest of the day withdraws the day without telling a new one.
    correct_time(actor=org.admin.user, fact=beat, seconds_delta=-600, reason="not watched at all")
    assert xapi.queue_new_facts(store) == 2 and xapi.send_due(store) == 2
    assert current_by_verb(lrs, "E001") == [("completed", None), ("experienced", "PT0S")]


def test_beats_that_arrive_after_their_day_was_told_restate_it(org, catalog, facts, store, lrs):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    day_before = CreditedTime.objects.get(employee=org.learner, seconds=600).occurred_at
    # A player that was offline sends a beat of that day now.
    CreditedTime.objects.create(employee=org.learner, course=catalog.video, kind=CourseKind.VIDEO,
                                category=catalog.management, seconds=120, occurred_at=day_before,
                                source=Source.TRACKING, attempt_id=uuid.UUID(int=2), seq=1)
    assert xapi.queue_new_facts(store) == 2 and xapi.send_due(store) == 2
    assert current_by_verb(lrs, "E001") == [("completed", None), ("experienced", "PT1020S")]
    assert xapi.queue_new_facts(store) == 0


def test_statement_ids_are_unique_to_the_installation_and_to_the_fact_not_its_primary_key(org, catalog, settings):
    settings.SITE_URL = "https://learn.example.com"
    completion = record_completion(employee=org.learner, course=catalog.video, completed_at=timezone.now(),
                                   source="manual")
    first = xapi.completion_statement(completion)["id"]
    assert xapi.completion_statement(completion)["id"] == first and Installation.objects.count() == 1
    # The same primary key for another fact (restored from a backup, then written again).
    Completion.objects.filter(pk=completion.pk).update(recorded_at=completion.recorded_at + dt.timedelta(seconds=1))
    completion.refresh_from_db()
    assert xapi.completion_statement(completion)["id"] != first
    # A reinstall under the same SITE_URL: a new installation id, new statement ids.
    Completion.objects.filter(pk=completion.pk).update(recorded_at=completion.recorded_at - dt.timedelta(seconds=1))
    completion.refresh_from_db()
    Installation.objects.all().delete()
    assert xapi.completion_statement(completion)["id"] != first


def test_a_conflicting_statement_in_the_store_is_a_conflict_not_a_delivery(org, catalog, facts, store, lrs, client):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    # The credit class is renamed; a second store on the same LRS is then told the completion.
    catalog.cme1.name = "一类学分"
    catalog.cme1.save()
    catalog.video.title = "病区管理（修订版）"  # an activity definition is not part of the statement
    catalog.video.save()
    again = RecordStore.objects.create(name="Same LRS", endpoint=lrs.endpoint, username=USER, password=PASSWORD)
    xapi.queue_new_facts(again)
    assert xapi.send_due(again) == 3  # the head's completion (class II), attendance and video day are the same
    conflicts = list(again.statements.filter(status=Statement.Status.CONFLICT))
    assert [(c.fact_kind, c.fact_id, c.last_error, c.attempts) for c in conflicts] == [
        (xapi.COMPLETION, Completion.objects.get(employee=org.learner).pk, "result", 1)]
    assert xapi.totals(again) == {"pending": 0, "sent": 3, "failed": 0, "conflict": 1}
    assert xapi.send_due(again) == 0 and len(lrs.posted) == 4 + 4 + 4  # a conflict is not retried by itself
    client.force_login(org.admin.user)
    client.cookies["django_language"] = "en"
    page = client.get(f"/api/stores/{again.pk}/?status=conflict").content.decode()
    assert page.count("The store holds a different statement under this id; it differs in: result") == 1
    listing = client.get("/api/stores/").content.decode()
    assert "<td>3</td><td>0</td><td>1</td>" in listing.replace("\n", "").replace("    ", "")


def test_a_copy_that_differs_only_in_what_the_store_sets_is_the_same_statement(org, catalog, facts, settings):
    completion = Completion.objects.get(employee=org.learner)
    ours = xapi.completion_statement(completion)
    theirs = {**json.loads(json.dumps(ours)), "stored": "2026-01-02T03:04:05.000Z", "version": "1.0.0",
              "authority": FakeLrs.AUTHORITY, "timestamp": ours["timestamp"].replace("Z", "+00:00")}
    theirs["verb"]["display"] = {"zh-CN": "完成"}
    theirs["object"]["definition"]["name"] = {"zh-CN": "改名后的课程"}
    assert xapi.same_statement(ours, theirs)
    theirs["result"]["extensions"]["https://learn.example.com/xapi/extensions/credits"] = 3.0
    assert not xapi.same_statement(ours, theirs)


def test_every_extension_iri_answers_with_its_description(org, catalog, facts, store, lrs, client, settings):
    xapi.queue_new_facts(store)
    xapi.send_due(store)
    settings.SITE_URL = "http://testserver"  # the IRIs are under SITE_URL: follow them on this server
    used = {key.rsplit("/", 1)[1] for s in lrs.statements.values()
            for part in (s.get("result", {}), s.get("context", {})) for key in part.get("extensions", {})}
    assert used == set(xapi.EXTENSIONS)
    for name in used:
        page = client.get(xapi.extension(name).removeprefix("http://testserver"), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200 and escape(str(xapi.EXTENSIONS[name])) in page.content.decode()
    chinese = client.get("/xapi/extensions/credited-seconds", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "学习时长" in chinese
    assert client.get("/xapi/extensions/no-such-thing").status_code == 404
