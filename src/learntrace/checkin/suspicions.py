"""What a check-in shows of proxy sign-in, decided once, when it is written.

A check-in that closes a burst (the fifth from one address at one meeting within 30 seconds) keeps
the moment of the burst's first check-in; a check-in on a device that another person used in the
30 days before says so. The dashboards, the suspicions page and the export then read the few
flagged check-ins of a month instead of searching all of them on every view.

The check-ins of one meeting are written one after another: the attendance's count trigger takes
the meeting's row before the event is written, until the transaction ends. So each sees every
check-in of its address written before it, and no burst is missed. A device is used across
meetings, so two people's check-ins on one device written at the same moment may each miss the
other; a third person's sees both, and the list of devices starts at three people."""

import datetime as dt
from collections import Counter, deque

from learntrace.checkin.models import CheckInEvent

BURST_WINDOW = dt.timedelta(seconds=30)
BURST_SIZE = 5
DEVICE_PEOPLE = 3  # a device is listed from this many people in the 30 days
# What the dashboards and the suspicions page look back on, and how far back a check-in looks for another
# person on its phone: the same span, so that a phone of three people in the lists' 30 days always has a
# flagged check-in among them (its latest).
SPAN = dt.timedelta(days=30)


def flags(*, meeting, employee, at: dt.datetime, ip: str | None, device_id: str) -> dict:
    """The suspicion fields of a check-in about to be written at `at`. Requests can overtake each
    other between the moment a check-in is made and the moment it is written, so check-ins made
    after `at` may be written already: those whose burst it completes are flagged now, so that the
    flags are those of the check-ins in time order whatever order they were written in."""
    found: dict = {}
    if ip:
        found.update(_burst(meeting, at, ip))
    if device_id:
        found["shared_device"] = _shared_device(employee, at, device_id)
    return found


def _shared_device(employee, at: dt.datetime, device_id: str) -> bool:
    others = CheckInEvent.objects.filter(kind=CheckInEvent.Kind.CHECK_IN, device_id=device_id) \
        .exclude(employee=employee)
    latest = others.filter(at__gte=at - SPAN).order_by("-at").values_list("at", flat=True).first()
    if latest is None or latest <= at:  # as usual, nothing made after it: one query
        return latest is not None
    others.filter(at__gt=at, at__lte=at + SPAN, shared_device=False).update(shared_device=True)
    return others.filter(at__gte=at - SPAN, at__lte=at).exists()


def _burst(meeting, at: dt.datetime, ip: str) -> dict:
    # The four check-ins of the address before it and the four after it, in time order: each burst it
    # can belong to lies among them. Ordered by time alone, so that the (meeting, address, time) index
    # gives them in order and the scan stops at the fourth, however many share the address (a hall
    # behind one NAT address: ordered by time and id, it read and sorted the whole 30 seconds). Check-ins
    # made at the same microsecond come in either order; the moment of a burst's start is the same.
    from_address = CheckInEvent.objects.filter(meeting=meeting, ip=ip, kind=CheckInEvent.Kind.CHECK_IN) \
        .values_list("pk", "at", "burst_start")
    latest = list(from_address.filter(at__gte=at - BURST_WINDOW).order_by("-at")[:BURST_SIZE - 1])
    if not latest or latest[0][1] <= at:  # as usual, none made after it: one query
        before, after = latest, []
    else:
        before = list(from_address.filter(at__gte=at - BURST_WINDOW, at__lte=at).order_by("-at")[:BURST_SIZE - 1])
        after = list(from_address.filter(at__gt=at, at__lte=at + BURST_WINDOW).order_by("at")[:BURST_SIZE - 1])
    near = [*reversed(before), (None, at, None), *after]  # after those made at the same moment: written before
    found = {}
    for n in range(len(before), len(near)):  # this check-in, then those whose burst it can close
        pk, moment, kept = near[n]
        first = near[n - BURST_SIZE + 1][1] if n >= BURST_SIZE - 1 else None
        start = first if first is not None and first >= moment - BURST_WINDOW else kept
        if pk is None:
            found = {"burst_start": start} if start else {}
        elif start != kept:
            CheckInEvent.objects.filter(pk=pk).update(burst_start=start)
    return found


def flag_all(model=CheckInEvent, batch: int = 2000) -> int:
    """Set the suspicion fields of every check-in as `flags` would have when it was written: for
    events written before the fields existed (a migration gives its historical `model`) or written
    in bulk. Reads the check-ins once per address and once per device, in time order; writes only
    the rows that change. Returns how many changed."""
    check_ins = model.objects.filter(kind=CheckInEvent.Kind.CHECK_IN)
    starts: dict[int, dt.datetime | None] = {}
    group, window = None, deque(maxlen=BURST_SIZE - 1)
    for pk, meeting_id, ip, at, kept in (check_ins.filter(ip__isnull=False).order_by("meeting_id", "ip", "at", "pk")
                                         .values_list("pk", "meeting_id", "ip", "at", "burst_start")
                                         .iterator(chunk_size=batch)):
        if group != (meeting_id, ip):
            group, window = (meeting_id, ip), deque(maxlen=BURST_SIZE - 1)
        start = window[0] if len(window) == BURST_SIZE - 1 and window[0] >= at - BURST_WINDOW else None
        window.append(at)
        if start != kept:
            starts[pk] = start

    shared: dict[int, bool] = {}
    device, recent, people = None, deque(), Counter()  # the device's check-ins of the 30 days, per person
    for pk, device_id, employee_id, at, kept in (check_ins.exclude(device_id="").order_by("device_id", "at", "pk")
                                                 .values_list("pk", "device_id", "employee_id", "at", "shared_device")
                                                 .iterator(chunk_size=batch)):
        if device != device_id:
            device, recent, people = device_id, deque(), Counter()
        while recent and recent[0][0] < at - SPAN:
            gone = recent.popleft()[1]
            people[gone] -= 1
            if not people[gone]:
                del people[gone]
        others = len(people) - (employee_id in people) > 0
        recent.append((at, employee_id))
        people[employee_id] += 1
        if others != kept:
            shared[pk] = others

    rows = [model(pk=pk, burst_start=start) for pk, start in starts.items()]
    model.objects.bulk_update(rows, ["burst_start"], batch_size=batch)
    rows = [model(pk=pk, shared_device=value) for pk, value in shared.items()]
    model.objects.bulk_update(rows, ["shared_device"], batch_size=batch)
    return len(starts.keys() | shared.keys())
