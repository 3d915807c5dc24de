"""Importing an online meeting's participant list: a dry run that reads the whole list and matches
each person, the admin's review of those not matched for sure, then the credit, once.

A person who joined several times is one participant whose join-leave intervals are merged; only
the time inside the scheduled meeting counts. The presence rule credits those present for at least
the meeting's share (e.g. 85 %) of the scheduled time, with what the meeting credits (the scheduled
duration, or the time present). Crediting goes through check-in's attendance, which never credits
a person twice for one meeting: a list imported twice, or a file and then the API, credits once."""

import datetime as dt
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.catalog.models import CourseKind
from learntrace.checkin import services as checkin
from learntrace.checkin.models import Meeting
from learntrace.core.audit import record_change
from learntrace.onlineattendance.formats import JoinRow, Parsed
from learntrace.onlineattendance.matching import Directory, names_of
from learntrace.onlineattendance.models import OnlineMeeting, Participant, ParticipantImport

# What applying did for a participant.
CREDITED, ALREADY, TOO_SHORT, NOT_ON_ROSTER, SKIPPED = "credited", "already", "too_short", "not_on_roster", "skipped"


class NotOnline(ValidationError):
    pass


def online_of(meeting: Meeting) -> OnlineMeeting:
    """The meeting's online settings (made with the defaults the first time); only for live online courses."""
    if meeting.course.kind != CourseKind.LIVE:
        raise NotOnline(_("Only meetings of a live online course take attendance from a meeting platform."))
    online, _created = OnlineMeeting.objects.get_or_create(meeting=meeting)
    return online


def merge(intervals: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Overlapping or touching intervals as one (two devices at once count once)."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def seconds_within(intervals, start: dt.datetime, end: dt.datetime) -> int:
    """Seconds of the (merged) intervals inside the scheduled [start, end]."""
    total = 0.0
    for joined, left in intervals:
        total += max((min(left, end) - max(joined, start)).total_seconds(), 0)
    return int(total)


def meets_rule(online: OnlineMeeting, present_seconds: int) -> bool:
    """Present for at least the rule's share of the scheduled time (exactly the share counts)."""
    return present_seconds * 100 >= online.presence_percent * online.meeting.duration_seconds


def seconds_to_credit(online: OnlineMeeting, present_seconds: int) -> int:
    if not meets_rule(online, present_seconds):
        return 0
    meeting = online.meeting
    return meeting.duration_seconds if meeting.credit == Meeting.Credit.SCHEDULED else present_seconds


def _person_key(join: JoinRow) -> tuple:
    for key in ("platform_user_id", "employee_no", "email", "mobile"):
        if getattr(join, key):
            return key, getattr(join, key).lower()
    return "name", names_of(join.name)[0], join.department


@dataclass
class Person:
    joins: list[JoinRow] = field(default_factory=list)

    def first(self, key: str) -> str:
        return next((getattr(j, key) for j in self.joins if getattr(j, key)), "")


def people(parsed: Parsed) -> list[Person]:
    """The joins grouped by person, in the order they first appear."""
    grouped: OrderedDict[tuple, Person] = OrderedDict()
    for join in parsed.joins:
        grouped.setdefault(_person_key(join), Person()).joins.append(join)
    return list(grouped.values())


@transaction.atomic
def create_import(*, actor, online: OnlineMeeting, parsed: Parsed, source: str, file_name: str = "",
                  data: bytes = b"") -> ParticipantImport:
    """The dry run's result, kept for review. Refused (nothing written) while any row has an error."""
    if parsed.error_count:
        raise ValidationError(_("The list has %(count)d errors; nothing was imported.") % {"count": parsed.error_count})
    meeting = online.meeting
    batch = ParticipantImport.objects.create(
        online=online, platform=online.platform, source=source, file_name=file_name[:255],
        sha256=hashlib.sha256(data).hexdigest() if data else "", row_count=len(parsed.joins), created_by=actor)
    directory = Directory(online.platform)
    for person in people(parsed):
        intervals = merge([(j.joined, j.left) for j in person.joins if j.joined and j.left])
        fields = {key: person.first(key) for key in
                  ("name", "department", "platform_user_id", "employee_no", "mobile", "email")}
        verdict = directory.judge(**fields)
        participant = Participant.objects.create(
            batch=batch, rows=[j.row for j in person.joins], **fields,
            intervals=[[a.isoformat(), b.isoformat()] for a, b in intervals],
            first_join=intervals[0][0], last_leave=intervals[-1][1],
            present_seconds=seconds_within(intervals, meeting.starts_at, meeting.ends_at),
            match=verdict.match, matched_by=verdict.matched_by, employee=verdict.employee)
        if verdict.candidates:
            participant.candidates.set(verdict.candidates)
    record_change(actor=actor, action="import_participants", obj=batch,
                  summary=f"{meeting.title}: {len(parsed.joins)}")
    return batch


@transaction.atomic
def decide(*, actor, participant: Participant, employee=None, skip: bool = False) -> Participant:
    """The admin's choice for a participant not matched for sure: this employee, or nobody."""
    if participant.batch.status != ParticipantImport.Status.REVIEW:
        raise ValidationError(_("This import was already credited or discarded."))
    if skip:
        participant.match, participant.employee, participant.matched_by = Participant.Match.SKIPPED, None, "admin"
    elif employee is None or not employee.is_active:
        raise ValidationError(_("Choose an active employee, or skip the row."))
    else:
        participant.match, participant.employee, participant.matched_by = Participant.Match.MATCHED, employee, "admin"
    participant.save(update_fields=["match", "employee", "matched_by"])
    record_change(actor=actor, action="match_participant", obj=participant.batch,
                  summary=f"{participant.pk}: {employee.employee_no if employee else '-'}")
    return participant


def open_rows(batch: ParticipantImport) -> int:
    return batch.participants.filter(match__in=[Participant.Match.AMBIGUOUS, Participant.Match.UNMATCHED]).count()


@transaction.atomic
def apply(*, actor, batch: ParticipantImport, now: dt.datetime | None = None) -> dict:
    """Credit everyone matched who meets the presence rule; each person at most once per meeting."""
    batch = ParticipantImport.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ParticipantImport.Status.REVIEW:
        raise ValidationError(_("This import was already credited or discarded."))
    waiting = open_rows(batch)
    if waiting:
        raise ValidationError(_("%(count)d participants still need a decision: choose the employee or skip the row.")
                              % {"count": waiting})
    online = batch.online
    meeting = online.meeting
    counts = dict.fromkeys((CREDITED, ALREADY, TOO_SHORT, NOT_ON_ROSTER, SKIPPED), 0)
    seen: set[int] = set()
    for participant in batch.participants.select_related("employee"):
        seconds = seconds_to_credit(online, participant.present_seconds)
        if participant.match == Participant.Match.SKIPPED:
            outcome, added = SKIPPED, 0
        elif participant.employee_id in seen or not seconds:
            # Two rows for one employee (the admin picked the same person twice) credit once.
            outcome, added = (ALREADY if participant.employee_id in seen else TOO_SHORT), 0
        elif not checkin.on_roster(meeting, participant.employee):
            outcome, added = NOT_ON_ROSTER, 0
        else:
            added = checkin.record_online_presence(
                meeting=meeting, employee=participant.employee, first_join=participant.first_join,
                last_leave=participant.last_leave, seconds=seconds, actor=actor, now=now,
                note=_("%(platform)s participant list") % {"platform": batch.get_platform_display()})
            outcome = CREDITED if added else ALREADY
        if participant.employee_id:
            seen.add(participant.employee_id)
        participant.outcome, participant.credited_seconds = outcome, added
        participant.save(update_fields=["outcome", "credited_seconds"])
        counts[outcome] += 1
    batch.status, batch.finished_at, batch.summary = ParticipantImport.Status.APPLIED, now or timezone.now(), counts
    batch.save(update_fields=["status", "finished_at", "summary"])
    record_change(actor=actor, action="credit_participants", obj=batch,
                  summary=f"{meeting.title}: {counts[CREDITED]} credited")
    return counts


@transaction.atomic
def discard(*, actor, batch: ParticipantImport) -> None:
    if batch.status != ParticipantImport.Status.REVIEW:
        raise ValidationError(_("This import was already credited or discarded."))
    batch.status, batch.finished_at = ParticipantImport.Status.DISCARDED, timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    record_change(actor=actor, action="discard_participants", obj=batch, summary=batch.file_name or batch.source)
