"""Reading attendance: the list of a meeting, live counts, and patterns that look like proxy sign-in."""

import base64
import datetime as dt
import ipaddress
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.checkin import services, suspicions
from learntrace.checkin.models import PREVIOUS_CODE, Attendance, CheckInEvent, CodeGuesses, Meeting
from learntrace.checkin.services import REASONS, roster
from learntrace.org.access import subtree_q
from learntrace.org.models import Employee

SUSPICIONS_PAGE = 50  # rows of each list on a page of the suspicions page
ROOM_KEPT_SECONDS = 3600  # a meeting's room, kept while no check-in moves its count


@dataclass
class Row:
    employee: object
    attendance: Attendance | None
    checkin_closed: bool = True

    @property
    def status(self) -> str:
        """Someone not checked in is "not arrived" while they still can, "absent" only once check-in closed."""
        if self.attendance is None:
            return "absent" if self.checkin_closed else "not_arrived"
        return self.attendance.status

    @property
    def duration_seconds(self) -> int | None:
        a = self.attendance
        if a is None or a.checked_in_at is None or a.checked_out_at is None:
            return None
        return int((a.checked_out_at - a.checked_in_at).total_seconds())


def attendance_rows(meeting: Meeting, *, now: dt.datetime | None = None) -> list[Row]:
    """Everyone expected or present, present first, then by department and number. The drawn
    signatures are not read (up to 300 KB each): `has_signature` says whether there is one."""
    closed = (now or timezone.now()) >= meeting.checkin_closes_at
    attendances = {a.employee_id: a for a in without_signatures(meeting.attendances.select_related(
        "employee__department"))}
    expected = {e.pk: e for e in roster(meeting).select_related("department")}
    people = {**expected, **{pk: a.employee for pk, a in attendances.items()}}
    rows = [Row(employee, attendances.get(pk), closed) for pk, employee in people.items()]
    return sorted(rows, key=lambda r: (r.attendance is None, r.employee.department.path, r.employee.employee_no))


def without_signatures(attendances):
    return attendances.defer("signature").annotate(
        has_signature=ExpressionWrapper(~Q(signature=""), output_field=BooleanField()))


def projector_figures(meeting: Meeting, now: dt.datetime) -> dict:
    """What the projector shows every second: the counts, the latest arrivals and who of the roster is
    still missing. The roster's part (a plan's audience: 20 000 people read against the check-ins) is
    computed once and kept in the shared cache under the meeting's counts and the code's step: a
    check-in or check-out shows at the next poll, a change that moves no count (an excusal, someone
    joining the plan's audience) within one step of the code (10 s by default)."""
    present = latest_arrivals(meeting)
    counts = {"present": meeting.present_count, "checked_out": meeting.checked_out_count, "expected": 0,
              "missing": 0}
    if not has_roster(meeting):
        return {"counts": counts, "present": present, "missing": []}
    key = roster_figures_key(meeting, now)
    figures = cache.get(key)
    if figures is None:
        people = roster(meeting)
        expected, came = roster_counts(meeting, roster_people=people)
        figures = {"expected": expected, "missing": expected - came, "names": missing_names(meeting, people)}
        cache.set(key, figures, timeout=2 * meeting.rotation_seconds)
    return {"counts": {**counts, "expected": figures["expected"], "missing": figures["missing"]},
            "present": present, "missing": figures["names"]}


def roster_figures_key(meeting: Meeting, now: dt.datetime) -> str:
    # With a token of the meeting's secret and the step, not the meeting's id alone: an id used again
    # (a restored database) finds nothing, and the key is no code a scan would accept.
    step = services.step_at(meeting, now)
    return (f"checkin:roster:{meeting.pk}:{services.token(meeting, step, 'roster')}:"
            f"{meeting.present_count}:{meeting.checked_out_count}")


def latest_arrivals(meeting: Meeting, limit: int = 200) -> list[dict]:
    """The latest arrivals, read by index whatever the size of the meeting; names only (building
    400 model instances a second cost more than the queries)."""
    present = (meeting.attendances.filter(checked_in_at__isnull=False).order_by("-checked_in_at", "-pk")
               .values_list("employee__name", "status")[:limit])
    return [{"name": name, "late": status == Attendance.Status.LATE} for name, status in present]


def missing_names(meeting: Meeting, people, limit: int = 200) -> list[str]:
    """The first of the roster (`people`) without an attendance, by department and number: an
    anti-join, each looked up in the attendances by index, so the meeting is not read as a whole."""
    return list(people.exclude(Exists(_attended(meeting))).order_by("department__path", "employee_no")
                .values_list("name", flat=True)[:limit])


def projector_lists(meeting: Meeting, limit: int = 200, roster_people=None) -> dict:
    """The latest arrivals and who is still missing, read now (the projector's poll keeps the roster's
    part for a while: `projector_figures`). `roster_people`: the roster, if already read."""
    missing: list[str] = []
    if has_roster(meeting):
        missing = missing_names(meeting, roster(meeting) if roster_people is None else roster_people, limit)
    return {"present": latest_arrivals(meeting, limit), "missing": missing}


def _attended(meeting: Meeting):
    """Has the roster's person (OuterRef "pk") an attendance at the meeting?"""
    return Attendance.objects.filter(meeting=meeting, employee_id=OuterRef("pk"))


def has_roster(meeting: Meeting) -> bool:
    """Whether some people are expected (an open meeting has no roster: anyone may come)."""
    return meeting.roster == Meeting.Roster.PEOPLE or (
        meeting.roster == Meeting.Roster.PLAN and meeting.roster_plan_id is not None)


def export_headers() -> list[str]:
    return [_("employee number"), _("name"), _("department"), _("status"), _("method"), _("check-in"),
            _("check-out"), _("duration (minutes)"), _("credited (minutes)"), _("meeting starts"),
            _("meeting ends"), _("note")]


def export_rows(meeting: Meeting) -> Iterator[list]:
    """The attendance export's rows, in the order of `export_headers` (local times, without a zone,
    as spreadsheets want them)."""

    def local(moment):
        return timezone.localtime(moment).replace(tzinfo=None) if moment else None

    labels = {"absent": _("Absent"), "not_arrived": _("Not yet arrived"), **dict(Attendance.Status.choices)}
    for row in attendance_rows(meeting):
        a = row.attendance
        yield [
            row.employee.employee_no, row.employee.name, row.employee.department.name, str(labels[row.status]),
            str(a.get_method_display()) if a else "", local(a.checked_in_at) if a else None,
            local(a.checked_out_at) if a else None,
            round(row.duration_seconds / 60, 1) if row.duration_seconds is not None else None,
            round(a.credited_seconds / 60, 1) if a else 0, local(meeting.starts_at), local(meeting.ends_at),
            a.note if a else "",
        ]


def code_guesses(meeting: Meeting) -> list[CodeGuesses]:
    """Wrong typed codes at a meeting, for its organisers: the whole meeting first, then who or which
    address typed most."""
    rows = meeting.code_guesses.filter(wrong_total__gt=0).select_related("employee")
    return sorted(rows, key=lambda r: (r.scope != CodeGuesses.Scope.MEETING, -r.wrong_total, r.key))


def live_counts(meeting: Meeting, roster_people=None) -> dict:
    """Who checked in and out (kept on the meeting by the database: checkin/counts.py), and of the
    roster (`roster_people`, if already read), how many are expected and how many have not checked in."""
    expected, came = roster_counts(meeting, roster_people=roster_people)
    return {"present": meeting.present_count, "checked_out": meeting.checked_out_count, "expected": expected,
            "missing": expected - came}


def roster_counts(meeting: Meeting, people: Q | None = None, roster_people=None) -> tuple[int, int]:
    """(expected, of them checked in), of the roster's people matching `people` (a condition on
    employees): one pass over the roster joined to the meeting's check-ins (a count filtered by NOT
    EXISTS made PostgreSQL probe the attendances once per person, and two counts read the roster twice)."""
    if not has_roster(meeting):
        return 0, 0
    here = FilteredRelation("attendances", condition=Q(attendances__meeting=meeting,
                                                        attendances__checked_in_at__isnull=False))
    expected = roster(meeting) if roster_people is None else roster_people
    if people is not None:
        expected = expected.filter(people)
    found = expected.order_by().annotate(here=here).aggregate(expected=Count("pk"), came=Count("here"))
    return found["expected"], found["came"]


def suspicious(*, since: dt.datetime | None = None, people: Q | None = None, shown: int | None = None) -> dict:
    """Patterns that look like proxy sign-in, read from the check-ins flagged when they were written
    (checkin.suspicions). `people` (a condition on check-in events, e.g. a head's department
    subtrees) narrows them before anything is read: a burst is shown when one of those people is in
    it. `counts` says how many there are of each; with `shown`, each list holds only the latest few
    (a dashboard's share: the full lists are on the suspicions page), without it all of them (the
    export), latest first."""
    since = since or timezone.now() - suspicions.SPAN
    events = CheckInEvent.objects.filter(at__gte=since)
    mine = events if people is None else events.filter(people)
    refused = mine.filter(kind=CheckInEvent.Kind.REFUSED).select_related("meeting", "employee").order_by("-at", "-pk")
    windows = _burst_windows(events, people)
    bursts = sorted(windows.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
    late_codes = sorted(_late_codes(mine), key=lambda e: (e.at, e.pk), reverse=True)
    # A device's list names people of any department: only for those who read everyone.
    devices = _devices(events) if people is None else []
    counts = {"bursts": len(bursts), "late_codes": len(late_codes), "devices": len(devices)}
    if shown is None:  # read while the export is written: refused scans can be many
        refusals, counts["refusals"] = _with_reasons(refused.iterator(chunk_size=2000)), refused.count()
    else:
        refusals = list(_with_reasons(refused[:shown]))
        counts["refusals"] = len(refusals) if len(refusals) < shown else refused.count()
        bursts, late_codes, devices = bursts[:shown], late_codes[:shown], devices[:shown]
    return {"refusals": refusals, "bursts": _bursts(bursts), "late_codes": late_codes,
            "devices": _named(devices, events), "counts": counts}


def _with_reasons(refusals) -> Iterator[CheckInEvent]:
    for refusal in refusals:
        refusal.reason_text = REASONS.get(refusal.reason, refusal.reason)
        yield refusal


def _burst_windows(events, people: Q | None) -> dict:
    """Many check-ins from one address at one meeting within seconds: one phone, or one person,
    signing for many. The check-ins that closed a burst were flagged when written; the first of each
    address at a meeting ends its burst (with `people`: the first whose burst holds one of them).
    {(meeting id, address): (its last check-in's time, its first's)}."""
    closing = events.filter(kind=CheckInEvent.Kind.CHECK_IN, burst_start__isnull=False)
    if people is not None:
        closing = closing.filter(Exists(CheckInEvent.objects.filter(
            people, kind=CheckInEvent.Kind.CHECK_IN, meeting_id=OuterRef("meeting_id"), ip=OuterRef("ip"),
            at__gte=OuterRef("burst_start"), at__lte=OuterRef("at"))))
    first: dict = {}
    for meeting_id, ip, at, start in closing.values_list("meeting_id", "ip", "at", "burst_start").order_by():
        if (meeting_id, ip) not in first or at < first[(meeting_id, ip)][0]:
            first[(meeting_id, ip)] = (at, start)
    return first


def _bursts(chosen: list) -> list[dict]:
    """The check-ins of the chosen bursts, with their people, read a hundred bursts at a time."""
    bursts = []
    for part in (chosen[n:n + 100] for n in range(0, len(chosen), 100)):
        inside = Q()
        for (meeting_id, ip), (at, start) in part:
            inside |= Q(meeting_id=meeting_id, ip=ip, at__gte=start, at__lte=at)
        people = defaultdict(list)
        for event in CheckInEvent.objects.filter(inside, kind=CheckInEvent.Kind.CHECK_IN).select_related("employee") \
                .only("meeting_id", "ip", "at", "employee__name", "employee__department_id").order_by("at", "pk"):
            people[(event.meeting_id, event.ip)].append(event)
        meetings = Meeting.objects.in_bulk({meeting_id for (meeting_id, _ip), _times in part})
        for (meeting_id, ip), (at, start) in part:
            window = [e for e in people[(meeting_id, ip)] if start <= e.at <= at][-suspicions.BURST_SIZE:]
            bursts.append({"ip": ip, "meeting": meetings[meeting_id], "count": len(window), "first": window[0].at,
                           "people": [e.employee for e in window]})
    return bursts


def _late_codes(mine) -> list:
    """The code had just changed on the screen, and the scan came from another network than the
    room's (the network most check-ins of the meeting came from): what a photo of the projector
    sent to someone elsewhere looks like."""
    candidates = list(mine.filter(kind=CheckInEvent.Kind.CHECK_IN, ip__isnull=False, note=PREVIOUS_CODE)
                      .select_related("meeting", "employee").order_by("meeting_id", "at"))
    if not candidates:
        return []
    rooms = _rooms({e.meeting_id: e.meeting for e in candidates})
    return [e for e in candidates if _network(e.ip) != rooms[e.meeting_id]]


def _rooms(meetings: dict[int, Meeting]) -> dict[int, str]:
    """Each meeting's room: the network most of its check-ins came from. Counting them reads every
    check-in of the meeting (20 000 at a large one), so the answer is kept in the shared cache under
    the meeting's count of people present, which each new check-in moves: until then, the same
    check-ins give the same room."""
    keys = {pk: f"checkin:room:{pk}:{services.token(meeting, 0, 'room')}:{meeting.present_count}"
            for pk, meeting in meetings.items()}
    kept = cache.get_many(list(keys.values()))
    rooms = {pk: kept[key] for pk, key in keys.items() if key in kept}
    if len(rooms) < len(meetings):
        counted = _counted_rooms(set(meetings) - set(rooms))
        cache.set_many({keys[pk]: room for pk, room in counted.items()}, timeout=ROOM_KEPT_SECONDS)
        rooms.update(counted)
    return rooms


def _counted_rooms(meeting_ids: set[int]) -> dict[int, str]:
    at_meetings = CheckInEvent.objects.filter(kind=CheckInEvent.Kind.CHECK_IN, ip__isnull=False,
                                              meeting_id__in=meeting_ids)
    counted: dict = defaultdict(Counter)
    if connection.vendor == "postgresql":
        # The database counts per network: a few rows a meeting instead of one per address (20 000 at a
        # large meeting, each read and parsed here).
        networks = (at_meetings.values("meeting_id", network=RawSQL(_NETWORK_SQL, []))
                    .annotate(n=Count("pk"), first=Min("at")).order_by("meeting_id", "first"))
        for row in networks:
            counted[row["meeting_id"]][str(row["network"])] += row["n"]
    else:
        for row in (at_meetings.values("meeting_id", "ip").annotate(n=Count("pk"), first=Min("at"))
                    .order_by("meeting_id", "first")):
            counted[row["meeting_id"]][_network(row["ip"])] += row["n"]
    return {meeting_id: networks.most_common(1)[0][0] for meeting_id, networks in counted.items()}


def _devices(events) -> list[dict]:
    """A device that checked in several different people in the period, most people first. Only the
    devices flagged as shared when a check-in was written are counted by person."""
    used = events.filter(kind=CheckInEvent.Kind.CHECK_IN).exclude(device_id="")
    shared = used.filter(shared_device=True).values("device_id")
    return list(used.filter(device_id__in=shared).values("device_id")
                .annotate(people=Count("employee", distinct=True)).filter(people__gte=suspicions.DEVICE_PEOPLE)
                .order_by("-people", "device_id"))


def _named(devices: list[dict], events) -> list[dict]:
    """Up to ten names each, for the devices shown, in one query."""
    if not devices:
        return devices
    names: dict = defaultdict(list)
    used = events.filter(kind=CheckInEvent.Kind.CHECK_IN, device_id__in=[d["device_id"] for d in devices])
    for device_id, name in (used.values_list("device_id", "employee__name").distinct()
                            .order_by("device_id", "employee__name")):
        names[device_id].append(name)
    return [{**device, "names": names[device["device_id"]][:10]} for device in devices]


# `_network` in PostgreSQL, for an inet column: the same network, written as the same text by str()
# (grouped as a network, not as text: a quarter less of the query's time).
_NETWORK_SQL = "network(set_masklen(ip, CASE WHEN family(ip) = 4 THEN 24 ELSE 48 END))"


def _network(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to: "the same room" for this purpose."""
    if ":" not in ip:
        # A dotted IPv4 address, as the database gives it: its first three numbers (ipaddress took 0.3 ms
        # an address, and a dashboard reads one per address of every meeting in 30 days).
        return f"{ip.rsplit('.', 1)[0]}.0/24"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False))


# ---------------------------------------------------------------- the suspicions page, a page of each list

# Each list's order, latest (or most people) first, as its key's values: an event's time and id; a
# burst's last check-in, meeting and address; a device's people and id. The key of a row is these
# values in a page link; ascending tuples of them give the list's order.
SUSPICION_KEYS = {
    "bursts": ((str, int, str), lambda v: (-_moment(v[0]).timestamp(), -v[1], v[2])),
    "late_codes": ((str, int), lambda v: (-_moment(v[0]).timestamp(), -v[1])),
    "devices": ((int, str), lambda v: (-v[0], v[1])),
    "refusals": ((str, int), lambda v: (-_moment(v[0]).timestamp(), -v[1])),
}


@dataclass
class SuspicionPage:
    rows: list
    count: int
    next_key: str | None  # the key of the last row, when more follow
    previous_key: str | None  # the key of the first row, when more come before
    next_url: str = ""  # the links of the page, with the other lists' keys (set by the view)
    previous_url: str = ""


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a time without its zone")
    return moment


def suspicion_key(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def read_suspicion_key(kind: str, key: str) -> list | None:
    """The values of a key this page gave out for list `kind`; None for anything else."""
    types, order = SUSPICION_KEYS[kind]
    try:
        values = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode())
        if not (isinstance(values, list) and len(values) == len(types)
                and all(type(value) is kind_ for value, kind_ in zip(values, types, strict=True))):
            return None
        order(values)  # its time must read as one
        return values
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None


def suspicion_cursors(query) -> tuple[dict, dict, bool]:
    """The lists' keys in a page's query (`bursts_after`, `refusals_before`, …): {kind: (direction,
    values)}, the valid ones as given (for the links of the other lists), and whether one was no key
    this page gave out (that list then starts at its first page)."""
    cursors, kept, refused = {}, {}, False
    for kind in SUSPICION_KEYS:
        for direction in ("after", "before"):
            key = query.get(f"{kind}_{direction}")
            if not key or kind in cursors:
                continue
            values = read_suspicion_key(kind, key)
            if values is None:
                refused = True
                continue
            cursors[kind], kept[f"{kind}_{direction}"] = (direction, values), key
    return cursors, kept, refused


def suspicion_pages(*, paths: tuple[str, ...] | None = None, cursors: dict | None = None,
                    since: dt.datetime | None = None) -> dict:
    """A page of each list of suspicions of the last 30 days, for everyone (`paths` None) or for the
    people of the department subtrees `paths` (a head's: bursts they are in, naming only them; no
    devices, whose lists name anyone). `cursors`: {kind: ("after" or "before", the key's values)}.

    Refusals are read a page at a time from the index on kind and time. Bursts, late codes and
    devices are found over the 30 days for their counts, as the dashboard does, and the page is
    chosen from them by key: only its rows' people and meetings are read."""
    cursors = cursors or {}
    since = since or timezone.now() - suspicions.SPAN
    events = CheckInEvent.objects.filter(at__gte=since)
    people = None if paths is None else subtree_q(paths, "employee__department__path")
    mine = events if people is None else events.filter(people)

    windows = _burst_windows(events, people)
    bursts = _chosen("bursts", [[at.isoformat(), meeting_id, ip] for (meeting_id, ip), (at, _start) in windows.items()],
                     cursors.get("bursts"))
    bursts.rows = _bursts([((v[1], v[2]), windows[(v[1], v[2])]) for v in bursts.rows])
    if paths is not None:
        bursts.rows = _only_theirs(bursts.rows, paths)

    late = {e.pk: e for e in _late_codes(mine)}
    late_codes = _chosen("late_codes", [[e.at.isoformat(), e.pk] for e in late.values()], cursors.get("late_codes"))
    late_codes.rows = [late[v[1]] for v in late_codes.rows]

    pages = {"bursts": bursts, "late_codes": late_codes, "refusals": _refusal_page(
        mine.filter(kind=CheckInEvent.Kind.REFUSED), cursors.get("refusals"))}
    if paths is None:
        found = {d["device_id"]: d for d in _devices(events)}
        devices = _chosen("devices", [[d["people"], d["device_id"]] for d in found.values()], cursors.get("devices"))
        devices.rows = _named([found[v[1]] for v in devices.rows], events)
        pages["devices"] = devices
    return pages


def _chosen(kind: str, keys: list[list], cursor: tuple[str, list] | None) -> SuspicionPage:
    """The page of the rows (their keys' values) after or before the cursor's key, in the list's order."""
    order = SUSPICION_KEYS[kind][1]
    ordered = sorted(keys, key=order)
    if cursor is None:
        page = ordered[:SUSPICIONS_PAGE]
    elif cursor[0] == "after":
        page = [v for v in ordered if order(v) > order(cursor[1])][:SUSPICIONS_PAGE]
    else:
        page = [v for v in ordered if order(v) < order(cursor[1])][-SUSPICIONS_PAGE:]
    if not page:  # nothing beyond the key any more (the 30 days moved on): the first page
        return _chosen(kind, keys, None) if cursor is not None and ordered else SuspicionPage([], 0, None, None)
    more_after = order(ordered[-1]) > order(page[-1])
    more_before = order(ordered[0]) < order(page[0])
    return SuspicionPage(page, len(ordered), suspicion_key(page[-1]) if more_after else None,
                         suspicion_key(page[0]) if more_before else None)


def _refusal_page(refused, cursor: tuple[str, list] | None) -> SuspicionPage:
    """Refusals, latest first, a page at a time by (time, id) from the index on the events' kind and time."""
    def beyond(values: list, direction: str) -> Q:  # "lt": later in the list (older)
        at, pk = _moment(values[0]), values[1]
        return Q(at__lt=at) | Q(at=at, pk__lt=pk) if direction == "lt" else Q(at__gt=at) | Q(at=at, pk__gt=pk)

    rows = refused.select_related("meeting", "employee")
    if cursor is not None and cursor[0] == "before":
        page = list(rows.filter(beyond(cursor[1], "gt")).order_by("at", "pk")[:SUSPICIONS_PAGE])
        page.reverse()
    else:
        found = rows.filter(beyond(cursor[1], "lt")) if cursor is not None else rows
        page = list(found.order_by("-at", "-pk")[:SUSPICIONS_PAGE])
    if not page and cursor is not None:  # nothing beyond the key any more (the 30 days moved on)
        return _refusal_page(refused, None)
    count = refused.count()
    if not page:
        return SuspicionPage([], count, None, None)
    for refusal in page:
        refusal.reason_text = REASONS.get(refusal.reason, refusal.reason)
    first, last = ([e.at.isoformat(), e.pk] for e in (page[0], page[-1]))
    return SuspicionPage(page, count,
                         suspicion_key(last) if refused.filter(beyond(last, "lt")).exists() else None,
                         suspicion_key(first) if refused.filter(beyond(first, "gt")).exists() else None)


def _only_theirs(bursts: list[dict], paths: tuple[str, ...]) -> list[dict]:
    """A burst from one address may hold people of other departments: only the reader's are named."""
    ids = {p.pk for b in bursts for p in b["people"]}
    theirs = set(Employee.objects.filter(subtree_q(paths, "department__path"), pk__in=ids).values_list("pk", flat=True))
    return [{**b, "people": [p for p in b["people"] if p.pk in theirs]} for b in bursts]
