"""Which tables hold facts, and the canonical encoding of a fact that its digest is taken of.

The encoding is JSON with sorted keys and no spaces, UTF-8: the fact's source, id and
fields; times in UTC ISO 8601 with microseconds, decimals and UUIDs as strings. It is
written down in docs/evidence.md so that anyone can recompute a digest."""

import datetime as dt
import uuid
from decimal import Decimal

from django.apps import apps

from learntrace.evidence.canonical import fact_bytes, utc

# source code (1 byte in a seal) -> (model label, fields in the digest)
SOURCES = {
    1: ("records.CreditedTime", ["employee_id", "course_id", "kind", "category_id", "seconds", "occurred_at",
                                 "source", "recorded_at", "attempt_id", "seq", "details"]),
    2: ("records.Completion", ["employee_id", "course_id", "completed_at", "credits", "credit_class_id",
                               "category_id", "source", "recorded_at"]),
    3: ("records.QuizAttempt", ["employee_id", "quiz_id", "number", "answers", "score", "passed",
                                "submitted_at"]),
    4: ("checkin.CheckInEvent", ["meeting_id", "employee_id", "kind", "at", "scanned_at", "reason", "note",
                                 "device_id", "ip", "latitude", "longitude", "actor_id"]),
    5: ("plans.ReflectionEvent", ["reflection_id", "employee_id", "kind", "text_sha256", "comment", "actor_id",
                                  "at"]),
    6: ("records.Correction", ["employee_id", "course_id", "corrects", "corrects_id", "seconds_delta", "voids",
                               "occurred_at", "reason", "actor_id", "recorded_at"]),
}
NAMES = {code: label.split(".")[1].lower() for code, (label, _fields) in SOURCES.items()}


def model(code: int):
    return apps.get_model(SOURCES[code][0])


def _plain(value):
    if isinstance(value, dt.datetime):
        return utc(value)
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    return value


def body(code: int, row: dict) -> dict:
    """A fact as plain JSON values: what is encoded, and what an evidence bundle carries."""
    plain = {"source": NAMES[code], "id": row["id"]}
    plain.update({name: _plain(row[name]) for name in SOURCES[code][1]})
    return plain


def encode(code: int, row: dict) -> bytes:
    """The canonical bytes of one fact, from its id and field values."""
    return fact_bytes(body(code, row))


def rows(code: int, queryset=None):
    """The facts of a source as dicts of the digest's fields (values converted by the ORM)."""
    queryset = queryset if queryset is not None else model(code).objects.all()
    return queryset.values("id", *SOURCES[code][1])
