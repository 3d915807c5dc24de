"""Turning heartbeats into credited learning time that cannot be faked.

A beat is credited with what it adds to the person's union of watched intervals
(documents: visible reading time up to the minimum reading time), and never with more
than the wall-clock time that really passed for that person: each credited media
second costs 1/rate seconds of the person's clock (rate capped at 2), the clock may
not run ahead of now by more than a small slack, and no single beat may spend more
than a minute of it. Two tabs therefore share one clock, a replayed beat is accepted
once, and beats queued by a flaky network are still credited when they arrive late.
What is cut is recorded on the beat and flagged, never silently dropped.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.catalog.models import Course, CourseKind
from learntrace.records.models import CourseProgress, Source
from learntrace.records.services import record_credited_time
from learntrace.tracking import intervals as iv
from learntrace.tracking.models import Attempt, Beat, Coverage, LearnerClock

MAX_RATE = 2.0
SLACK_MS = 5_000
BEAT_MAX_WALL_MS = 60_000
MAX_SEGMENTS = 200
END_TOLERANCE_MS = 2_000  # players report the end of a video a little past its declared duration
TRACKED_KINDS = {CourseKind.VIDEO, CourseKind.DOCUMENT}


class BeatRejected(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class BeatInput:
    seq: int
    segments: list = field(default_factory=list)
    reading_ms: int = 0
    rate: float = 1.0
    hidden: bool = False
    client_elapsed_ms: int = 0


@dataclass
class BeatOutcome:
    duplicate: bool
    credited_ms: int  # of this beat
    cut_ms: int
    flags: list
    total_credited_ms: int
    covered_ms: int
    duration_ms: int
    completed_at: dt.datetime | None

    def as_dict(self) -> dict:
        return {
            "duplicate": self.duplicate, "credited_ms": self.credited_ms, "cut_ms": self.cut_ms,
            "flags": self.flags, "total_credited_ms": self.total_credited_ms, "covered_ms": self.covered_ms,
            "duration_ms": self.duration_ms, "completed": self.completed_at is not None,
        }


def _number(data: dict, key: str, kind, *, minimum, maximum, default=None):
    value = data.get(key, default)
    if value is None:
        raise BeatRejected(_("“%(key)s” is missing.") % {"key": key})
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and not math.isfinite(value)):
        raise BeatRejected(_("“%(key)s” must be a number.") % {"key": key})
    if kind is int and value != int(value):
        raise BeatRejected(_("“%(key)s” must be a whole number.") % {"key": key})
    if not minimum <= value <= maximum:
        raise BeatRejected(_("“%(key)s” must be between %(minimum)s and %(maximum)s.")
                           % {"key": key, "minimum": minimum, "maximum": maximum})
    return kind(value)


def parse_beat(data, course: Course) -> BeatInput:
    """Validate a beat as sent by the tracker; every problem is a clear 400, never a 500."""
    if not isinstance(data, dict):
        raise BeatRejected(_("A beat is a JSON object."))
    duration_ms = course.duration_seconds * 1000
    beat = BeatInput(
        seq=_number(data, "seq", int, minimum=0, maximum=10_000_000),
        rate=_number(data, "rate", float, minimum=0.0625, maximum=16, default=1.0),
        client_elapsed_ms=_number(data, "elapsed_ms", int, minimum=0, maximum=7 * 24 * 3600 * 1000, default=0),
        reading_ms=_number(data, "reading_ms", int, minimum=0, maximum=BEAT_MAX_WALL_MS * 10, default=0),
    )
    hidden = data.get("hidden", False)
    if not isinstance(hidden, bool):
        raise BeatRejected(_("“hidden” must be true or false."))
    beat.hidden = hidden
    segments = data.get("segments", [])
    if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS:
        raise BeatRejected(_("“segments” must be a list of at most %(n)d [start, end] pairs.") % {"n": MAX_SEGMENTS})
    for segment in segments:
        if not (isinstance(segment, list) and len(segment) == 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                        for x in segment)):
            raise BeatRejected(_("Each segment must be [start, end] in seconds."))
        start, end = round(segment[0] * 1000), round(segment[1] * 1000)
        if start < 0 or end < start:
            raise BeatRejected(_("A segment must not start before 0 or end before it starts."))
        if end > duration_ms + END_TOLERANCE_MS:
            raise BeatRejected(_("A segment goes beyond the end of the media."))
        beat.segments.append((start, min(end, duration_ms)))
    if course.kind == CourseKind.DOCUMENT and beat.segments:
        raise BeatRejected(_("A document is tracked by reading time, not segments."))
    return beat


@transaction.atomic
def start_attempt(*, employee, course: Course, now: dt.datetime | None = None, user_agent: str = "") -> Attempt:
    if course.kind not in TRACKED_KINDS or not course.is_published:
        raise BeatRejected(_("This course is not tracked here."), status=404)
    attempt = Attempt.objects.create(employee=employee, course=course, started_at=now or timezone.now(),
                                     user_agent=user_agent[:200])
    Coverage.objects.get_or_create(employee=employee, course=course)
    return attempt


def coverage_state(employee, course: Course) -> dict:
    coverage = Coverage.objects.filter(employee=employee, course=course).first()
    progress = CourseProgress.objects.filter(employee=employee, course=course).first()
    intervals = [tuple(i) for i in coverage.intervals] if coverage else []
    return {
        "duration_ms": course.duration_seconds * 1000,
        "covered_ms": coverage.covered_ms if coverage else 0,
        "total_credited_ms": coverage.credited_ms if coverage else 0,
        "resume_ms": coverage.last_position_ms if coverage else 0,
        "furthest_ms": iv.contiguous_from_zero(intervals),
        "completed": bool(progress and progress.completed_at),
        "no_skipping": course.no_skipping,
    }


def _outcome(beat: Beat, coverage: Coverage, course: Course, duplicate: bool) -> BeatOutcome:
    progress = CourseProgress.objects.filter(employee_id=coverage.employee_id, course=course).first()
    return BeatOutcome(duplicate=duplicate, credited_ms=beat.credited_ms, cut_ms=beat.cut_ms, flags=beat.flags,
                       total_credited_ms=coverage.credited_ms, covered_ms=coverage.covered_ms,
                       duration_ms=course.duration_seconds * 1000,
                       completed_at=progress.completed_at if progress else None)


def _lock_clock(employee_id, attempt: Attempt) -> LearnerClock:
    try:
        with transaction.atomic():
            LearnerClock.objects.get_or_create(employee_id=employee_id, defaults={"busy_until": attempt.started_at})
    except IntegrityError:
        pass  # created by a concurrent beat
    return LearnerClock.objects.select_for_update().get(employee_id=employee_id)


@transaction.atomic
def apply_beat(*, attempt: Attempt, beat: BeatInput, now: dt.datetime | None = None) -> BeatOutcome:
    now = now or timezone.now()
    course = attempt.course
    coverage = Coverage.objects.select_for_update().get(employee_id=attempt.employee_id, course=course)
    existing = Beat.objects.filter(attempt=attempt, seq=beat.seq).first()
    if existing is not None:
        return _outcome(existing, coverage, course, duplicate=True)
    clock = _lock_clock(attempt.employee_id, attempt)

    flags = []
    duration_ms = course.duration_seconds * 1000
    effective_rate = min(beat.rate, MAX_RATE)
    if beat.rate > MAX_RATE:
        flags.append("rate_above_2x")
    current = [tuple(i) for i in coverage.intervals]
    if course.kind == CourseKind.VIDEO:
        played_ms = iv.length(beat.segments)
        pieces = iv.new_pieces(beat.segments, current)
        new_ms = iv.length(pieces)
    else:
        played_ms = beat.reading_ms
        pieces = []
        new_ms = max(min(beat.reading_ms, duration_ms - coverage.credited_ms), 0)

    credit_ms = 0
    if beat.hidden:
        if new_ms:
            flags.append("hidden")
    elif new_ms:
        cost_ms = math.ceil(new_ms / effective_rate)
        start = max(clock.busy_until, attempt.started_at)
        allowed_ms = max(int((now - start).total_seconds() * 1000) + SLACK_MS, 0)
        if cost_ms > BEAT_MAX_WALL_MS:
            flags.append("beat_too_long")
        allowed_ms = min(allowed_ms, BEAT_MAX_WALL_MS)
        if cost_ms > allowed_ms and "beat_too_long" not in flags:
            flags.append("over_wall_clock")
        credit_ms = min(new_ms, int(min(cost_ms, allowed_ms) * effective_rate))
        clock.busy_until = start + dt.timedelta(milliseconds=math.ceil(credit_ms / effective_rate))
        clock.save(update_fields=["busy_until"])
    cut_ms = new_ms - credit_ms

    if course.kind == CourseKind.VIDEO and credit_ms:
        current = iv.union(current, iv.take(pieces, credit_ms))
        coverage.intervals = [list(i) for i in current]
        coverage.covered_ms = iv.length(current)
    elif credit_ms:
        coverage.covered_ms += credit_ms
    credited_before = coverage.credited_ms
    coverage.credited_ms += credit_ms
    coverage.played_ms += played_ms
    if beat.segments:
        coverage.last_position_ms = beat.segments[-1][1]
    coverage.save()

    record = Beat.objects.create(
        attempt=attempt, seq=beat.seq, received_at=now, segments=[list(s) for s in beat.segments],
        reading_ms=beat.reading_ms, rate=beat.rate, hidden=beat.hidden, client_elapsed_ms=beat.client_elapsed_ms,
        credited_ms=credit_ms, cut_ms=cut_ms, flags=flags,
    )
    changes = {"last_beat_at": now, "last_seq": Greatest(F("last_seq"), beat.seq),
               "played_ms": F("played_ms") + played_ms, "credited_ms": F("credited_ms") + credit_ms,
               "cut_ms": F("cut_ms") + cut_ms}
    if flags:
        changes["flagged"] = True
    Attempt.objects.filter(pk=attempt.pk).update(**changes)
    # Whole seconds go to the learning record, attributed to when they were watched: a beat
    # queued offline across midnight at the month's end still counts in the month it was played.
    seconds = coverage.credited_ms // 1000 - credited_before // 1000
    if seconds > 0:
        watched_at = attempt.started_at + dt.timedelta(milliseconds=beat.client_elapsed_ms)
        occurred_at = min(max(watched_at, attempt.started_at), now)
        record_credited_time(employee=attempt.employee, course=course, seconds=seconds, occurred_at=occurred_at,
                             source=Source.TRACKING)
    return _outcome(record, coverage, course, duplicate=False)
