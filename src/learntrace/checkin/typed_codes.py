"""The six-digit code typed when a camera fails, and the limits that make guessing it hopeless.

Wrong codes are counted in the database (shared by every web process) per person at a
meeting, per address at a meeting, and for the whole meeting, in fixed windows of
`CHECKIN_CODE_WINDOW_MINUTES`. A guess is counted *before* it is judged, by a conditional
UPDATE that succeeds only below the limit, and given back when it was right: requests sent in
parallel cannot get past a limit. A limit reached locks typing a code for the rest of its
window (the QR code and the organiser still work).

The odds, with the defaults (15-minute windows; 5 per person, 20 per address, 50 per meeting):
at any moment at most 4 of the 1 000 000 codes are valid (the current and the previous step,
for check-in and for check-out), so one guess wins with a probability of at most 4 / 10^6.
Check-in is open 45 minutes by default (15 before the start, 30 after): 3 windows.
- one person:                  3 × 5  = 15 guesses,  p ≤ 15 × 4 / 10^6  = 0.006 %
- one address, many accounts:  3 × 20 = 60 guesses,  p ≤ 60 × 4 / 10^6  = 0.024 %
- everyone together:           3 × 50 = 150 guesses, p ≤ 150 × 4 / 10^6 = 0.06 %
(against some 1 100-1 900 guesses every 20 seconds, and 26-40 % over 45 minutes, unlimited)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from learntrace.checkin.models import CodeGuesses, Meeting
from learntrace.checkin.services import CheckInRefused, judge_scan, refuse


@dataclass(frozen=True)
class Counter:
    key: str
    scope: str
    limit: int
    employee: object = None
    ip: str | None = None


def window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CHECKIN_CODE_WINDOW_MINUTES)


def limits() -> dict:
    return {"person": settings.CHECKIN_CODE_PERSON_LIMIT, "address": settings.CHECKIN_CODE_ADDRESS_LIMIT,
            "meeting": settings.CHECKIN_CODE_MEETING_LIMIT, "minutes": settings.CHECKIN_CODE_WINDOW_MINUTES}


def counters(meeting: Meeting, employee, ip: str | None) -> list[Counter]:
    """The counters a guess is charged to, the narrowest first: someone locked out does not use up
    the meeting's allowance."""
    found = []
    if employee is not None:
        found.append(Counter(f"person:{meeting.pk}:{employee.pk}", CodeGuesses.Scope.PERSON,
                             settings.CHECKIN_CODE_PERSON_LIMIT, employee=employee))
    if ip:
        found.append(Counter(f"address:{meeting.pk}:{ip}", CodeGuesses.Scope.ADDRESS,
                             settings.CHECKIN_CODE_ADDRESS_LIMIT, ip=ip))
    found.append(Counter(f"meeting:{meeting.pk}", CodeGuesses.Scope.MEETING, settings.CHECKIN_CODE_MEETING_LIMIT))
    return found


def _count(meeting: Meeting, counter: Counter, now: dt.datetime) -> dt.datetime | None:
    """Count one guess: None when it was counted, or the end of the lockout when the limit is reached."""
    rows = CodeGuesses.objects.filter(key=counter.key)
    started = now - window()
    for _attempt in range(5):
        # A window that has passed starts again with this guess.
        if rows.filter(window_started_at__lte=started).update(window_started_at=now, failures=1):
            return None
        if rows.filter(window_started_at__gt=started, failures__lt=counter.limit).update(failures=F("failures") + 1):
            return None
        row = rows.first()
        if row is not None:
            if row.window_started_at > started and row.failures >= counter.limit:
                return row.window_started_at + window()
            continue  # created or given back by a parallel guess since the UPDATEs: count again
        try:
            with transaction.atomic():
                CodeGuesses.objects.create(key=counter.key, meeting=meeting, scope=counter.scope,
                                           employee=counter.employee, ip=counter.ip, window_started_at=now,
                                           failures=1)
            return None
        except IntegrityError:
            continue  # a parallel guess created it first: count on its row
    return now + window()  # the row kept changing under us: refuse rather than count past the limit


def _give_back(counted: list[Counter]) -> None:
    for counter in counted:
        CodeGuesses.objects.filter(key=counter.key, failures__gt=0).update(failures=F("failures") - 1)


def _record_wrong(counted: list[Counter], now: dt.datetime) -> None:
    for counter in counted:
        rows = CodeGuesses.objects.filter(key=counter.key)
        rows.update(wrong_total=F("wrong_total") + 1)
        # The guess that reaches the limit starts a lockout (once per window), for the organiser's page.
        rows.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now), failures__gte=counter.limit).update(
            locked_until=F("window_started_at") + window(), lockouts=F("lockouts") + 1)


def judge_typed_code(*, meeting: Meeting, employee, ip: str | None, code: str,
                     now: dt.datetime | None = None) -> tuple[str, bool]:
    """(mode, previous_code) for a right code typed within the limits; raises CheckInRefused (logged)
    otherwise: "code_locked" or "meeting_code_locked" with `until`, or the code's fault."""
    now = now or timezone.now()
    counted = []
    for counter in counters(meeting, employee, ip):
        until = _count(meeting, counter, now)
        if until is not None:
            _give_back(counted)
            reason = "meeting_code_locked" if counter.scope == CodeGuesses.Scope.MEETING else "code_locked"
            raise refuse(meeting=meeting, employee=employee, reason=reason, now=now, until=until, scanned_at=now, ip=ip)
        counted.append(counter)
    try:
        found = judge_scan(meeting, code, now, typed=True, detail=True)
    except CheckInRefused as refused:
        _record_wrong(counted, now)
        raise refuse(meeting=meeting, employee=employee, reason=refused.reason, now=now, scanned_at=now,
                     ip=ip) from None
    _give_back(counted)
    return found
