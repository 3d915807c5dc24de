"""The canonical bytes that digests and signatures are taken of. Pure Python (no Django), so
that the offline verifier computes exactly what the server computed."""

import datetime as dt
import json
import struct

GENESIS = "0" * 64
ENTRY = struct.Struct(">BQ32s")  # in a seal's list of facts: source, fact id, leaf hash


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fact_bytes(body: dict) -> bytes:
    """A fact as {"source": name, "id": id, field: plain value, ...}, encoded canonically."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def seal_header(*, number: int, created_at: str, fact_count: int, root: str, previous_hash: str,
                key_id: str) -> bytes:
    """What a seal's hash is taken of (and so what its signature covers); created_at as utc()."""
    return json.dumps({"number": number, "created_at": created_at, "fact_count": fact_count, "root": root,
                       "previous_hash": previous_hash, "key_id": key_id},
                      sort_keys=True, separators=(",", ":")).encode()
