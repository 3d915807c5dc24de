"""Turning heartbeats into credited learning time that cannot be faked.

A beat is credited with what it adds to the person's union of watched intervals
(documents: visible reading time up to the minimum reading time), and never with more
than the wall-clock time that really passed for that person: each credited media
second costs 1/rate seconds of the person's clock (rate capped at 2; a second of
reading always costs a second), the clock may not run ahead of now by more than a
small slack, and no single beat may spend more than a minute of it. Two tabs therefore
share one clock, a replayed beat is accepted once, and beats queued by a flaky network
are still credited when they arrive late.
What is cut is recorded on the beat and flagged, never silently dropped.
"""

import datetime as dt
import itertools
import json
import math
import uuid
from dataclasses import dataclass, field
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.catalog.models import Course, CourseKind
from learntrace.core.audit import delete_with_audit, record_change, save_with_audit
from learntrace.core.hotpath import column_list, load, update_columns
from learntrace.records.models import CourseProgress, CreditedTime
from learntrace.records.services import answered_right, record_tracked_beat
from learntrace.tracking import attention
from learntrace.tracking import intervals as iv
from learntrace.tracking.models import Attempt, AttentionCheck, LearnerClock, OnWrong, PlacedQuestion

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


def beat_from_request(request) -> tuple:
    """(attempt id, beat) from form data (what sendBeacon can send with the CSRF token as a page
    closes: `attempt`, and `beat` as JSON text) or from a JSON body {"attempt": …, "beat": {…}}.
    Raises ValueError when the body is not JSON."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body or b"null")
            if not isinstance(body, dict):
                raise ValueError("the body is not an object")
            return body.get("attempt"), body.get("beat")
        return request.POST.get("attempt"), json.loads(request.POST.get("beat", "null"))
    except RecursionError:  # arrays nested thousands deep
        raise ValueError("the body is nested too deeply") from None


@dataclass
class BeatInput:
    seq: int
    segments: list = field(default_factory=list)
    reading_ms: int = 0
    rate: float = 1.0
    hidden: bool = False
    client_elapsed_ms: int = 0
    active: bool = False  # the learner interacted with the page since the last beat (the idle check)


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
    held_ms: int = 0  # of this beat: watched, waiting for the answer to the next question
    question: dict | None = None  # a question that is due and not answered yet
    prompt: dict | None = None  # an idle prompt waiting for its answer

    def as_dict(self) -> dict:
        return {
            "duplicate": self.duplicate, "credited_ms": self.credited_ms, "cut_ms": self.cut_ms,
            "flags": self.flags, "total_credited_ms": self.total_credited_ms, "covered_ms": self.covered_ms,
            "duration_ms": self.duration_ms, "completed": self.completed_at is not None,
            "held_ms": self.held_ms, "question": self.question, "prompt": self.prompt,
        }


def _finite_number(value) -> bool:
    # Integers are always finite (and may be too large for math.isfinite); JSON's NaN and Infinity are floats.
    return not isinstance(value, bool) and (isinstance(value, int) or isinstance(value, float) and math.isfinite(value))


def _number(data: dict, key: str, kind, *, minimum, maximum, default=None):
    value = data.get(key, default)
    if value is None:
        raise BeatRejected(_("“%(key)s” is missing.") % {"key": key})
    if not _finite_number(value):
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
    active = data.get("active", False)
    if not isinstance(active, bool):
        raise BeatRejected(_("“active” must be true or false."))
    beat.active = active
    segments = data.get("segments", [])
    if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS:
        raise BeatRejected(_("“segments” must be a list of at most %(n)d [start, end] pairs.") % {"n": MAX_SEGMENTS})
    for segment in segments:
        if not (isinstance(segment, list) and len(segment) == 2 and all(map(_finite_number, segment))):
            raise BeatRejected(_("Each segment must be [start, end] in seconds."))
        start, end = segment
        if start < 0 or end < start:
            raise BeatRejected(_("A segment must not start before 0 or end before it starts."))
        # Compared in seconds, before converting: 1e308 s in milliseconds is no longer a finite number.
        if end > (duration_ms + END_TOLERANCE_MS) / 1000:
            raise BeatRejected(_("A segment goes beyond the end of the media."))
        beat.segments.append((round(start * 1000), min(round(end * 1000), duration_ms)))
    if course.kind == CourseKind.DOCUMENT and beat.segments:
        raise BeatRejected(_("A document is tracked by reading time, not segments."))
    return beat


@transaction.atomic
def start_attempt(*, employee, course: Course, now: dt.datetime | None = None, user_agent: str = "") -> Attempt:
    """Open a viewing session. The rows every beat needs exist from here on, so that the
    hot path only reads, inserts and updates."""
    if course.kind not in TRACKED_KINDS or not course.is_published:
        raise BeatRejected(_("This course is not tracked here."), status=404)
    if employee.user_id is None or not employee.is_active:
        raise BeatRejected(_("Only an active employee's own viewing is tracked."), status=403)
    now = now or timezone.now()
    progress, _created = CourseProgress.objects.get_or_create(
        employee=employee, course=course, defaults={"first_started_at": now, "last_activity_at": now})
    clock, _created = LearnerClock.objects.get_or_create(employee=employee, defaults={"busy_until": now})
    idle_minutes, random_questions, on_wrong = attention.rule_for(employee, course, now)
    attempt = Attempt.objects.create(employee=employee, user_id=employee.user_id, course=course, progress=progress,
                                     clock=clock, started_at=now, user_agent=user_agent[:200],
                                     idle_ms=idle_minutes * 60_000, presence_at=now, on_wrong=on_wrong)
    attention.schedule_questions(attempt, course, random_questions)
    return attempt


def attention_state(attempt: Attempt) -> dict:
    """What the player needs to know of the attempt's attention checks when it opens: whether
    there are any (never when or which)."""
    return {"idle_ms": attempt.idle_ms, "questions": attempt.next_question_ms is not None,
            "answer_seconds": attention.ANSWER_SECONDS}


def coverage_state(employee, course: Course) -> dict:
    progress = CourseProgress.objects.filter(employee=employee, course=course).first()
    intervals = [tuple(i) for i in progress.intervals] if progress else []
    return {
        "duration_ms": course.duration_seconds * 1000,
        "covered_ms": progress.covered_ms if progress else 0,
        "total_credited_ms": progress.credited_ms if progress else 0,
        "resume_ms": progress.last_position_ms if progress else 0,
        "furthest_ms": iv.contiguous_from_zero(intervals),
        "completed": bool(progress and progress.completed_at),
        "no_skipping": course.no_skipping,
    }


def _outcome(fact: CreditedTime, progress: CourseProgress, course: Course, duplicate: bool) -> BeatOutcome:
    return BeatOutcome(duplicate=duplicate, credited_ms=fact.details.get("credited_ms", 0),
                       cut_ms=fact.details.get("cut_ms", 0), flags=fact.details.get("flags", []),
                       total_credited_ms=progress.credited_ms, covered_ms=progress.covered_ms,
                       duration_ms=course.duration_seconds * 1000, completed_at=progress.completed_at,
                       held_ms=fact.details.get("held_ms", 0))


# What a beat reads, and no more: this query runs for every beat of every viewer.
_ATTEMPT = ("id", "employee", "user", "course", "progress", "clock", "started_at", "idle_ms", "presence_at",
            "prompt_open_at", "next_question_ms", "segment_from_ms", "on_wrong", "held", "forfeited", "last_seq")
_COURSE = ("id", "kind", "duration_seconds", "completion_threshold", "category", "no_skipping")
_PROGRESS = ("id", "employee", "course", "credited_ms", "intervals", "covered_ms", "played_ms", "last_position_ms",
             "first_started_at", "last_activity_at", "completed_at")
_CLOCK = ("employee", "busy_until", "last_attempt_id", "last_seq")


@cache
def _locking_read_sql() -> str:
    quote = connection.ops.quote_name
    tables = {model: quote(model._meta.db_table) for model in (Attempt, Course, CourseProgress, LearnerClock)}
    lock = " FOR UPDATE OF a, p, k" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {column_list(Attempt, 'a', _ATTEMPT)}, {column_list(Course, 'c', _COURSE)}, "
        f"{column_list(CourseProgress, 'p', _PROGRESS)}, {column_list(LearnerClock, 'k', _CLOCK)} "
        f"FROM {tables[Attempt]} a JOIN {tables[Course]} c ON c.id = a.course_id "
        f"JOIN {tables[CourseProgress]} p ON p.id = a.progress_id "
        f"JOIN {tables[LearnerClock]} k ON k.employee_id = a.clock_id "
        f"WHERE a.id = %s AND a.user_id = %s{lock}"
    )


def _locked_attempt(attempt_id, user_id) -> Attempt:
    """The user's attempt with its course, course state and clock, in one statement that locks the
    attempt, the course state and the clock. The clock row serialises every beat of one person,
    whatever tab or course it comes from; locking the others makes PostgreSQL re-read their
    newest versions after waiting, so nothing read here is stale. (SQLite takes the database's
    write lock when the transaction begins.) Written as SQL: it runs for every beat."""
    try:
        key = Attempt._meta.pk.get_db_prep_value(uuid.UUID(str(attempt_id)), connection)
    except (ValueError, TypeError, AttributeError):
        raise BeatRejected(_("No such viewing session of yours."), status=404) from None
    with connection.cursor() as cursor:
        cursor.execute(_locking_read_sql(), [key, user_id])
        row = cursor.fetchone()
    if row is None:
        raise BeatRejected(_("No such viewing session of yours."), status=404)
    ends = list(itertools.accumulate((len(_ATTEMPT), len(_COURSE), len(_PROGRESS), len(_CLOCK))))
    attempt = load(Attempt, _ATTEMPT, row[:ends[0]])
    attempt.course = load(Course, _COURSE, row[ends[0]:ends[1]])
    attempt.progress = load(CourseProgress, _PROGRESS, row[ends[1]:ends[2]])
    attempt.clock = load(LearnerClock, _CLOCK, row[ends[2]:])
    return attempt


def receive_beat(*, attempt_id, user_id, data, now: dt.datetime | None = None) -> BeatOutcome:
    """Validate and apply one beat as sent by the tracker, for the logged-in user `user_id`."""
    return _apply_once(attempt_id, user_id, lambda course: parse_beat(data, course), now or timezone.now())


def credit_beat(*, attempt_id, user_id, beat: BeatInput, now: dt.datetime | None = None) -> BeatOutcome:
    """Apply an already validated beat (other clients of the protocol, and the tests)."""
    return _apply_once(attempt_id, user_id, lambda course: beat, now or timezone.now())


def _apply_once(attempt_id, user_id, beat_for, now: dt.datetime) -> BeatOutcome:
    """Apply a beat, or answer a replay with its first answer."""
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id, user_id)
        return _apply(attempt, beat_for(attempt.course), now)


def _apply(attempt: Attempt, beat: BeatInput, now: dt.datetime) -> BeatOutcome:
    """Called with the attempt, its course state and the person's clock freshly read and locked."""
    course, progress, clock = attempt.course, attempt.progress, attempt.clock
    # A beat numbered above the highest one of its attempt is new without a look-up (the tracker sends
    # beats in order). Anything else (a replay, an older beat arriving late) is looked up among the
    # person's facts since the attempt began: every fact of an attempt is dated within it.
    highest_seq = clock.last_seq if clock.last_attempt_id == attempt.pk else attempt.last_seq
    if beat.seq <= highest_seq:
        existing = CreditedTime.objects.filter(employee_id=attempt.employee_id, occurred_at__gte=attempt.started_at,
                                               attempt_id=attempt.pk, seq=beat.seq).first()
        if existing is not None:
            return _outcome(existing, progress, course, duplicate=True)
    if clock.last_attempt_id not in (None, attempt.pk):
        # The clock moves on: the attempt it leaves keeps its highest number for its own next beat.
        update_columns(Attempt, clock.last_attempt_id, {"last_seq": clock.last_seq})
    highest_seq = max(highest_seq, beat.seq)

    flags = []
    duration_ms = course.duration_seconds * 1000
    if course.kind == CourseKind.DOCUMENT:
        effective_rate = 1.0  # a playback rate means nothing for reading: at most 1:1 with the wall clock
    else:
        effective_rate = min(beat.rate, MAX_RATE)
        if beat.rate > MAX_RATE:
            flags.append("rate_above_2x")
    current = [tuple(i) for i in progress.intervals]
    held = [tuple(i) for i in attempt.held]
    next_question = attempt.next_question_ms
    attempt_before = (attempt.presence_at, attempt.prompt_open_at, held)
    past_question_ms = 0  # watched beyond a question not answered yet: cut
    question_reached = False
    if course.kind == CourseKind.VIDEO:
        played_ms = iv.length(beat.segments)
        # Pieces held for a question are not new either: watching them again earns nothing twice.
        # Nor are the segments this attempt lost to a wrong answer.
        pieces = iv.new_pieces(beat.segments, iv.union(iv.union(current, held), [tuple(i) for i in attempt.forfeited]))
        if next_question is not None:
            question_reached = any(end >= next_question for _start, end in beat.segments)
            past = iv.new_pieces([(max(start, next_question), end) for start, end in pieces], [])
            past_question_ms = iv.length(past)
            pieces = [(start, min(end, next_question)) for start, end in pieces if start < next_question]
            if past_question_ms:
                flags.append("question_pending")
        new_ms = iv.length(pieces)
    else:
        played_ms = beat.reading_ms
        pieces = []
        new_ms = max(min(beat.reading_ms, duration_ms - progress.covered_ms), 0)

    # The idle check: credit stops `idle_ms` after the last sign of presence, or when a prompt opened,
    # until the prompt is answered. A beat reporting interaction is a sign of presence, unless a
    # prompt is waiting: then only its answer is.
    idle_deadline = None
    if attempt.idle_ms:
        if beat.active and attempt.prompt_open_at is None:
            attempt.presence_at = now
        idle_deadline = attempt.prompt_open_at or (
            (attempt.presence_at or attempt.started_at) + dt.timedelta(milliseconds=attempt.idle_ms))
        if attempt.prompt_open_at is None and now > idle_deadline:
            attempt.prompt_open_at = idle_deadline

    credit_ms = 0
    idle_cut_ms = 0
    busy_until = clock.busy_until
    start = max(clock.busy_until, attempt.started_at)
    if beat.hidden:
        if new_ms:
            flags.append("hidden")
    elif new_ms:
        cost_ms = math.ceil(new_ms / effective_rate)
        allowed_ms = max(int((now - start).total_seconds() * 1000) + SLACK_MS, 0)
        if cost_ms > BEAT_MAX_WALL_MS:
            flags.append("beat_too_long")
        allowed_ms = min(allowed_ms, BEAT_MAX_WALL_MS)
        if cost_ms > allowed_ms and "beat_too_long" not in flags:
            flags.append("over_wall_clock")
            if clock.last_attempt_id not in (None, attempt.pk) and clock.busy_until > attempt.started_at:
                flags.append("another_window")  # the person's clock was spent by another attempt meanwhile
        credit_ms = min(new_ms, int(min(cost_ms, allowed_ms) * effective_rate))
        if idle_deadline is not None:
            idle_allowed_ms = max(int((idle_deadline - start).total_seconds() * 1000), 0)
            if cost_ms > idle_allowed_ms and idle_allowed_ms < allowed_ms:
                flags.append("idle")
                idle_credit_ms = min(new_ms, int(idle_allowed_ms * effective_rate))
                idle_cut_ms = credit_ms - min(credit_ms, idle_credit_ms)
                credit_ms -= idle_cut_ms
        if credit_ms:
            busy_until = start + dt.timedelta(milliseconds=math.ceil(credit_ms / effective_rate))
    update_columns(LearnerClock, clock.pk, {"busy_until": busy_until, "last_attempt_id": attempt.pk,
                                            "last_seq": highest_seq})
    cut_ms = new_ms + past_question_ms - credit_ms

    # Before the next question, what was watched since the previous one is held until it is answered.
    held_ms = 0
    if course.kind == CourseKind.VIDEO and credit_ms:
        taken = iv.take(pieces, credit_ms)
        if next_question is not None:
            confirmed = attempt.segment_from_ms
            newly_held = [(max(a, confirmed), b) for a, b in taken if b > confirmed]
            taken = [(a, min(b, confirmed)) for a, b in taken if a < confirmed]
            held_ms = iv.length(newly_held)
            held = iv.union(held, newly_held)
            credit_ms -= held_ms
        current = iv.union(current, taken)
        progress.intervals = [list(i) for i in current]
        progress.covered_ms = iv.length(current)
    elif credit_ms:
        progress.covered_ms += credit_ms
    if (attempt.presence_at, attempt.prompt_open_at, held) != attempt_before:
        update_columns(Attempt, attempt.pk, {"presence_at": attempt.presence_at,
                                             "prompt_open_at": attempt.prompt_open_at,
                                             "held": [list(i) for i in held]})
    credited_before = progress.credited_ms
    progress.credited_ms += credit_ms
    progress.played_ms += played_ms
    if beat.segments:
        progress.last_position_ms = beat.segments[-1][1]

    # Whole seconds go to the learning record, attributed to when they were watched: a beat
    # queued offline across midnight at the month's end still counts in the month it was played.
    watched_at = attempt.started_at + dt.timedelta(milliseconds=beat.client_elapsed_ms)
    details = {"segments": [list(s) for s in beat.segments], "reading_ms": beat.reading_ms, "rate": beat.rate,
               "hidden": beat.hidden, "elapsed_ms": beat.client_elapsed_ms, "received_at": now.isoformat(),
               "played_ms": played_ms, "credited_ms": credit_ms, "cut_ms": cut_ms, "flags": flags}
    if attempt.idle_ms or next_question is not None:
        details |= {"active": beat.active, "held_ms": held_ms, "attention_cut_ms": idle_cut_ms + past_question_ms}
    fact = record_tracked_beat(
        progress=progress, course=course, attempt_id=attempt.pk, seq=beat.seq,
        seconds=progress.credited_ms // 1000 - credited_before // 1000,
        occurred_at=max(min(watched_at, now), attempt.started_at), details=details,
    )
    outcome = _outcome(fact, progress, course, duplicate=False)
    if question_reached:
        outcome.question = _reveal_question(attempt, next_question, now)
    if attempt.prompt_open_at is not None:
        outcome.prompt = _open_prompt(attempt, attempt.prompt_open_at)
    return outcome


def _reveal_question(attempt: Attempt, due_ms: int, now: dt.datetime) -> dict | None:
    """The question due at `due_ms`, shown from now on (its countdown starts when first shown)."""
    check = (AttentionCheck.objects.select_related("question").prefetch_related("question__choices")
             .filter(attempt_id=attempt.pk, kind=AttentionCheck.Kind.QUESTION, due_ms=due_ms,
                     outcome__in=[AttentionCheck.Outcome.SCHEDULED, AttentionCheck.Outcome.SHOWN])
             .order_by("number").first())
    if check is None:
        return None
    if check.outcome == AttentionCheck.Outcome.SCHEDULED:
        check.outcome, check.shown_at = AttentionCheck.Outcome.SHOWN, now
        check.save(update_fields=["outcome", "shown_at"])
    return attention.question_payload(check)


def _open_prompt(attempt: Attempt, shown_at: dt.datetime) -> dict:
    """The attempt's open idle prompt, created when it first opens."""
    check = AttentionCheck.objects.filter(attempt_id=attempt.pk, kind=AttentionCheck.Kind.IDLE,
                                          outcome=AttentionCheck.Outcome.SHOWN).first()
    if check is None:
        check = AttentionCheck.objects.create(attempt_id=attempt.pk, kind=AttentionCheck.Kind.IDLE,
                                              number=attention.next_check_number(attempt.pk), shown_at=shown_at,
                                              outcome=AttentionCheck.Outcome.SHOWN)
    return attention.prompt_payload(check)


@dataclass
class AnswerOutcome:
    outcome: str
    credited_ms: int = 0  # the held segment, credited by a right answer
    uncredited_ms: int = 0  # the held segment, lost by a wrong or missing answer
    rewind_to_ms: int | None = None
    total_credited_ms: int = 0
    covered_ms: int = 0
    completed: bool = False

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "credited_ms": self.credited_ms, "uncredited_ms": self.uncredited_ms,
                "rewind_to_ms": self.rewind_to_ms, "total_credited_ms": self.total_credited_ms,
                "covered_ms": self.covered_ms, "completed": self.completed}


def _choice_ids(value) -> set[int]:
    if not isinstance(value, list) or len(value) > 50 or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in value):
        raise BeatRejected(_("“choices” must be a list of choice numbers."))
    return set(value)


def open_idle_prompt(*, attempt_id, user_id, now: dt.datetime | None = None) -> dict:
    """The player saw no interaction for the idle time: credit stops from now until the answer."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id, user_id)
        if not attempt.idle_ms:
            raise BeatRejected(_("This course has no idle check."))
        if attempt.prompt_open_at is None:
            attempt.prompt_open_at = now
            update_columns(Attempt, attempt.pk, {"prompt_open_at": now})
        return _open_prompt(attempt, attempt.prompt_open_at)


def answer_check(*, attempt_id, user_id, check_id, choices=None, now: dt.datetime | None = None) -> AnswerOutcome:
    """The learner's answer to an idle prompt or a question shown to them. The server grades it;
    the answer says right or wrong, never which choice was right."""
    now = now or timezone.now()
    if not isinstance(check_id, int) or isinstance(check_id, bool) or not 0 < check_id < 2**31:
        raise BeatRejected(_("“check” must be the number of a prompt or question."))
    with transaction.atomic():
        attempt = _locked_attempt(attempt_id, user_id)
        check = (AttentionCheck.objects.select_related("question").prefetch_related("question__choices")
                 .filter(attempt_id=attempt.pk, pk=check_id).first())
        if check is None:
            raise BeatRejected(_("No such prompt or question in this viewing session."), status=404)
        if check.outcome != AttentionCheck.Outcome.SHOWN:
            raise BeatRejected(_("This prompt or question is not waiting for an answer."), status=409)
        in_time = now <= check.shown_at + dt.timedelta(
            seconds=attention.ANSWER_SECONDS + attention.ANSWER_SLACK_SECONDS)
        check.answered_at = now
        if check.kind == AttentionCheck.Kind.IDLE:
            return _answer_prompt(attempt, check, in_time, now)
        chosen = _choice_ids(choices if choices is not None else [])
        if check.question is not None and not chosen <= {c.pk for c in check.question.choices.all()}:
            raise BeatRejected(_("These choices are not those of the question."))
        check.chosen = sorted(chosen)
        right = in_time and (check.question is None or answered_right(check.question, chosen))
        # No choice at all (the countdown ran out in the player) is a missing answer, not a wrong one.
        return _answer_question(attempt, check, right, in_time and bool(chosen), now)


def _answer_prompt(attempt: Attempt, check: AttentionCheck, in_time: bool, now: dt.datetime) -> AnswerOutcome:
    # The time between the prompt and the answer is spent: no beat may claim it afterwards.
    check.outcome = AttentionCheck.Outcome.ANSWERED if in_time else AttentionCheck.Outcome.MISSED
    check.save(update_fields=["answered_at", "outcome"])
    update_columns(Attempt, attempt.pk, {"prompt_open_at": None, "presence_at": now})
    update_columns(LearnerClock, attempt.clock.pk, {"busy_until": max(attempt.clock.busy_until, now)})
    progress = attempt.progress
    return AnswerOutcome(outcome=check.outcome, total_credited_ms=progress.credited_ms,
                         covered_ms=progress.covered_ms, completed=progress.completed_at is not None)


def _answer_question(attempt: Attempt, check: AttentionCheck, right: bool, in_time: bool,
                     now: dt.datetime) -> AnswerOutcome:
    course, progress = attempt.course, attempt.progress
    held = [tuple(i) for i in attempt.held]
    result = AnswerOutcome(outcome="")
    following = AttentionCheck.objects.filter(attempt_id=attempt.pk, kind=AttentionCheck.Kind.QUESTION,
                                              outcome=AttentionCheck.Outcome.SCHEDULED, due_ms__gt=check.due_ms)
    next_question = following.order_by("due_ms", "number").values_list("due_ms", flat=True).first()
    segment_from = check.due_ms
    if right:
        check.outcome = AttentionCheck.Outcome.RIGHT
        current = [tuple(i) for i in progress.intervals]
        pieces = iv.new_pieces(held, current)  # another tab may have covered some of it meanwhile
        result.credited_ms = iv.length(pieces)
        current = iv.union(current, pieces)
        credited_before = progress.credited_ms
        progress.intervals = [list(i) for i in current]
        progress.covered_ms = iv.length(current)
        progress.credited_ms += result.credited_ms
        record_tracked_beat(
            progress=progress, course=course, attempt_id=attempt.pk,
            seq=attention.SERVER_SEQ_BASE + check.number,
            seconds=progress.credited_ms // 1000 - credited_before // 1000, occurred_at=max(now, attempt.started_at),
            details={"segments": [], "reading_ms": 0, "rate": 1.0, "hidden": False, "elapsed_ms": 0,
                     "received_at": now.isoformat(), "played_ms": 0, "credited_ms": result.credited_ms,
                     "cut_ms": 0, "flags": [], "check": check.pk})
    else:
        check.outcome = AttentionCheck.Outcome.WRONG if in_time else AttentionCheck.Outcome.MISSED
        check.uncredited_ms = result.uncredited_ms = iv.length(held)
        if attempt.on_wrong == OnWrong.REWIND:
            # Watch the segment again, and answer a question again at the same moment.
            AttentionCheck.objects.create(
                attempt_id=attempt.pk, number=attention.next_check_number(attempt.pk),
                kind=AttentionCheck.Kind.QUESTION, due_ms=check.due_ms,
                question_id=attention.another_question(course, check.question_id))
            next_question, segment_from = check.due_ms, attempt.segment_from_ms
            result.rewind_to_ms = segment_from
        else:
            forfeited = iv.union([tuple(i) for i in attempt.forfeited], held)
            update_columns(Attempt, attempt.pk, {"forfeited": [list(i) for i in forfeited]})
    check.save(update_fields=["answered_at", "outcome", "chosen", "uncredited_ms"])
    result.outcome = check.outcome
    update_columns(Attempt, attempt.pk, {"held": [], "next_question_ms": next_question,
                                         "segment_from_ms": segment_from})
    result.total_credited_ms, result.covered_ms = progress.credited_ms, progress.covered_ms
    result.completed = progress.completed_at is not None
    return result


# ---------------------------------------------------------------- the admin's settings


@transaction.atomic
def save_attention_rule(*, actor, form) -> None:
    """The attention settings of a course or plan (a validated form of its AttentionRule), audited."""
    save_with_audit(actor=actor, form=form, summary=lambda rule: str(rule.course or rule.plan))


@transaction.atomic
def place_question(*, actor, course: Course, question, at_seconds: int) -> PlacedQuestion:
    placed = PlacedQuestion.objects.create(course=course, question=question, at_seconds=at_seconds)
    record_change(actor=actor, action="create", obj=placed,
                  summary=f"{course.title} @{at_seconds // 60}:{at_seconds % 60:02d}: {question.text}")
    return placed


@transaction.atomic
def remove_placed_question(*, actor, placed: PlacedQuestion) -> None:
    delete_with_audit(actor=actor, obj=placed, summary=f"{placed.course.title} @{placed.at_seconds} s")
