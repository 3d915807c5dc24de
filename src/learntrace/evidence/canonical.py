"""The canonical bytes that digests and signatures are taken of. Pure Python (no Django), so
that the offline verifier computes exactly what the server computed.

Three encodings of a fact exist; each seal records which one its leaves use:
1. JSON of the fact's plain values with sorted keys (the first seals);
2. a JSON array of texts: the source, the id and every field in the fixed order of FIELDS,
   each as a string (or null). Built the same way by PostgreSQL in SQL (sources.py) and by
   the functions below, so PostgreSQL hashes facts itself while SQLite and the offline
   verifier use Python;
3. encoding 2 over the fields of FIELDS_3: credited time adds `beat`, a beat's details in
   compact bytes (as lower-case hex)."""

import datetime as dt
import json
import math
import struct
from decimal import Decimal
from json.encoder import encode_basestring

GENESIS = "0" * 64
ENTRY = struct.Struct(">BQ32s")  # in a seal's list of facts: source, fact id, leaf hash
ENCODING = 3  # the encoding of new seals

# The fields of each source in the order encoding 2 lists them. Changing a list changes the
# encoding: it takes a new encoding number, recorded in the seals made with it (FIELDS_3).
FIELDS = {
    "creditedtime": ["employee_id", "course_id", "kind", "category_id", "seconds", "occurred_at", "source",
                     "recorded_at", "attempt_id", "seq", "details"],
    "completion": ["employee_id", "course_id", "completed_at", "credits", "credit_class_id", "category_id",
                   "source", "recorded_at"],
    "quizattempt": ["employee_id", "quiz_id", "number", "answers", "score", "passed", "submitted_at"],
    "checkinevent": ["meeting_id", "employee_id", "kind", "at", "scanned_at", "reason", "note", "device_id", "ip",
                     "latitude", "longitude", "actor_id"],
    "reflectionevent": ["reflection_id", "employee_id", "kind", "text_sha256", "comment", "actor_id", "at"],
    "correction": ["employee_id", "course_id", "corrects", "corrects_id", "seconds_delta", "voids", "occurred_at",
                   "reason", "actor_id", "recorded_at"],
    "outsidecredit": ["employee_id", "kind", "title", "project_number", "started_on", "ended_on", "credited_at",
                      "credits", "seconds", "credit_class_id", "category_id", "certificate_sha256",
                      "declaration_id", "actor_id", "recorded_at"],
    "examresult": ["sitting_id", "employee_id", "exam_id", "number", "answers", "points", "max_points", "score",
                   "passed", "ending", "hidden_count", "started_at", "submitted_at", "recorded_at"],
    "certificate": ["kind_id", "employee_id", "code", "title", "exam_result_id", "assignment_id", "issued_at",
                    "expires_at", "recorded_at"],
    "revocation": ["certificate_id", "employee_id", "reason", "actor_id", "revoked_at", "recorded_at"],
}

# Encoding 3: a beat's details moved from the JSON `details` (now null for such a beat) to `beat`.
FIELDS_3 = FIELDS | {"creditedtime": [*FIELDS["creditedtime"], "beat"]}


def fields(source: str, encoding: int) -> list[str]:
    """The fields a fact of `source` lists in `encoding` (1 and 2: FIELDS)."""
    return (FIELDS_3 if encoding >= 3 else FIELDS)[source]


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fact_bytes(body: dict) -> bytes:
    """Encoding 1: a fact as {"source": name, "id": id, field: plain value, ...}, canonical JSON."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def fact_texts_bytes(texts: list) -> bytes:
    """Encodings 2 and 3: [source name, id, field texts...] as compact JSON, UTF-8. Strings are escaped
    as PostgreSQL's to_json() escapes them (", \\, \\b \\f \\n \\r \\t, other controls as \\u00xx)."""
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":")).encode()


def moment_text(moment: dt.datetime) -> str:
    """A time in UTC with microseconds, as to_char(… 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')."""
    m = moment.astimezone(dt.UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
            f"{m.microsecond:06d}Z")


def float_text(value: float) -> str:
    """A float as PostgreSQL prints a double precision: the shortest digits that read back to
    the same number, plain from 1e-4 up to below 1e15, otherwise d.ddde±XX."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    minus = "-" if sign else ""
    if digits == [0]:
        return minus + "0"
    text = "".join(map(str, digits))
    magnitude = len(digits) + exponent - 1  # the power of ten of the first digit
    if -4 <= magnitude < 15:
        if exponent >= 0:
            return minus + text + "0" * exponent
        point = len(text) + exponent
        return minus + (text[:point] + "." + text[point:] if point > 0 else "0." + "0" * -point + text)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{minus}{mantissa}e{'-' if magnitude < 0 else '+'}{abs(magnitude):02d}"


def value_text(value) -> str | None:
    """The text of one field's value in encodings 2 and 3 (JSON fields use json_text)."""
    if value is None:
        return None
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()  # as PostgreSQL's encode(…, 'hex')
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, dt.datetime):
        return moment_text(value)
    return str(value)  # int, Decimal (at the column's scale), UUID, str


def _number_text(value: float) -> str:
    """A JSON number as PostgreSQL's jsonb keeps and prints it (numeric: no exponent)."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = format(Decimal(repr(value)), "f")
    return text[1:] if text.startswith("-") and not value else text  # numeric has no negative zero


def json_text(value) -> str:
    """A JSON value as PostgreSQL prints a jsonb: object keys by length then bytes, ", " and
    ": " between items, numbers in plain notation."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return "{" + ", ".join(f"{encode_basestring(key)}: {json_text(value[key])}" for key in keys) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def seal_header(*, number: int, created_at: str, fact_count: int, root: str, previous_hash: str,
                key_id: str, encoding: int = 1, drained: bool = False, archive: dict | None = None) -> bytes:
    """What a seal's hash is taken of (and so what its signature covers); created_at as utc().
    Seals of encoding 1 did not record their encoding nor whether they drained the queue. A link
    that records an archive (no facts of its own) carries what was archived in `archive`."""
    header = {"number": number, "created_at": created_at, "fact_count": fact_count, "root": root,
              "previous_hash": previous_hash, "key_id": key_id}
    if encoding != 1:
        header.update(encoding=encoding, drained=drained)
    if archive is not None:
        header["archive"] = archive
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
