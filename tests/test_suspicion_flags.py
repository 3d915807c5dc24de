"""Check-ins flagged for the suspicions they show when they are written (checkin.suspicions), the
same flags drawn again for check-ins written in bulk, and an export that lists every suspicion."""

import csv
import datetime as dt
import io
import random
import threading

import pytest
import time_machine
from django.db import connections
from django.urls import reverse

from conftest import make_employee
from learntrace.checkin.models import CheckInEvent, Meeting
from learntrace.checkin.suspicions import flag_all
from learntrace.reports.selectors import Scope, anomalies
from test_checkin import check_in
from test_checkin_at_scale import START, check_in_event

LATER = START + dt.timedelta(days=1)


def open_meeting(catalog, title="Ward rounds", start=START):
    return Meeting.objects.create(course=catalog.meeting, title=title, starts_at=start,
                                  ends_at=start + dt.timedelta(hours=2), roster=Meeting.Roster.OPEN)


def flags_of(meeting) -> list:
    return list(CheckInEvent.objects.filter(meeting=meeting).order_by("at", "pk")
                .values_list("employee__name", "burst_start", "shared_device"))


def test_the_fifth_check_in_from_one_address_within_thirty_seconds_is_flagged_when_written(org, catalog):
    meeting, elsewhere = open_meeting(catalog), open_meeting(catalog, "Night shift handover")
    nurses = [make_employee(f"N{n}", f"Nurse {n}", org.b) for n in range(7)]
    moments = [START + dt.timedelta(seconds=s) for s in (0, 6, 12, 18, 24, 29, 120)]
    check_in(elsewhere, nurses[6], START + dt.timedelta(seconds=20), ip="10.0.0.7")  # another meeting's
    for nurse, moment in zip(nurses, moments, strict=True):
        check_in(meeting, nurse, moment, ip="10.0.0.7")
    check_in(meeting, org.learner, START + dt.timedelta(seconds=25), ip="10.0.0.8")  # another address
    flagged = {name: start for name, start, _shared in flags_of(meeting)}
    # The fifth closes a burst begun by the first; the sixth one begun by the second (within 30 s of
    # it); the seventh, 91 s after the third before it, closes none.
    assert flagged == {"Nurse 0": None, "Nurse 1": None, "Nurse 2": None, "Nurse 3": None,
                       "Nurse 4": moments[0], "Nurse 5": moments[1], "Nurse 6": None, org.learner.name: None}


def test_a_device_another_person_used_in_the_thirty_days_before_is_flagged(org, catalog):
    first, second = open_meeting(catalog), open_meeting(catalog, "Grand rounds", START + dt.timedelta(days=10))
    third = open_meeting(catalog, "Journal club", START + dt.timedelta(days=45))
    check_in(first, org.learner, START, device_id="phone-1")
    check_in(second, org.head, START + dt.timedelta(days=10), device_id="phone-1")
    check_in(second, org.learner, START + dt.timedelta(days=10, minutes=1), device_id="phone-2")
    check_in(third, org.learner, START + dt.timedelta(days=45), device_id="phone-1")  # the head's was 35 days ago
    assert [shared for _name, _start, shared in flags_of(first) + flags_of(second) + flags_of(third)] == \
        [False, True, False, False]


def test_drawing_the_flags_again_gives_those_the_check_ins_were_written_with(org, catalog):
    meetings = [open_meeting(catalog), open_meeting(catalog, "Grand rounds", START + dt.timedelta(days=20))]
    people = [make_employee(f"P{n}", f"Person {n}", org.b) for n in range(6)]
    chance = random.Random(7)
    moment = START
    for _group in range(80):  # runs of check-ins from one address, a few seconds to days apart
        meeting, ip = chance.choice(meetings), chance.choice(["10.0.0.1", "10.0.0.2", "2001:db8::1", None])
        for _n in range(chance.randint(1, 8)):
            moment += dt.timedelta(seconds=chance.choice([0, 1, 3, 8, 20, 3600 * 24 * 9]))
            check_in_event(meeting=meeting, employee=chance.choice(people), at=moment, ip=ip,
                           device_id=chance.choice(["", "phone-a", "phone-b", "phone-c"]))
    written = list(CheckInEvent.objects.order_by("pk").values_list("pk", "burst_start", "shared_device"))
    assert any(start for _pk, start, _shared in written) and any(shared for _pk, _start, shared in written)
    assert any(not shared for _pk, _start, shared in written)

    assert flag_all() == 0  # nothing to change
    CheckInEvent.objects.update(burst_start=None, shared_device=False)
    changed = flag_all(batch=50)
    assert changed == sum(1 for _pk, start, shared in written if start or shared)
    assert list(CheckInEvent.objects.order_by("pk").values_list("pk", "burst_start", "shared_device")) == written


def test_the_export_lists_every_suspicion(org, catalog, client_for):
    meeting = open_meeting(catalog)
    people = [make_employee(f"P{n}", f"Person {n}", org.b) for n in range(5)]
    CheckInEvent.objects.bulk_create([
        CheckInEvent(meeting=meeting, employee=org.learner, kind=CheckInEvent.Kind.REFUSED,
                     at=START + dt.timedelta(seconds=n), reason="device_used") for n in range(320)])
    CheckInEvent.objects.bulk_create([
        CheckInEvent(meeting=meeting, employee=person, kind=CheckInEvent.Kind.CHECK_IN, ip=f"10.7.0.{a}",
                     at=START + dt.timedelta(seconds=a * 60 + n))
        for a in range(130) for n, person in enumerate(people)])
    flag_all()  # written in bulk: flagged as the check-in service would have
    with time_machine.travel(LATER, tick=False):
        response = client_for(org.admin).get(reverse("reports:export", args=["anomalies", "csv"]))
        content = b"".join(response.streaming_content).decode("utf-8-sig")  # the rows are read as it streams
    rows = list(csv.reader(io.StringIO(content)))[1:]
    kinds = [row[0] for row in rows]
    assert kinds.count("refused check-in") == 320
    assert kinds.count("burst from one address") == 130
    bursts = [row for row in rows if row[0] == "burst from one address"]
    assert bursts[0][4] == "10.7.0.129 × 5" and bursts[-1][4] == "10.7.0.0 × 5"  # latest first
    assert all(row[3] == ", ".join(p.name for p in people) for row in bursts)


def test_a_meetings_room_is_counted_again_when_a_check_in_moves_its_count(org, catalog):
    meeting, everyone = open_meeting(catalog), Scope(everyone=True)
    for n, person in enumerate(make_employee(f"R{n}", f"In the room {n}", org.b) for n in range(3)):
        check_in(meeting, person, START + dt.timedelta(seconds=n), ip=f"10.1.2.{n + 10}")
    check_in(meeting, org.head, START + dt.timedelta(seconds=60), ip="183.3.4.5", previous_code=True)
    with time_machine.travel(LATER, tick=False):
        assert [e.employee for e in anomalies(everyone)["late_codes"]] == [org.head]
        assert [e.employee for e in anomalies(everyone)["late_codes"]] == [org.head]  # the room as kept
    # Most of the ward came in from the head's network after all: that is the room now.
    for n, person in enumerate(make_employee(f"W{n}", f"Ward {n}", org.b) for n in range(4)):
        check_in(meeting, person, START + dt.timedelta(seconds=90 + 40 * n), ip=f"183.3.4.{n + 20}")
    with time_machine.travel(LATER, tick=False):
        assert anomalies(everyone)["late_codes"] == []


def test_check_ins_written_out_of_the_order_they_were_made_in_are_flagged_in_time_order(org, catalog):
    # Requests overtake each other between the scan and the write: the flags are those of the time order.
    meeting = open_meeting(catalog)
    people = [make_employee(f"P{n}", f"Person {n}", org.b) for n in range(6)]
    chance = random.Random(11)
    made, moment = [], START
    for _n in range(200):
        moment += dt.timedelta(seconds=chance.choice([0, 1, 3, 8, 20, 3600 * 24 * 9]))
        made.append((chance.choice(people), moment, chance.choice(["10.0.0.1", "10.0.0.2"]),
                     chance.choice(["", "phone-a", "phone-b"])))
    written = made[:]
    for n in range(0, len(written), 6):  # each six made close together written in another order
        part = written[n:n + 6]
        chance.shuffle(part)
        written[n:n + 6] = part
    for person, at, ip, device_id in written:
        check_in_event(meeting=meeting, employee=person, at=at, ip=ip, device_id=device_id)
    flagged = list(CheckInEvent.objects.order_by("pk").values_list("pk", "burst_start", "shared_device"))
    assert any(start for _pk, start, _shared in flagged) and any(shared for _pk, _start, shared in flagged)
    assert flag_all() == 0  # as if they had been written in time order


def test_a_check_in_written_late_flags_the_later_ones_on_its_device(org, catalog):
    first, second = open_meeting(catalog), open_meeting(catalog, "Grand rounds", START + dt.timedelta(days=10))
    check_in_event(meeting=second, employee=org.head, at=START + dt.timedelta(days=10), device_id="phone-1")
    check_in_event(meeting=first, employee=org.learner, at=START, device_id="phone-1")  # made first, written last
    assert [shared for _name, _start, shared in flags_of(first) + flags_of(second)] == [False, True]


@pytest.mark.django_db(transaction=True)
def test_check_ins_from_one_address_written_at_once_close_their_burst(org, catalog):
    meeting = open_meeting(catalog)
    people = [make_employee(f"N{n}", f"Nurse {n}", org.b) for n in range(8)]
    start = threading.Barrier(len(people))
    failures = []

    def scan(n, person):
        try:
            start.wait()
            made = START + dt.timedelta(seconds=2 * (7 - n))  # the last started made first
            check_in(meeting, person, made, ip="10.0.0.7", device_id=f"phone-{n}")
        except Exception as failure:  # noqa: BLE001 (reported by the assertion below)
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan, args=(n, person)) for n, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    in_time = list(CheckInEvent.objects.order_by("at", "pk").values_list("at", "burst_start"))
    # In time order, the fifth to the eighth each close a burst begun four check-ins before them.
    assert [start for _at, start in in_time] == [None] * 4 + [at for at, _start in in_time[:4]]
    assert flag_all() == 0
