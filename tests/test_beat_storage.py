"""A beat's details stored in compact bytes: what the tracker writes, what the readers give back
(the same as from the JSON written before), and seals of both forms verifying side by side."""

import datetime as dt
import json
import uuid

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from learntrace.catalog.models import Course, CourseKind
from learntrace.evidence import keys
from learntrace.evidence import services as evidence
from learntrace.evidence.bundle import make_bundle
from learntrace.evidence.offline import verify_bundle
from learntrace.records.models import CreditedTime
from learntrace.tracking import services
from learntrace.tracking.models import Attempt
from learntrace.tracking.services import BeatInput, start_attempt

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def video(catalog):
    return Course.objects.create(title="Ten minutes", kind=CourseKind.VIDEO, category=catalog.management,
                                 duration_seconds=600, completion_threshold=95, is_published=True)


def watch(attempt, seq, start, end, *, when, rate=1.0):
    beat = BeatInput(seq=seq, segments=[(start * 1000, end * 1000)], rate=rate,
                     client_elapsed_ms=int((when - attempt.started_at).total_seconds() * 1000))
    return services.credit_beat(attempt_id=attempt.pk, user_id=attempt.employee.user_id, beat=beat, now=when)


def columns(fact_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT details, beat FROM records_creditedtime WHERE id = %s", [fact_id])
        stored, beat = cursor.fetchone()
    return stored, bytes(beat) if beat is not None else None


def test_the_tracker_writes_a_beats_details_in_21_bytes_and_reads_them_back_whole(org, video):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    with time_machine.travel(at(15), tick=False):  # received and recorded in the same microsecond
        first = watch(attempt, 0, 0, 15, when=at(15))
    fact = CreditedTime.objects.get(attempt_id=attempt.pk, seq=0)
    stored, beat = columns(fact.pk)
    # form 1, no bits, 1 segment [0, 15 000], reading 0, rate 1 000 ‰, elapsed 15 000, received 0 µs
    # before recorded, played and credited 15 000, cut 0 (as jsonb: 295 bytes)
    assert stored is None and beat.hex(" ") == "01 00 02 00 b0 ea 01 00 d0 0f b0 ea 01 00 b0 ea 01 b0 ea 01 00"
    assert fact.details == {"segments": [[0, 15_000]], "reading_ms": 0, "rate": 1.0, "hidden": False,
                            "elapsed_ms": 15_000, "received_at": "2026-03-10T09:00:15+00:00", "played_ms": 15_000,
                            "credited_ms": 15_000, "cut_ms": 0, "flags": []}
    # A replay is answered from the stored fact: the same answer as the first time.
    again = watch(attempt, 0, 0, 15, when=at(40))
    assert again.duplicate and (again.credited_ms, again.cut_ms, again.flags, again.held_ms) == (
        first.credited_ms, first.cut_ms, first.flags, first.held_ms) == (15_000, 0, [], 0)


def test_a_beat_written_as_json_before_reads_and_counts_as_a_compact_one(org, video, client_for):
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(attempt, 1, 0, 60, when=at(10), rate=3.0)  # cut and flagged: more than the time that passed
    compact = CreditedTime.objects.get(attempt_id=attempt.pk, seq=1)
    assert compact.details["flags"] == ["rate_above_2x", "over_wall_clock"]
    # The same beat as the tracker wrote it before the compact form, on another attempt of the person.
    earlier = start_attempt(employee=org.learner, course=video, now=at(0))
    CreditedTime.objects.create(employee=org.learner, course=video, kind="video", category=video.category,
                                seconds=0, occurred_at=at(10), source="tracking", attempt_id=earlier.pk, seq=1,
                                details=compact.details)
    Attempt.objects.filter(pk=earlier.pk).update(last_seq=1)  # as the upgrade leaves it (tracking.0003)
    old = CreditedTime.objects.get(attempt_id=earlier.pk)
    assert columns(old.pk)[1] is None and old.details == compact.details
    assert services.credit_beat(attempt_id=earlier.pk, user_id=org.learner.user_id, now=at(20),
                                beat=BeatInput(seq=1)).as_dict()["flags"] == ["rate_above_2x", "over_wall_clock"]
    page = client_for(org.admin).get(reverse("tracking:learner_detail", args=[video.pk, org.learner.pk]))
    rows = {a.pk: (a.played_ms, a.credited_ms, a.cut_ms, a.flag_labels) for a in page.context["attempts"]}
    assert rows[attempt.pk] == rows[earlier.pk] == (
        60_000, 30_000, 30_000, ["claimed more than the time that had passed", "played faster than 2×"])


def test_json_beats_sealed_in_encoding_2_and_compact_ones_in_3_verify_and_tampering_is_found(
        org, video, monkeypatch):
    details = {"segments": [[0, 15_000]], "reading_ms": 0, "rate": 1.0, "hidden": False, "elapsed_ms": 15_000,
               "received_at": "2026-03-10T09:00:15+00:00", "played_ms": 15_000, "credited_ms": 15_000,
               "cut_ms": 0, "flags": []}
    old = CreditedTime.objects.create(employee=org.learner, course=video, kind="video", category=video.category,
                                      seconds=15, occurred_at=at(0), source="tracking", attempt_id=uuid.uuid4(),
                                      seq=0, details=details)
    with monkeypatch.context() as patch:
        patch.setattr(evidence, "ENCODING", 2)
        [old_seal] = evidence.seal_pending()
    attempt = start_attempt(employee=org.learner, course=video, now=at(0))
    watch(attempt, 0, 0, 15, when=at(15))
    new = CreditedTime.objects.get(attempt_id=attempt.pk)
    [new_seal] = evidence.seal_pending()
    assert (old_seal.encoding, new_seal.encoding) == (2, 3)
    assert evidence.verify().ok and evidence.verify_fact(1, old.pk) and evidence.verify_fact(1, new.pk)
    bundle = json.loads(json.dumps(make_bundle(org.learner, start=T0, end=at(60))))
    fields = {item["fact"]["id"]: item["fact"]["fields"] for item in bundle["facts"]}
    assert "beat" not in fields[str(old.pk)] and json.loads(fields[str(old.pk)]["details"]) == details
    assert fields[str(new.pk)]["details"] == "null" and fields[str(new.pk)]["beat"] == columns(new.pk)[1].hex()
    assert verify_bundle(bundle, keys.public_pem()) == []
    # One bit of the compact bytes changed (played 15 000 ms read as 15 001): the seal says so.
    beat = bytearray(columns(new.pk)[1])
    beat[-7] ^= 0x02
    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_creditedtime SET beat = %s WHERE id = %s", [bytes(beat), new.pk])
    assert CreditedTime.objects.get(pk=new.pk).details["played_ms"] == 15_001
    assert {(p.kind, p.fact_id) for p in evidence.verify().problems} == {("modified", new.pk)}


def test_the_fact_table_keeps_the_two_indexes_queries_use(db):
    """The primary key and (person, time); the beat's idempotency key has none (tracking.0003, records.0008)."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "records_creditedtime")
    indexed = sorted(tuple(c["columns"]) for c in found.values() if c["index"] or c["unique"] or c["primary_key"])
    assert indexed == [("employee_id", "occurred_at"), ("id",)]
