"""Check-in by rotating QR code, with the rules that stop signing in for someone else.

The code on the projector is an HMAC of the meeting's secret and the time step
(a new one every `rotation_seconds`); the current and the previous step are accepted.
A scan is judged at the moment it is made, and that moment is kept in a ticket that only
the scanning browser can use, once, after a login if the learner must log in first (so a
slow login does not fail a valid scan, and a forwarded link checks no one in).
Every check-in, refusal and manual correction is an append-only `CheckInEvent`."""

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import math
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from learntrace.checkin import suspicions
from learntrace.checkin.models import PREVIOUS_CODE, Attendance, CheckInEvent, Meeting, ScanTicket
from learntrace.checkin.signals import attendance_recorded
from learntrace.core.audit import record_change
from learntrace.plans.audience import audience
from learntrace.records.models import Source
from learntrace.records.services import record_credited_time

IN, OUT = "in", "out"
TICKET_MAX_AGE = 10 * 60  # a scan must be confirmed within ten minutes (time enough to log in)
TICKET_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): the ticket's key, the browser's secret
MAX_SIGNATURE_BYTES = 300_000
SIGNATURE_PREFIX = "data:image/png;base64,"
TOKEN = re.compile(r"[a-z2-7]{16}")  # lower-case base32, as `token` writes it
SHORT_CODE = re.compile(r"[0-9]{6}")

REASONS = {
    "invalid": gettext_lazy("This is not a valid check-in code."),
    "expired": gettext_lazy("This code has expired: scan the code on the screen again."),
    "stale_scan": gettext_lazy("The scan is too old: scan the code on the screen again."),
    "not_open": gettext_lazy("Check-in for this meeting is not open yet."),
    "closed": gettext_lazy("Check-in for this meeting has closed."),
    "not_on_roster": gettext_lazy("You are not on the list of this meeting."),
    "wrong_network": gettext_lazy("Check in from the network of the meeting room."),
    "location_needed": gettext_lazy("This meeting needs your location: allow the browser to share it and try again."),
    "outside_geofence": gettext_lazy("You are too far from the meeting's location."),
    "device_used": gettext_lazy("This phone has already checked in someone else for this meeting."),
    "signature_needed": gettext_lazy("Sign with your finger first."),
    "not_checked_in": gettext_lazy("You cannot check out: you have not checked in."),
    "other_browser": gettext_lazy("This check-in link belongs to the phone that scanned the code: a link sent on "
                                  "by someone else does not check you in. Scan the code on the screen yourself."),
    "ticket_used": gettext_lazy("This scan has already been used: scan the code on the screen again."),
    "code_locked": gettext_lazy("Too many wrong codes typed: typing a code was locked for a while."),
    "meeting_code_locked": gettext_lazy("Too many wrong codes typed at this meeting: typing a code was locked "
                                        "for everyone for a while."),
}

# A lockout says for how long (the list of refusals above says only what happened).
LOCKED = {
    "code_locked": lambda minutes: ngettext(
        "Too many wrong codes: you can type a code again in %(minutes)d minute. Meanwhile, scan the QR code, "
        "or ask the organiser to check you in.",
        "Too many wrong codes: you can type a code again in %(minutes)d minutes. Meanwhile, scan the QR code, "
        "or ask the organiser to check you in.", minutes),
    "meeting_code_locked": lambda minutes: ngettext(
        "Too many wrong codes have been typed at this meeting: typing a code works again in %(minutes)d minute. "
        "Meanwhile, scan the QR code, or ask the organiser to check you in.",
        "Too many wrong codes have been typed at this meeting: typing a code works again in %(minutes)d "
        "minutes. Meanwhile, scan the QR code, or ask the organiser to check you in.", minutes),
}


class CheckInRefused(Exception):
    """A refused check-in; `meeting` and `scanned_at` when known (a ticket's refusal is logged with them)."""

    def __init__(self, reason: str, *, meeting: Meeting | None = None, scanned_at: dt.datetime | None = None,
                 until: dt.datetime | None = None):
        super().__init__(reason)
        self.reason, self.meeting, self.scanned_at, self.until = reason, meeting, scanned_at, until

    @property
    def message(self) -> str:
        if self.until is not None and self.reason in LOCKED:
            minutes = max(math.ceil((self.until - timezone.now()).total_seconds() / 60), 1)
            return LOCKED[self.reason](minutes) % {"minutes": minutes}
        return str(REASONS[self.reason])


# ---------------------------------------------------------------- the rotating code


def step_at(meeting: Meeting, moment: dt.datetime) -> int:
    return int(moment.timestamp()) // meeting.rotation_seconds


def _digest(meeting: Meeting, step: int, mode: str) -> bytes:
    return hmac.new(meeting.secret.encode(), f"{meeting.pk}:{mode}:{step}".encode(), hashlib.sha256).digest()


def token(meeting: Meeting, step: int, mode: str = IN) -> str:
    """What the QR code's URL carries: 16 base32 characters (80 bits)."""
    return base64.b32encode(_digest(meeting, step, mode)[:10]).decode().lower()


def short_code(meeting: Meeting, step: int, mode: str = IN) -> str:
    """Six digits to type when a camera fails (like a TOTP code)."""
    return f"{int.from_bytes(_digest(meeting, step, mode)[10:14], 'big') % 1_000_000:06d}"


def current_codes(meeting: Meeting, now: dt.datetime) -> dict:
    mode = OUT if meeting.checkout_open else IN
    step = step_at(meeting, now)
    return {"mode": mode, "token": token(meeting, step, mode), "code": short_code(meeting, step, mode),
            "seconds_left": meeting.rotation_seconds - int(now.timestamp()) % meeting.rotation_seconds}


def _match(meeting: Meeting, presented: str, at: dt.datetime, make) -> tuple[str, bool] | None:
    """(mode, whether it was the previous step's code) for a valid code; None otherwise."""
    step = step_at(meeting, at)
    for candidate_step in (step, step - 1):
        for mode in (IN, OUT):
            if hmac.compare_digest(make(meeting, candidate_step, mode), presented):
                return mode, candidate_step != step
    return None


def judge_scan(meeting: Meeting, presented: str, at: dt.datetime, *, typed: bool = False,
               detail: bool = False):
    """The mode of a valid code (checked at the moment of the scan); raises CheckInRefused otherwise.
    With detail=True, (mode, previous_code): a code used after it changed on the screen is
    accepted, and noted, since a photo of the screen sent to someone elsewhere arrives late."""
    presented = (presented or "").strip().lower()
    # Only the characters a code can have reach the comparison (compare_digest refuses non-ASCII text).
    if not (SHORT_CODE if typed else TOKEN).fullmatch(presented):
        raise CheckInRefused("invalid")
    make = short_code if typed else token
    found = _match(meeting, presented, at, make)
    if found is not None:
        return found if detail else found[0]
    # A code of an older step is expired rather than invalid: say so, it helps the learner.
    step = step_at(meeting, at)
    for old_step in range(step - 2, step - 2 - 360, -1):
        if any(hmac.compare_digest(make(meeting, old_step, m), presented) for m in (IN, OUT)):
            raise CheckInRefused("expired")
    raise CheckInRefused("invalid")


# ---------------------------------------------------------------- the ticket of a scan


def new_browser_secret() -> str:
    """What the scanning browser keeps in its cookie (the ticket stores its hash)."""
    return secrets.token_urlsafe(32)


def valid_browser_secret(value: str | None) -> bool:
    return bool(value) and TICKET_KEY.fullmatch(value) is not None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_ticket(*, meeting: Meeting, mode: str, scanned_at: dt.datetime, via: str, browser_secret: str,
                 previous_code: bool = False) -> str:
    """A ticket for a valid scan, bound to the browser holding `browser_secret`; returns the key of its link."""
    key = secrets.token_urlsafe(32)
    ScanTicket.objects.create(key_hash=_hash(key), browser_hash=_hash(browser_secret), meeting=meeting,
                              mode=mode, via=via, scanned_at=scanned_at, previous_code=previous_code)
    return key


def open_ticket(*, key: str, browser_secret: str | None, now: dt.datetime | None = None) -> ScanTicket:
    """The ticket behind a link, if this browser scanned it, it is unused and recent;
    raises CheckInRefused otherwise (the caller logs it: the meeting is known only now)."""
    now = now or timezone.now()
    ticket = None
    if TICKET_KEY.fullmatch(key or ""):
        ticket = ScanTicket.objects.select_related("meeting").filter(key_hash=_hash(key)).first()
    if ticket is None:
        raise CheckInRefused("invalid")
    # A link opened in another browser (forwarded, or copied) has not scanned anything.
    presented = _hash(browser_secret) if valid_browser_secret(browser_secret) else ""
    known = {"meeting": ticket.meeting, "scanned_at": ticket.scanned_at}
    if not hmac.compare_digest(ticket.browser_hash, presented):
        raise CheckInRefused("other_browser", **known)
    if ticket.used_at is not None:
        raise CheckInRefused("ticket_used", **known)
    if now - ticket.scanned_at > dt.timedelta(seconds=TICKET_MAX_AGE):
        raise CheckInRefused("stale_scan", **known)
    return ticket


def confirm_ticket(*, key: str, browser_secret: str | None, employee, device_id: str, ip: str | None = None,
                   latitude=None, longitude=None, signature: str = "",
                   now: dt.datetime | None = None) -> tuple[ScanTicket, Attendance]:
    """Check in (or out) with a ticket: the scan's moment counts. The ticket is claimed in the same
    transaction as the check-in, so two parallel confirms cannot both succeed, and a refused
    check-in (no location yet, no signature) leaves it usable for another try."""
    now = now or timezone.now()
    try:
        ticket = open_ticket(key=key, browser_secret=browser_secret, now=now)
    except CheckInRefused as refused:
        if refused.meeting is None:
            raise
        raise refuse(meeting=refused.meeting, employee=employee, reason=refused.reason, now=now,
                     scanned_at=refused.scanned_at, device_id=device_id, ip=ip) from None
    context = {"scanned_at": ticket.scanned_at, "device_id": device_id, "ip": ip, "latitude": latitude,
               "longitude": longitude}
    try:
        with transaction.atomic():
            claimed = ScanTicket.objects.filter(pk=ticket.pk, used_at__isnull=True).update(
                used_at=now, used_by=employee)
            if claimed != 1:
                raise CheckInRefused("ticket_used")
            ticket.used_at, ticket.used_by = now, employee
            attendance = _scan(ticket.meeting, employee, ticket.mode, ticket.scanned_at, ticket.via, device_id,
                               ip, latitude, longitude, signature, now, ticket.previous_code)
    except CheckInRefused as refused:
        raise refuse(meeting=ticket.meeting, employee=employee, reason=refused.reason, now=now, **context) from None
    return ticket, attendance


def forget_old_tickets(*, now: dt.datetime | None = None) -> int:
    """Delete tickets a day after their scan: by then they are no use (the check-in events stay)."""
    now = now or timezone.now()
    deleted, _counts = ScanTicket.objects.filter(scanned_at__lt=now - dt.timedelta(days=1)).delete()
    return deleted


# ---------------------------------------------------------------- the rules


def on_roster(meeting: Meeting, employee) -> bool:
    if not employee.is_active:
        return False
    if meeting.roster == Meeting.Roster.OPEN:
        return True
    if meeting.roster == Meeting.Roster.PEOPLE:
        return meeting.roster_people.filter(pk=employee.pk).exists()
    return meeting.roster_plan is not None and audience(meeting.roster_plan).filter(pk=employee.pk).exists()


def roster(meeting: Meeting):
    """Who is expected (none for an open meeting: anyone may come)."""
    from learntrace.org.models import Employee

    if meeting.roster == Meeting.Roster.PEOPLE:
        return meeting.roster_people.filter(is_active=True)
    if meeting.roster == Meeting.Roster.PLAN and meeting.roster_plan is not None:
        return audience(meeting.roster_plan)
    return Employee.objects.none()


def networks(meeting: Meeting) -> list:
    result = []
    for line in meeting.allowed_networks.replace(",", "\n").splitlines():
        if line.strip():
            result.append(ipaddress.ip_network(line.strip(), strict=False))
    return result


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _window(meeting: Meeting, scanned_at: dt.datetime) -> None:
    if scanned_at < meeting.starts_at - dt.timedelta(minutes=meeting.opens_minutes_before):
        raise CheckInRefused("not_open")
    if scanned_at > meeting.starts_at + dt.timedelta(minutes=meeting.closes_minutes_after):
        raise CheckInRefused("closed")


def _place(meeting: Meeting, ip: str | None, latitude, longitude) -> None:
    allowed = networks(meeting)
    if allowed:
        try:
            address = ipaddress.ip_address(ip or "")
        except ValueError:
            raise CheckInRefused("wrong_network") from None
        if not any(address in network for network in allowed):
            raise CheckInRefused("wrong_network")
    if meeting.latitude is not None and meeting.longitude is not None and meeting.radius_m:
        if latitude is None or longitude is None:
            raise CheckInRefused("location_needed")
        if distance_m(meeting.latitude, meeting.longitude, latitude, longitude) > meeting.radius_m:
            raise CheckInRefused("outside_geofence")


def _signature(meeting: Meeting, signature: str) -> str:
    if not meeting.signature_required:
        return ""
    if len(signature) > MAX_SIGNATURE_BYTES or signature_png(signature) is None:
        raise CheckInRefused("signature_needed")
    return signature


def signature_png(signature: str) -> bytes | None:
    """The PNG image of a drawn signature (a data URL), or None when it is not one."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    try:
        png = base64.b64decode(signature[len(SIGNATURE_PREFIX):], validate=True)
    except ValueError:
        return None
    return png if png.startswith(b"\x89PNG\r\n\x1a\n") else None


def _credit(attendance: Attendance, meeting: Meeting, seconds: int) -> None:
    """Bring the credited time of an attendance up to `seconds` (never down: facts are not undone)."""
    delta = seconds - attendance.credited_seconds
    if delta > 0:
        record_credited_time(employee=attendance.employee, course=meeting.course, seconds=delta,
                             occurred_at=meeting.starts_at, source=Source.CHECKIN)
        attendance.credited_seconds = seconds
        attendance.save(update_fields=["credited_seconds"])


def _seconds_to_credit(meeting: Meeting, attendance: Attendance) -> int:
    if meeting.credit == Meeting.Credit.SCHEDULED:
        if meeting.checkout_required and attendance.checked_out_at is None:
            return 0
        return meeting.duration_seconds
    if attendance.checked_in_at is None or attendance.checked_out_at is None:
        return 0
    start = max(attendance.checked_in_at, meeting.starts_at)
    end = min(attendance.checked_out_at, meeting.ends_at)
    return max(int((end - start).total_seconds()), 0)


def _event(meeting, employee, kind, *, at, scanned_at=None, reason="", note="", device_id="", ip=None,
           latitude=None, longitude=None, actor=None) -> CheckInEvent:
    device_id, ip = device_id[:64], ip or None
    flags = suspicions.flags(meeting=meeting, employee=employee, at=at, ip=ip, device_id=device_id) \
        if kind == CheckInEvent.Kind.CHECK_IN else {}
    event = CheckInEvent.objects.create(
        meeting=meeting, employee=employee, kind=kind, at=at, scanned_at=scanned_at, reason=reason, note=note[:300],
        device_id=device_id, ip=ip, latitude=latitude, longitude=longitude, actor=actor, **flags)
    if kind != CheckInEvent.Kind.REFUSED:
        attendance_recorded.send(sender=CheckInEvent, event=event)
    return event


def refuse(*, meeting: Meeting, employee, reason: str, now=None, until=None, **context) -> CheckInRefused:
    """Log a refusal (for the admin's list of suspicious attempts) and return the exception to raise."""
    _event(meeting, employee, CheckInEvent.Kind.REFUSED, at=now or timezone.now(), reason=reason, **context)
    return CheckInRefused(reason, meeting=meeting, scanned_at=context.get("scanned_at"), until=until)


def scan(*, meeting: Meeting, employee, mode: str, scanned_at: dt.datetime, via: str, device_id: str,
         ip: str | None = None, latitude=None, longitude=None, signature: str = "",
         previous_code: bool = False, now: dt.datetime | None = None) -> Attendance:
    """A learner's own check-in or check-out. Raises CheckInRefused (after logging it)."""
    now = now or timezone.now()
    context = {"scanned_at": scanned_at, "device_id": device_id, "ip": ip, "latitude": latitude,
               "longitude": longitude}
    try:
        with transaction.atomic():
            return _scan(meeting, employee, mode, scanned_at, via, device_id, ip, latitude, longitude, signature,
                         now, previous_code)
    except CheckInRefused as refused:
        raise refuse(meeting=meeting, employee=employee, reason=refused.reason, now=now, **context) from None


def _scan(meeting, employee, mode, scanned_at, via, device_id, ip, latitude, longitude, signature, now,
          previous_code=False):
    if not on_roster(meeting, employee):
        raise CheckInRefused("not_on_roster")
    _place(meeting, ip, latitude, longitude)
    context = {"scanned_at": scanned_at, "device_id": device_id, "ip": ip, "latitude": latitude,
               "longitude": longitude}
    if mode == OUT:
        attendance = Attendance.objects.select_for_update().filter(meeting=meeting, employee=employee).first()
        if attendance is None or attendance.checked_in_at is None:
            raise CheckInRefused("not_checked_in")
        if attendance.checked_out_at is None:
            attendance.checked_out_at = max(scanned_at, attendance.checked_in_at)
            attendance.save(update_fields=["checked_out_at"])
            _event(meeting, employee, CheckInEvent.Kind.CHECK_OUT, at=now, **context)
            _credit(attendance, meeting, _seconds_to_credit(meeting, attendance))
        return attendance
    _window(meeting, scanned_at)
    existing = Attendance.objects.filter(meeting=meeting, employee=employee).first()
    if existing is not None and existing.checked_in_at is not None:
        return existing  # scanning twice is harmless
    if device_id and Attendance.objects.filter(meeting=meeting, device_id=device_id).exclude(
            employee=employee).exists():
        raise CheckInRefused("device_used")
    signature = _signature(meeting, signature)
    late = scanned_at > meeting.starts_at + dt.timedelta(minutes=meeting.late_after_minutes)
    arrival = {"checked_in_at": scanned_at, "method": via, "device_id": device_id, "signature": signature,
               "status": Attendance.Status.LATE if late else Attendance.Status.ON_TIME}
    if existing is not None:
        # Excused beforehand, and came after all: the scan checks them in (the excuse's note stays).
        if not Attendance.objects.filter(pk=existing.pk, checked_in_at__isnull=True).update(**arrival):
            return Attendance.objects.get(pk=existing.pk)  # the same person's second tab was first
        attendance = Attendance.objects.get(pk=existing.pk)
    else:
        try:
            with transaction.atomic():
                attendance = Attendance.objects.create(meeting=meeting, employee=employee, **arrival)
        except IntegrityError:  # the same person's second tab, at the same moment
            return Attendance.objects.get(meeting=meeting, employee=employee)
    _event(meeting, employee, CheckInEvent.Kind.CHECK_IN, at=now, note=PREVIOUS_CODE if previous_code else "",
           **context)
    _credit(attendance, meeting, _seconds_to_credit(meeting, attendance))
    return attendance


@transaction.atomic
def set_checkout(*, actor, meeting: Meeting, checkout_open: bool) -> None:
    """An organiser opens or closes check-out at the meeting (the projector then shows its code)."""
    Meeting.objects.filter(pk=meeting.pk).update(checkout_open=checkout_open)
    meeting.checkout_open = checkout_open
    record_change(actor=actor, action="open_checkout" if checkout_open else "close_checkout", obj=meeting,
                  summary=meeting.title)


@transaction.atomic
def manual(*, meeting: Meeting, employee, actor, reason: str, kind: str, at: dt.datetime | None = None,
           now: dt.datetime | None = None) -> Attendance:
    """An organiser checks someone in or out by hand, or excuses them; the reason is required."""
    now = now or timezone.now()
    at = at or now
    if not reason.strip():
        raise ValidationError(_("Say why: a manual entry needs a reason."))
    attendance = Attendance.objects.select_for_update().filter(meeting=meeting, employee=employee).first()
    if kind == CheckInEvent.Kind.MANUAL_IN:
        # Late or on time by the moment given, also for someone excused before (a scan keeps its own).
        late = at > meeting.starts_at + dt.timedelta(minutes=meeting.late_after_minutes)
        status = Attendance.Status.LATE if late else Attendance.Status.ON_TIME
        if attendance is None:
            attendance = Attendance.objects.create(
                meeting=meeting, employee=employee, checked_in_at=at, method="manual", note=reason[:300],
                status=status)
        elif attendance.checked_in_at is None:
            attendance.checked_in_at, attendance.method, attendance.note = at, "manual", reason[:300]
            attendance.status = status
            attendance.save()
    elif kind == CheckInEvent.Kind.MANUAL_OUT:
        if attendance is None or attendance.checked_in_at is None:
            raise ValidationError(_("Check this person in before checking them out."))
        attendance.checked_out_at = max(at, attendance.checked_in_at)
        attendance.save(update_fields=["checked_out_at"])
    elif kind == CheckInEvent.Kind.EXCUSED:
        if attendance is not None and attendance.checked_in_at is not None:
            raise ValidationError(_("This person attended; they cannot be excused."))
        attendance = attendance or Attendance(meeting=meeting, employee=employee, method="manual")
        attendance.status, attendance.note = Attendance.Status.EXCUSED, reason[:300]
        attendance.save()
    else:
        raise ValidationError(_("Unknown kind of manual entry."))
    _event(meeting, employee, kind, at=now, scanned_at=at, note=reason, actor=actor)
    if kind != CheckInEvent.Kind.EXCUSED:
        _credit(attendance, meeting, _seconds_to_credit(meeting, attendance))
    return attendance


@transaction.atomic
def record_online_presence(*, meeting: Meeting, employee, first_join: dt.datetime, last_leave: dt.datetime,
                           seconds: int, actor, note: str, now: dt.datetime | None = None) -> int:
    """Attendance at a live online meeting, from the platform's participant list: the person is
    checked in at their first join and out at their last leave, and credited up to `seconds`
    (never down, so a list imported twice credits once). Returns the seconds newly credited."""
    now = now or timezone.now()
    attendance = Attendance.objects.select_for_update().filter(meeting=meeting, employee=employee).first()
    late = first_join > meeting.starts_at + dt.timedelta(minutes=meeting.late_after_minutes)
    status = Attendance.Status.LATE if late else Attendance.Status.ON_TIME
    if attendance is None:
        attendance = Attendance.objects.create(
            meeting=meeting, employee=employee, checked_in_at=first_join, checked_out_at=last_leave,
            method=Attendance.Method.ONLINE, status=status)
    elif attendance.checked_in_at is None:  # excused beforehand, and joined after all
        attendance.checked_in_at, attendance.checked_out_at = first_join, last_leave
        attendance.method, attendance.status = Attendance.Method.ONLINE, status
        attendance.save()
    before = attendance.credited_seconds
    if seconds > before:
        _event(meeting, employee, CheckInEvent.Kind.ONLINE, at=now, scanned_at=first_join, note=note, actor=actor)
        _credit(attendance, meeting, seconds)
    return max(seconds - before, 0)
