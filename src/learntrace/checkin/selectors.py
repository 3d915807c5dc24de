"""Reading attendance: the list of a meeting, live counts, and patterns that look like proxy sign-in."""

import datetime as dt
import ipaddress
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.checkin.models import Attendance, CheckInEvent, CodeGuesses, Meeting
from learntrace.checkin.services import PREVIOUS_CODE, REASONS, roster

BURST_WINDOW = dt.timedelta(seconds=30)
BURST_SIZE = 5
DEVICE_PEOPLE = 3


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
    """Everyone expected or present, present first, then by department and number."""
    closed = (now or timezone.now()) >= meeting.checkin_closes_at
    attendances = {a.employee_id: a for a in meeting.attendances.select_related("employee__department")}
    expected = {e.pk: e for e in roster(meeting).select_related("department")}
    people = {**expected, **{pk: a.employee for pk, a in attendances.items()}}
    rows = [Row(employee, attendances.get(pk), closed) for pk, employee in people.items()]
    return sorted(rows, key=lambda r: (r.attendance is None, r.employee.department.path, r.employee.employee_no))


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


def live_counts(meeting: Meeting) -> dict:
    present = meeting.attendances.filter(checked_in_at__isnull=False).count()
    out = meeting.attendances.filter(checked_out_at__isnull=False).count()
    expected = roster(meeting).count()
    return {"present": present, "checked_out": out, "expected": expected,
            "missing": max(expected - meeting.attendances.filter(
                checked_in_at__isnull=False, employee__in=roster(meeting)).count(), 0) if expected else 0}


def suspicious(*, since: dt.datetime | None = None, meetings=None) -> dict:
    since = since or timezone.now() - dt.timedelta(days=30)
    events = CheckInEvent.objects.filter(at__gte=since)
    if meetings is not None:
        events = events.filter(meeting__in=meetings)
    refusals = list(events.filter(kind=CheckInEvent.Kind.REFUSED).select_related("meeting", "employee")[:300])
    for refusal in refusals:
        refusal.reason_text = REASONS.get(refusal.reason, refusal.reason)

    # Many check-ins from one address within seconds: one phone, or one person, signing for many.
    bursts = []
    by_ip = defaultdict(list)
    for event in events.filter(kind=CheckInEvent.Kind.CHECK_IN, ip__isnull=False).select_related(
            "meeting", "employee").order_by("ip", "at")[:20_000]:
        by_ip[(event.meeting_id, event.ip)].append(event)
    for (_meeting_id, ip), items in by_ip.items():
        start = 0
        for end in range(len(items)):
            while items[end].at - items[start].at > BURST_WINDOW:
                start += 1
            if end - start + 1 >= BURST_SIZE:
                window = items[start:end + 1]
                bursts.append({"ip": ip, "meeting": window[0].meeting, "count": len(window),
                               "first": window[0].at, "people": [e.employee for e in window]})
                break

    # The code had just changed on the screen, and the scan came from another network than the
    # room's: what a photo of the projector sent to someone elsewhere looks like.
    late_codes = []
    check_ins = list(events.filter(kind=CheckInEvent.Kind.CHECK_IN, ip__isnull=False)
                     .select_related("meeting", "employee").order_by("meeting_id", "at")[:20_000])
    by_meeting = defaultdict(list)
    for event in check_ins:
        by_meeting[event.meeting_id].append(event)
    for items in by_meeting.values():
        networks = Counter(_network(e.ip) for e in items)
        room = networks.most_common(1)[0][0]
        late_codes += [e for e in items if e.note == PREVIOUS_CODE and _network(e.ip) != room]

    # A device that has checked in several different people, across meetings.
    devices = list(Attendance.objects.exclude(device_id="").values("device_id")
                   .annotate(people=Count("employee", distinct=True)).filter(people__gte=DEVICE_PEOPLE)
                   .order_by("-people")[:100])
    for device in devices:
        device["names"] = list(Attendance.objects.filter(device_id=device["device_id"])
                               .values_list("employee__name", flat=True).distinct()[:10])
    return {"refusals": refusals, "bursts": bursts, "devices": devices, "late_codes": late_codes[:300]}


def _network(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to: "the same room" for this purpose."""
    address = ipaddress.ip_address(ip)
    return str(ipaddress.ip_network(f"{ip}/{24 if address.version == 4 else 48}", strict=False))
