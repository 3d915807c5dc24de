"""Beat facts as the tracker writes them (tracking/services.py `_apply`), for the storage and
evidence benchmarks: one beat per 15 s of a 40-minute session, watched at 1.25×, every 7th
beat with the page hidden (nothing credited), every 50th cut for claiming more than the time
that passed; received a few milliseconds before the fact is recorded. Written with COPY, either
in the compact form of today (`beat`) or as the JSON `details` of before, from the same values."""

import datetime as dt
import json
import uuid

from learntrace.records import beat_details
from learntrace.records.codes import KIND_CODES, SOURCE_CODES

COLUMNS = ("employee_id", "course_id", "kind", "category_id", "seconds", "occurred_at", "source", "recorded_at",
           "attempt_id", "seq")
BEATS_PER_SESSION = 160


def details(g: int, recorded_at: dt.datetime) -> dict:
    beat = g % BEATS_PER_SESSION
    hidden, over = g % 7 == 0, g % 50 == 0 and g % 7 != 0
    credited = 0 if hidden else 12_000 if over else 15_000
    received_at = recorded_at - dt.timedelta(microseconds=2_000 + g % 3_000)
    return {"segments": [[beat * 15_000, beat * 15_000 + 15_000]], "reading_ms": 0, "rate": 1.25, "hidden": hidden,
            "elapsed_ms": beat * 15_000 + 15_012, "received_at": received_at.isoformat(), "played_ms": 15_000,
            "credited_ms": credited, "cut_ms": 15_000 - credited,
            "flags": ["hidden"] if hidden else ["over_wall_clock"] if over else []}


def row(g: int, *, employees: list[int], course_id: int, category_id: int, started: dt.datetime,
        compact: bool, words: bool = False) -> tuple:
    """One beat fact's values: COLUMNS, then `beat` (compact) or `details` (JSON). `kind` and `source`
    as the fact table keeps them (numbers), or as words (the layouts before records 0010)."""
    recorded_at = started + dt.timedelta(milliseconds=g)
    found = details(g, recorded_at)
    kind, source = ("video", "tracking") if words else (KIND_CODES["video"], SOURCE_CODES["tracking"])
    values = (employees[(g // BEATS_PER_SESSION) % len(employees)], course_id, kind, category_id,
              found["credited_ms"] // 1000, recorded_at, source, recorded_at,
              uuid.UUID(int=g // BEATS_PER_SESSION + 1), g % BEATS_PER_SESSION)
    if compact:
        return (*values, beat_details.compact(found, recorded_at))
    return (*values, json.dumps(found))


def copy_beats(connection, table: str, first: int, last: int, *, compact: bool, words: bool = False,
               **facts) -> None:
    """Beats number first..last into `table` in one COPY (its insert triggers fire, as for any insert)."""
    last_column = "beat" if compact else "details"
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({', '.join(COLUMNS)}, {last_column}) FROM STDIN") as copy:
        for g in range(first, last + 1):
            copy.write_row(row(g, compact=compact, words=words, **facts))
