"""A tracked beat's details in a few bytes (`CreditedTime.beat`), instead of a JSON object that
repeats its key names in every row (docs/evidence.md, *A beat's details*).

Pure Python, so that anyone holding a sealed fact can read it back. The bytes:

1. the form, 1;
2. a bit set (varint): 0 hidden, 1 the attention fields are present, 2 active, 3 the fact
   answers a question (`check`), 4 the rate is an 8-byte double (otherwise whole thousandths),
   then one bit per flag of FLAGS, in that order (the order the tracker raises them in);
3. the number of segments, then per segment its start minus the previous segment's end (the
   first: minus 0) and its end minus its start;
4. reading_ms; the rate (thousandths, or the double, big-endian); elapsed_ms; recorded_at minus
   received_at in microseconds; played_ms; credited_ms; cut_ms; with bit 1: held_ms and
   attention_cut_ms; with bit 3: check.

Every integer is a zigzag varint (LEB128 of 2n, or of -2n-1 below zero). received_at is the
server's time in UTC, so it is kept as its distance from recorded_at, set by the same server a
moment later: a few bytes. `compact()` gives None for details these bytes cannot give back
exactly (the caller then keeps the JSON)."""

import datetime as dt
import struct

FORM = 1
# Flags in the order the tracker appends them (tracking/services.py): a bit set keeps the order.
FLAGS = ("rate_above_2x", "question_pending", "hidden", "beat_too_long", "over_wall_clock", "another_window",
         "idle")
_HIDDEN, _ATTENTION, _ACTIVE, _CHECK, _DOUBLE_RATE = 1, 2, 4, 8, 16
_FLAG_BIT = {flag: 32 << index for index, flag in enumerate(FLAGS)}
_DOUBLE = struct.Struct(">d")
_KEYS = {"segments", "reading_ms", "rate", "hidden", "elapsed_ms", "received_at", "played_ms", "credited_ms",
         "cut_ms", "flags"}
_ATTENTION_KEYS = {"active", "held_ms", "attention_cut_ms"}


def _varint(value: int, out: bytearray) -> None:
    number = value * 2 if value >= 0 else -value * 2 - 1
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def varint(self) -> int:
        number = shift = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            number |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return number // 2 if number % 2 == 0 else -(number + 1) // 2

    def double(self) -> float:
        (value,) = _DOUBLE.unpack_from(self.data, self.at)
        self.at += _DOUBLE.size
        return value


def _encode(details: dict, recorded_at: dt.datetime) -> bytes:
    attention = "active" in details
    rate = details["rate"]
    thousandths = round(rate * 1000)
    whole_thousandths = thousandths / 1000 == rate
    bits = ((_HIDDEN if details["hidden"] else 0) | (_ATTENTION if attention else 0)
            | (_ACTIVE if attention and details["active"] else 0) | (_CHECK if "check" in details else 0)
            | (0 if whole_thousandths else _DOUBLE_RATE))
    for flag in details["flags"]:
        bits |= _FLAG_BIT[flag]
    out = bytearray([FORM])
    _varint(bits, out)
    _varint(len(details["segments"]), out)
    previous_end = 0
    for start, end in details["segments"]:
        _varint(start - previous_end, out)
        _varint(end - start, out)
        previous_end = end
    _varint(details["reading_ms"], out)
    if whole_thousandths:
        _varint(thousandths, out)
    else:
        out += _DOUBLE.pack(rate)
    _varint(details["elapsed_ms"], out)
    received_at = dt.datetime.fromisoformat(details["received_at"])
    _varint((recorded_at - received_at) // dt.timedelta(microseconds=1), out)
    for key in ("played_ms", "credited_ms", "cut_ms"):
        _varint(details[key], out)
    if attention:
        _varint(details["held_ms"], out)
        _varint(details["attention_cut_ms"], out)
    if "check" in details:
        _varint(details["check"], out)
    return bytes(out)


def details(data: bytes, recorded_at: dt.datetime) -> dict:
    """The details dict that `data` keeps, as the tracker built it."""
    data = bytes(data)
    if not data or data[0] != FORM:
        raise ValueError(f"not a beat's details of form {FORM}")
    read = _Reader(data)
    read.at = 1
    bits = read.varint()
    segments, previous_end = [], 0
    for _segment in range(read.varint()):
        start = previous_end + read.varint()
        previous_end = start + read.varint()
        segments.append([start, previous_end])
    found = {"segments": segments, "reading_ms": read.varint()}
    found["rate"] = read.double() if bits & _DOUBLE_RATE else read.varint() / 1000
    found["hidden"] = bool(bits & _HIDDEN)
    found["elapsed_ms"] = read.varint()
    received_at = recorded_at.astimezone(dt.UTC) - dt.timedelta(microseconds=read.varint())
    found["received_at"] = received_at.isoformat()
    found |= {"played_ms": read.varint(), "credited_ms": read.varint(), "cut_ms": read.varint(),
              "flags": [flag for flag in FLAGS if bits & _FLAG_BIT[flag]]}
    if bits & _ATTENTION:
        found |= {"active": bool(bits & _ACTIVE), "held_ms": read.varint(), "attention_cut_ms": read.varint()}
    if bits & _CHECK:
        found["check"] = read.varint()
    if read.at != len(data):
        raise ValueError("bytes left after a beat's details")
    return found


def _same(one, other) -> bool:
    """Equal with the same types all the way down (1, 1.0 and True are three values here)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(_same(value, other[key]) for key, value in one.items())
    if isinstance(one, list):
        return len(one) == len(other) and all(map(_same, one, other))
    return one == other


def compact(details_: dict, recorded_at: dt.datetime) -> bytes | None:
    """The bytes of a beat's details, or None when they would not give back exactly these details
    (other keys, a time not in UTC, a value of another type): those are kept as JSON."""
    keys = set(details_)
    if not (_KEYS <= keys <= _KEYS | _ATTENTION_KEYS | {"check"}) or (keys & _ATTENTION_KEYS
                                                                        not in (set(), _ATTENTION_KEYS)):
        return None
    try:
        data = _encode(details_, recorded_at)
        return data if _same(details(data, recorded_at), details_) else None
    except (KeyError, TypeError, ValueError, OverflowError, IndexError):
        return None


def of_fact(stored_json, data, recorded_at: dt.datetime) -> dict:
    """A fact's details from its two columns as read (`details`, `beat`), whichever holds them."""
    return details(data, recorded_at) if data is not None else stored_json
