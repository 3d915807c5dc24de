"""A beat's details in compact bytes (records/beat_details.py): fixed reference bytes, since sealed
facts hash them, and every kind of beat the tracker writes given back exactly. No database."""

import datetime as dt

import pytest

from learntrace.records import beat_details

RECEIVED = dt.datetime(2026, 3, 10, 9, 0, 31, 4000, tzinfo=dt.UTC)
RECORDED = RECEIVED + dt.timedelta(microseconds=1234)


def beat(**changes) -> dict:
    details = {"segments": [[15_000, 30_000]], "reading_ms": 0, "rate": 1.25, "hidden": False, "elapsed_ms": 31_000,
               "received_at": RECEIVED.isoformat(), "played_ms": 15_000, "credited_ms": 15_000, "cut_ms": 0,
               "flags": []}
    return details | changes


def test_a_video_beat_takes_24_bytes_where_its_json_took_about_300():
    data = beat_details.compact(beat(), RECORDED)
    # form 1, no bits, 1 segment: 15 000 after 0, 15 000 long; reading 0; rate 1 250 thousandths;
    # elapsed 31 000; received 1 234 µs before recorded; played, credited 15 000; cut 0 (zigzag varints)
    assert data.hex(" ") == "01 00 02 b0 ea 01 b0 ea 01 00 c4 13 b0 e4 03 a4 13 b0 ea 01 b0 ea 01 00"
    assert beat_details.details(data, RECORDED) == beat()
    assert beat_details.details(data, RECORDED)["received_at"] == "2026-03-10T09:00:31.004000+00:00"


def test_flags_keep_the_order_the_tracker_raises_them_in():
    flags = ["rate_above_2x", "question_pending", "over_wall_clock", "another_window", "idle"]
    data = beat_details.compact(beat(rate=3.0, flags=flags), RECORDED)
    assert data[1:3].hex() == "c039"  # bits 5, 6, 9, 10, 11: 32+64+512+1024+2048 = 3680, zigzag 7360
    assert beat_details.details(data, RECORDED)["flags"] == flags
    assert beat_details.details(beat_details.compact(beat(flags=["hidden"], hidden=True), RECORDED),
                                RECORDED)["flags"] == ["hidden"]


@pytest.mark.parametrize("details", [
    beat(active=True, held_ms=15_000, attention_cut_ms=0, credited_ms=0),  # an attention check's fields
    beat(active=False, held_ms=0, attention_cut_ms=7_500, flags=["idle"]),
    beat(segments=[], played_ms=0, credited_ms=60_000, elapsed_ms=0, rate=1.0, check=41),  # a right answer's fact
    beat(segments=[], reading_ms=14_999, played_ms=14_999, credited_ms=14_999),  # a document
    beat(segments=[[60_000, 75_000], [0, 1_000], [5, 5], [3_600_000, 3_599_000]], played_ms=15_000),  # any order
    beat(rate=1 / 3),  # not in thousandths: kept as a double
    beat(rate=0.0625, hidden=True, flags=["hidden"], credited_ms=0, cut_ms=15_000),
    beat(received_at=(RECORDED + dt.timedelta(days=40)).isoformat()),  # a test's clock: far from recorded_at
    beat(received_at=RECORDED.replace(microsecond=0).isoformat()),  # isoformat leaves out zero microseconds
])
def test_every_kind_of_beat_is_given_back_exactly(details):
    data = beat_details.compact(details, RECORDED)
    assert data is not None and len(data) < 40
    assert beat_details.details(data, RECORDED) == details
    assert beat_details.of_fact(None, memoryview(data), RECORDED) == details  # as PostgreSQL's driver reads it


def test_a_rate_outside_thousandths_is_an_8_byte_double():
    assert len(beat_details.compact(beat(rate=1 / 3), RECORDED)) == 24 - 2 + 8
    assert beat_details.details(beat_details.compact(beat(rate=1 / 3), RECORDED), RECORDED)["rate"] == 1 / 3


@pytest.mark.parametrize("details", [
    beat(note="x"),  # a key the form does not have
    beat(active=True),  # the attention fields come together
    beat(rate=1),  # an integer rate would come back as 1.0
    beat(hidden=0),
    beat(received_at=RECEIVED.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()),  # not UTC
    beat(flags=["unknown"]),
    beat(segments=[[0.5, 1]]),
    {"key": "import-1", "note": "paper sheet", "file": "a.csv"},  # an imported fact's details
])
def test_details_it_cannot_give_back_exactly_stay_json(details):
    assert beat_details.compact(details, RECORDED) is None


def test_bytes_of_another_form_or_with_bytes_left_are_refused():
    data = beat_details.compact(beat(), RECORDED)
    with pytest.raises(ValueError, match="not a beat's details of form 1"):
        beat_details.details(b"\x02" + data[1:], RECORDED)
    with pytest.raises(ValueError, match="bytes left"):
        beat_details.details(data + b"\x00", RECORDED)
    assert beat_details.of_fact({"note": "kept"}, None, RECORDED) == {"note": "kept"}
