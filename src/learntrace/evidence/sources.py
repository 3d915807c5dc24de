"""Which tables hold facts, and the canonical encoding of a fact that its digest is taken of.

Encoding 2 (canonical.py, docs/evidence.md) is built two ways that agree byte for byte: in
SQL, so that PostgreSQL hashes millions of facts where they are, and in Python (SQLite, and
single facts); encoding 1 (sorted-key JSON of plain values) is kept for the seals made with it."""

import datetime as dt
import uuid
from decimal import Decimal
from functools import cache

from django.apps import apps
from django.db import connection, models

from learntrace.evidence.canonical import FIELDS, fact_bytes, fact_texts_bytes, json_text, utc, value_text

# source code (1 byte in a seal) -> (model label, fields in the digest)
_LABELS = {1: "records.CreditedTime", 2: "records.Completion", 3: "records.QuizAttempt", 4: "checkin.CheckInEvent",
           5: "plans.ReflectionEvent", 6: "records.Correction"}
NAMES = {code: label.split(".")[1].lower() for code, label in _LABELS.items()}
SOURCES = {code: (label, FIELDS[NAMES[code]]) for code, label in _LABELS.items()}
# When each source's fact was written (set by the server at insert, not by the caller): the
# check of the unsealed tail compares it with the seals' times. Sources without one are
# checked by their ids only.
RECORDED = {1: "recorded_at", 2: "recorded_at", 6: "recorded_at"}


def model(code: int):
    return apps.get_model(SOURCES[code][0])


def _plain(value):
    if isinstance(value, dt.datetime):
        return utc(value)
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    return value


def body(code: int, row: dict) -> dict:
    """Encoding 1: a fact as plain JSON values."""
    plain = {"source": NAMES[code], "id": row["id"]}
    plain.update({name: _plain(row[name]) for name in SOURCES[code][1]})
    return plain


@cache
def _json_fields(code: int) -> frozenset:
    return frozenset(name for name in SOURCES[code][1]
                     if isinstance(model(code)._meta.get_field(name), models.JSONField))


def texts(code: int, row: dict) -> list:
    """Encoding 2: [source, id, field texts...] from the values the ORM read."""
    json_fields = _json_fields(code)
    return [NAMES[code], str(row["id"]),
            *[json_text(row[name]) if name in json_fields else value_text(row[name]) for name in SOURCES[code][1]]]


def encode(code: int, row: dict, encoding: int = 2) -> bytes:
    """The canonical bytes of one fact, from its id and field values."""
    return fact_texts_bytes(texts(code, row)) if encoding == 2 else fact_bytes(body(code, row))


def rows(code: int, queryset=None):
    """The facts of a source as dicts of the digest's fields (values converted by the ORM)."""
    queryset = queryset if queryset is not None else model(code).objects.all()
    return queryset.values("id", *SOURCES[code][1])


def _sql_text(field, column: str) -> str:
    """SQL (PostgreSQL) for one value as a JSON string of its encoding-2 text, or null."""
    if isinstance(field, models.JSONField):
        # SQL NULL and JSON null read alike through the ORM: both are the text "null"
        return f"to_json(COALESCE({column}::text, 'null'))::text"
    if isinstance(field, (models.CharField, models.TextField, models.GenericIPAddressField)):
        return f"COALESCE(to_json({column}::text)::text, 'null')"
    if isinstance(field, models.DateTimeField):
        text = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    else:  # integers and keys, booleans, decimals, UUIDs, floats: texts that need no escaping
        text = f"{column}::text"
    return f"""COALESCE('"' || {text} || '"', 'null')"""


@cache
def encoding_sql(code: int) -> str:
    """SQL (PostgreSQL) for a row's encoding-2 bytes, over the source's table."""
    table = model(code)
    quote = connection.ops.quote_name
    parts = [f"'[\"{NAMES[code]}\",\"' || {quote('id')}::text || '\"'"]
    for name in SOURCES[code][1]:
        field = table._meta.get_field(name)
        parts.append(_sql_text(field, quote(field.column)))
    return "convert_to(" + " || ',' || ".join(parts) + " || ']', 'UTF8')"
