"""Which tables hold facts, and the canonical encoding of a fact that its digest is taken of.

Encodings 2 and 3 (canonical.py, docs/evidence.md) are built two ways that agree byte for byte:
in SQL, so that PostgreSQL hashes millions of facts where they are, and in Python (SQLite, and
single facts); encoding 1 (sorted-key JSON of plain values) is kept for the seals made with it."""

import datetime as dt
import uuid
from decimal import Decimal
from functools import cache

from django.apps import apps
from django.db import connection, models

from learntrace.evidence.canonical import ENCODING, fact_bytes, fact_texts_bytes, fields, json_text, utc, value_text

# source code (1 byte in a seal) -> (model label, fields in the digest)
_LABELS = {1: "records.CreditedTime", 2: "records.Completion", 3: "records.QuizAttempt", 4: "checkin.CheckInEvent",
           5: "plans.ReflectionEvent", 6: "records.Correction", 7: "records.OutsideCredit", 8: "exams.ExamResult",
           9: "certificates.Certificate", 10: "certificates.Revocation"}
NAMES = {code: label.split(".")[1].lower() for code, label in _LABELS.items()}
# source code -> (model label, the fields of the current encoding: those of the older ones and more)
SOURCES = {code: (label, fields(NAMES[code], ENCODING)) for code, label in _LABELS.items()}
# When each source's fact was written (set by the server at insert, not by the caller): the
# check of the unsealed tail compares it with the seals' times. Sources without one are
# checked by their ids only.
# Keyed by model label, not by source code, so that a new source cannot shift the entries.
_RECORDED_BY_LABEL = {"records.CreditedTime": "recorded_at", "records.Completion": "recorded_at",
                      "records.Correction": "recorded_at", "records.OutsideCredit": "recorded_at",
                      "exams.ExamResult": "recorded_at", "certificates.Certificate": "recorded_at",
                      "certificates.Revocation": "recorded_at"}
RECORDED = {code: _RECORDED_BY_LABEL[label] for code, label in _LABELS.items() if label in _RECORDED_BY_LABEL}


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
    plain.update({name: _plain(row[name]) for name in fields(NAMES[code], 1)})
    return plain


@cache
def _json_fields(code: int) -> frozenset:
    return frozenset(name for name in SOURCES[code][1]
                     if isinstance(model(code)._meta.get_field(name), models.JSONField))


def texts(code: int, row: dict, encoding: int = ENCODING) -> list:
    """Encodings 2 and 3: [source, id, field texts...] from the values the ORM read."""
    json_fields = _json_fields(code)
    return [NAMES[code], str(row["id"]), *[json_text(row[name]) if name in json_fields else value_text(row[name])
                                           for name in fields(NAMES[code], encoding)]]


def encode(code: int, row: dict, encoding: int = ENCODING) -> bytes:
    """The canonical bytes of one fact, from its id and field values."""
    return fact_texts_bytes(texts(code, row, encoding)) if encoding >= 2 else fact_bytes(body(code, row))


def rows(code: int, queryset=None):
    """The facts of a source as dicts of the digest's fields in any encoding (values converted by the ORM)."""
    queryset = queryset if queryset is not None else model(code).objects.all()
    return queryset.values("id", *SOURCES[code][1])


def _sql_text(field, column: str) -> str:
    """SQL (PostgreSQL) for one value's text in encodings 2 and 3 (NULL for null)."""
    if isinstance(field, models.BinaryField):
        return f"encode({column}, 'hex')"
    if hasattr(field, "words_sql"):  # a word kept as its number (records.codes; seals sit below records)
        return field.words_sql(column, postgresql=True)  # the word, as Python reads it
    if isinstance(field, models.JSONField):
        return f"COALESCE({column}::text, 'null')"  # SQL NULL and JSON null read alike through the ORM
    if isinstance(field, models.GenericIPAddressField):
        return f"textin(inet_out({column}))"  # as its output function prints it (no /32)
    if isinstance(field, models.DateTimeField):
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    return f"{column}::text"  # texts, integers and keys, booleans, decimals, UUIDs, floats


@cache
def encoding_sql(code: int, encoding: int = ENCODING) -> str:
    """SQL (PostgreSQL) for a row's bytes in encoding 2 or 3, over the source's table:
    array_to_json() of the texts escapes them as json.dumps() does and writes nulls as null."""
    table = model(code)
    quote = connection.ops.quote_name
    texts_ = [f"'{NAMES[code]}'", f"{quote('id')}::text"]
    texts_ += [_sql_text(field, quote(field.column))
               for field in map(table._meta.get_field, fields(NAMES[code], encoding))]
    return f"convert_to(array_to_json(ARRAY[{', '.join(texts_)}]::text[])::text, 'UTF8')"
