"""Learning facts as xAPI 1.0.3 statements, and their delivery to learning record stores.

Three kinds of fact are sent: a completion (verb `completed`, with the credits and the
credit class as result extensions), the time credited for attending a meeting (verb
`attended`), and the video time credited to a person for a course on one local day (plain
ADL `experienced` with the day's credited duration: a day's total is not a player event, so
it does not claim the xAPI Video Profile). The actor is an account: the deployment's
SITE_URL and the employee number, never a national ID or a name.

Statement ids are UUIDs derived (uuid5) from this installation's id (kept in the database)
and the fact, its recording time included: a reinstall or a restore that hands out the
same primary keys again never sends a different fact under an id a store already has.
Each store has an outbox row per statement with the body built once, so a resend is the
same statement.

Statements are immutable, so corrections go out as the specification provides: a voided
completion as a `voided` statement that names the completion's statement; a time
correction as a voiding of the statement that told the old time, followed by a new
version that tells the corrected time (its context names the statement it replaces). A
store added later is never sent a voided completion, and is sent the corrected time.

A store that answers 409 Conflict for an id is asked for its copy (GET by statementId):
the same statement (as the specification compares them) counts as delivered, a different
one is a conflict shown to the admin."""

import datetime as dt
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from learntrace.api.models import Installation, RecordStore, Statement
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Meeting
from learntrace.core.backoff import backoff_seconds
from learntrace.core.months import local_date, local_zone, start_of_day
from learntrace.org.models import Employee
from learntrace.records import effective
from learntrace.records.models import Completion, Correction, CreditedTime, Source

VERSION = "1.0.3"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
MEETING_TYPE = "http://adlnet.gov/expapi/activities/meeting"
MEDIA_TYPE = "http://adlnet.gov/expapi/activities/media"
FACTS_PER_RUN = 2000  # facts queued per store and kind in one run of the periodic task
VIDEO_DAY_GRACE = dt.timedelta(hours=1)  # a day's video time is sent once late beats have arrived
# A fact is committed within this long of its recorded_at (as sealing assumes): the search for
# facts not queued yet starts from the ids below which every fact older than that is queued.
GRACE = dt.timedelta(minutes=10)
CLAIM = dt.timedelta(minutes=10)  # how long a sender holds the statements it is posting
COMPLETION, ATTENDANCE, VIDEO_DAY = "completion", "attended", "video-day"  # Statement.fact_kind
# Our extensions, each answered with a description page under SITE_URL (see api.views.extension).
EXTENSIONS = {
    "credits": _("The credits the completion awarded, a number (for example 2.0)."),
    "credit-class": _("The credit class of the completion, as {\"code\": ..., \"name\": ...}, or null when the "
                      "course has none."),
    "credited-seconds": _("The seconds of learning credited, a whole number, with an admin's corrections applied."),
    "day": _("The local calendar day (YYYY-MM-DD, in the installation's time zone) the video was watched on."),
}


def extension(name: str) -> str:
    return f"{settings.SITE_URL}/xapi/extensions/{name}"


def installation_id() -> uuid.UUID:
    """This installation's id: made by the first caller, the same for every later one."""
    row = Installation.objects.order_by("pk").first()
    if row is None:
        try:
            with transaction.atomic():
                row = Installation.objects.create(pk=1, uuid=uuid.uuid4())
        except IntegrityError:  # another process made it first
            row = Installation.objects.get(pk=1)
    return row.uuid


def namespace() -> uuid.UUID:
    return uuid.uuid5(installation_id(), settings.SITE_URL)


def statement_id(kind: str, key: str, ns: uuid.UUID | None = None) -> uuid.UUID:
    return uuid.uuid5(ns or namespace(), f"{kind}:{key}")


def _actor(employee) -> dict:
    return {"objectType": "Agent", "account": {"homePage": settings.SITE_URL, "name": employee.employee_no}}


def _system() -> dict:
    """Who voids a statement: the installation (a home page no person's account has)."""
    return {"objectType": "Agent", "account": {"homePage": f"{settings.SITE_URL}/xapi/", "name": "learntrace"}}


def _course_activity(course, activity_type: str = COURSE_TYPE) -> dict:
    return {"objectType": "Activity", "id": f"{settings.SITE_URL}/catalog/courses/{course.pk}/",
            "definition": {"type": activity_type, "name": {"zh-CN": course.title}}}


def _credits(course_credits: Decimal, credit_class) -> dict:
    return {extension("credits"): float(course_credits),
            extension("credit-class"): ({"code": credit_class.code, "name": credit_class.name}
                                        if credit_class is not None else None)}


def _duration(seconds: int) -> str:
    return f"PT{int(seconds)}S"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _version_key(key: str, version: int) -> str:
    return key if version == 1 else f"{key}:v{version}"


def _replacing(body: dict, previous: uuid.UUID | None) -> dict:
    """A corrected version names the statement it replaces (context.statement)."""
    if previous is not None:
        body.setdefault("context", {})["statement"] = {"objectType": "StatementRef", "id": str(previous)}
    return body


def completion_statement(completion: Completion, ns: uuid.UUID | None = None) -> dict:
    key = f"{completion.pk}:{_stamp(completion.recorded_at)}"
    return {
        "id": str(statement_id(COMPLETION, key, ns)), "version": VERSION,
        "actor": _actor(completion.employee),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": _course_activity(completion.course),
        "result": {"completion": True, "extensions": _credits(completion.credits, completion.credit_class)},
        "timestamp": _stamp(completion.completed_at),
    }


def attendance_statement(fact: CreditedTime, meeting: Meeting | None, *, seconds: int | None = None,
                         version: int = 1, replaces: uuid.UUID | None = None,
                         ns: uuid.UUID | None = None) -> dict:
    """`seconds`: the credited time as corrected (the fact's own by default)."""
    seconds = fact.seconds if seconds is None else seconds
    activity = _course_activity(fact.course)
    if meeting is not None:
        context = {"contextActivities": {"parent": [activity]}}
        activity = {"objectType": "Activity", "id": f"{settings.SITE_URL}/checkin/meetings/{meeting.pk}/",
                    "definition": {"type": MEETING_TYPE, "name": {"zh-CN": meeting.title}}}
    else:
        context = {}
    key = _version_key(f"{fact.pk}:{_stamp(fact.recorded_at)}", version)
    body = {
        "id": str(statement_id(ATTENDANCE, key, ns)), "version": VERSION, "actor": _actor(fact.employee),
        "verb": {"id": ATTENDED, "display": {"en-US": "attended"}}, "object": activity,
        "result": {"duration": _duration(seconds), "extensions": {extension("credited-seconds"): seconds}},
        "timestamp": _stamp(fact.occurred_at),
    }
    if context:
        body["context"] = context
    return _replacing(body, replaces)


def video_statement(employee, course, day: dt.date, seconds: int, *, version: int = 1,
                    replaces: uuid.UUID | None = None, ns: uuid.UUID | None = None) -> dict:
    """A day's credited video time: `experienced` the course's video for that long."""
    key = _version_key(f"{employee.pk}:{course.pk}:{day.isoformat()}", version)
    body = {
        "id": str(statement_id(VIDEO_DAY, key, ns)), "version": VERSION,
        "actor": _actor(employee),
        "verb": {"id": EXPERIENCED, "display": {"en-US": "experienced"}},
        "object": _course_activity(course, MEDIA_TYPE),
        "result": {"duration": _duration(seconds), "extensions": {extension("credited-seconds"): seconds}},
        "context": {"extensions": {extension("day"): day.isoformat()}},
        "timestamp": _stamp(start_of_day(day + dt.timedelta(days=1))),
    }
    return _replacing(body, replaces)


def voiding_statement(target: uuid.UUID, at: dt.datetime, ns: uuid.UUID | None = None) -> dict:
    return {
        "id": str(statement_id("void", str(target), ns)), "version": VERSION, "actor": _system(),
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": str(target)},
        "timestamp": _stamp(at),
    }


# ---------------------------------------------------------------- the outbox


@dataclass
class Item:
    """A statement to queue, and the fact it tells of (or withdraws)."""

    kind: str
    body: dict
    fact_id: int | None = None
    fact_key: str = ""
    voids: uuid.UUID | None = None


def _enqueue(store: RecordStore, items: list[Item], now: dt.datetime) -> int:
    """Queue the items for the store; returns how many statements were added. A statement
    already there under its id but not naming its fact (queued before statements named them)
    is linked to it instead, so that its fact counts as queued."""
    ids = [uuid.UUID(item.body["id"]) for item in items]
    existing = {row.statement_id: row for row in Statement.objects.filter(store=store, statement_id__in=ids)}
    new_rows = []
    for statement_id_, item in zip(ids, items, strict=True):
        row = existing.get(statement_id_)
        if row is None:
            new_rows.append(Statement(store=store, statement_id=statement_id_, verb=item.body["verb"]["id"],
                                      body=item.body, fact_kind=item.kind, fact_id=item.fact_id,
                                      fact_key=item.fact_key, voids=item.voids, next_attempt_at=now))
        elif not row.fact_kind:
            Statement.objects.filter(pk=row.pk).update(fact_kind=item.kind, fact_id=item.fact_id)
    Statement.objects.bulk_create(new_rows, ignore_conflicts=True)
    return len(new_rows)


def _not_queued(store: RecordStore, kind: str):
    """A condition on facts: no statement of this store names the fact yet."""
    return ~Exists(Statement.objects.filter(store=store, fact_kind=kind, fact_id=OuterRef("pk")))


def _raised_floor(store: RecordStore, kind: str | None, facts, floor: int, cutoff: dt.datetime) -> int:
    """How far the floor may rise: not past a fact that is not queued yet, and not past the
    highest fact recorded before `cutoff` (every id below that one was handed out before it,
    so its fact is committed by now; a higher free id may still belong to an open transaction).
    `kind` None: every fact found was handled (corrections)."""
    above = facts.filter(pk__gt=floor)
    settled = above.filter(recorded_at__lte=cutoff).order_by("-pk").values_list("pk", flat=True).first()
    if settled is None:
        return floor
    if kind is None:
        return settled
    waiting = above.filter(_not_queued(store, kind)).order_by("pk").values_list("pk", flat=True).first()
    return settled if waiting is None else max(floor, min(settled, waiting - 1))


class _Versions:
    """The statements a store was queued about some facts of one kind, to restate them: the
    current one (neither voided nor voiding) and how many versions there were."""

    def __init__(self, store: RecordStore, kind: str, *, ids=(), keys=()):
        self.kind = kind
        rows = Statement.objects.filter(store=store, fact_kind=kind).order_by("pk")
        rows = rows.filter(fact_key__in=list(keys)) if keys else rows.filter(fact_id__in=list(ids))
        self.rows = defaultdict(list)
        for row in rows.only("statement_id", "fact_id", "fact_key", "voids", "body"):
            self.rows[row.fact_key or row.fact_id].append(row)

    def current(self, ident) -> Statement | None:
        rows = self.rows.get(ident, [])
        voided = {row.voids for row in rows if row.voids is not None}
        told = [row for row in rows if row.voids is None and row.statement_id not in voided]
        return told[-1] if told else None

    def next_version(self, ident) -> int:
        return sum(1 for row in self.rows.get(ident, []) if row.voids is None) + 1

    def restate(self, ident, seconds: int | None, build, at: dt.datetime, ns: uuid.UUID) -> list[Item]:
        """What to queue so that the store ends up telling `seconds` for the fact (None: nothing,
        the fact is withdrawn): the current statement voided if it tells something else, and a
        new version built by `build(version, replaces)`."""
        current = self.current(ident)
        if current is not None and seconds is not None and seconds == current.body["result"].get(
                "extensions", {}).get(extension("credited-seconds")):
            return []
        fact_id, fact_key = (None, ident) if isinstance(ident, str) else (ident, "")
        items = []
        if current is not None:
            items.append(Item(self.kind, voiding_statement(current.statement_id, at, ns), fact_id, fact_key,
                              voids=current.statement_id))
        if seconds is not None and (current is not None or seconds > 0):
            body = build(self.next_version(ident), current.statement_id if current else None)
            items.append(Item(self.kind, body, fact_id, fact_key))
        return items


def _effective_seconds(facts: list[CreditedTime]) -> dict[int, int]:
    """Each fact's seconds with the corrections that point at it added (never below zero)."""
    seconds = {fact.pk: fact.seconds for fact in facts}
    for row in (Correction.objects.filter(corrects=Correction.Target.CREDITED_TIME, corrects_id__in=list(seconds))
                .values("corrects_id").annotate(total=Sum("seconds_delta")).order_by()):
        seconds[row["corrects_id"]] = max(seconds[row["corrects_id"]] + row["total"], 0)
    return seconds


def _meetings_of(facts: list[CreditedTime]) -> dict:
    # Check-in credits a meeting's course at the meeting's start: that finds the meeting.
    return {(m.course_id, m.starts_at): m for m in Meeting.objects.filter(
        course_id__in={f.course_id for f in facts}, starts_at__in={f.occurred_at for f in facts})}


@transaction.atomic
def queue_new_facts(store: RecordStore, *, now: dt.datetime | None = None, everything: bool = False) -> int:
    """Queue, for the store, the facts that no statement of it names yet, and the corrections
    of facts it was told; returns how many statements were queued.

    Facts are found by what is missing, not by the highest id seen: a fact whose id was given
    out before another's but committed after it is found all the same. The floors only bound
    the search; they rise past ids below facts recorded at least GRACE ago, all queued.
    `everything` (the nightly run) searches from the first fact, for a transaction that stayed
    open longer than that. A voided completion is never queued; time goes out as corrected."""
    now = now or timezone.now()
    store = RecordStore.objects.select_for_update().get(pk=store.pk)
    cutoff = now - GRACE
    ns = namespace()
    queued = 0

    completions = effective.completions()
    found = list(completions.filter(_not_queued(store, COMPLETION), pk__gt=-1 if everything else store.completion_floor)
                 .select_related("employee", "course", "credit_class").order_by("pk")[:FACTS_PER_RUN])
    if found:
        queued += _enqueue(store, [Item(COMPLETION, completion_statement(c, ns), c.pk) for c in found], now)
    store.completion_floor = _raised_floor(store, COMPLETION, completions, store.completion_floor, cutoff)

    meetings_time = CreditedTime.objects.filter(source=Source.CHECKIN, seconds__gt=0)
    found = list(meetings_time.filter(_not_queued(store, ATTENDANCE),
                                      pk__gt=-1 if everything else store.attendance_floor)
                 .select_related("employee", "course").order_by("pk")[:FACTS_PER_RUN])
    if found:
        meetings, seconds = _meetings_of(found), _effective_seconds(found)
        queued += _enqueue(store, [Item(ATTENDANCE, attendance_statement(
            f, meetings.get((f.course_id, f.occurred_at)), seconds=seconds[f.pk], ns=ns), f.pk) for f in found], now)
    store.attendance_floor = _raised_floor(store, ATTENDANCE, meetings_time, store.attendance_floor, cutoff)

    queued += _queue_video_days(store, now, ns)
    queued += _queue_corrections(store, now, ns, everything=everything)
    store.save(update_fields=["completion_floor", "attendance_floor", "video_day_mark", "correction_floor"])
    return queued


def _queue_corrections(store: RecordStore, now: dt.datetime, ns: uuid.UUID, *, everything: bool) -> int:
    """Bring what the store was told in line with the corrections made since the floor: a voided
    completion's statement voided, a corrected time restated. Restating compares with what the
    store was told, so handling a correction twice queues nothing more."""
    corrections = Correction.objects.all()
    found = list(corrections.filter(pk__gt=-1 if everything else store.correction_floor)
                 .order_by("pk")[:FACTS_PER_RUN])
    items: list[Item] = []
    void_ids = [c.corrects_id for c in found if c.corrects == Correction.Target.COMPLETION and c.voids]
    if void_ids:
        told = _Versions(store, COMPLETION, ids=void_ids)
        for correction in found:
            if correction.corrects == Correction.Target.COMPLETION and correction.voids:
                items += told.restate(correction.corrects_id, None, None, correction.recorded_at, ns)
    time_ids = {c.corrects_id for c in found if c.corrects == Correction.Target.CREDITED_TIME}
    facts = list(CreditedTime.objects.filter(pk__in=time_ids, seconds__gt=0).select_related("employee", "course"))
    meeting_facts = [f for f in facts if f.source == Source.CHECKIN]
    if meeting_facts:
        told = _Versions(store, ATTENDANCE, ids=[f.pk for f in meeting_facts])
        meetings, seconds = _meetings_of(meeting_facts), _effective_seconds(meeting_facts)
        for fact in meeting_facts:
            if told.current(fact.pk) is None:
                continue  # not told yet: it goes out as corrected when it is queued
            meeting = meetings.get((fact.course_id, fact.occurred_at))
            items += told.restate(fact.pk, seconds[fact.pk], lambda version, replaces, f=fact, m=meeting:
                                  attendance_statement(f, m, seconds=seconds[f.pk], version=version,
                                                       replaces=replaces, ns=ns), now, ns)
    days = {(f.employee_id, f.course_id, local_date(f.occurred_at)) for f in facts
            if f.source == Source.TRACKING and f.kind == CourseKind.VIDEO}
    if store.video_day_mark is not None:
        days = {key for key in days if key[2] <= store.video_day_mark}  # later days go out corrected
        items += _restate_video_days(store, days, now, ns)
    store.correction_floor = _raised_floor(store, None, corrections, store.correction_floor, now - GRACE)
    return _enqueue(store, items, now) if items else 0


def _video_totals(days: set[tuple[int, int, dt.date]]) -> dict:
    """The credited video seconds of each (employee, course, local day watched), corrections added."""
    totals: dict = defaultdict(int)
    if not days:
        return totals
    starts, ends = start_of_day(min(d for _e, _c, d in days)), start_of_day(max(d for _e, _c, d in days)
                                                                             + dt.timedelta(days=1))
    people, courses = {e for e, _c, _d in days}, {c for _e, c, _d in days}
    video = CreditedTime.objects.filter(kind=CourseKind.VIDEO, source=Source.TRACKING, employee_id__in=people,
                                        course_id__in=courses, occurred_at__gte=starts, occurred_at__lt=ends)
    for fact in video.values("employee_id", "course_id", "occurred_at", "seconds").iterator(chunk_size=5000):
        totals[(fact["employee_id"], fact["course_id"], local_date(fact["occurred_at"]))] += fact["seconds"]
    fixes = Correction.objects.filter(corrects=Correction.Target.CREDITED_TIME, employee_id__in=people,
                                      course_id__in=courses, occurred_at__gte=starts, occurred_at__lt=ends,
                                      corrects_id__in=video.values("pk"))
    for fix in fixes.values("employee_id", "course_id", "occurred_at", "seconds_delta"):
        totals[(fix["employee_id"], fix["course_id"], local_date(fix["occurred_at"]))] += fix["seconds_delta"]
    return {key: max(total, 0) for key, total in totals.items() if key in days}


def _day_key(employee_id: int, course_id: int, day: dt.date) -> str:
    return f"{employee_id}:{course_id}:{day.isoformat()}"


def _restate_video_days(store: RecordStore, days: set, now: dt.datetime, ns: uuid.UUID) -> list[Item]:
    if not days:
        return []
    totals = _video_totals(days)
    told = _Versions(store, VIDEO_DAY, keys=[_day_key(*key) for key in days])
    employees = Employee.objects.in_bulk({k[0] for k in days})
    courses = Course.objects.in_bulk({k[1] for k in days})
    items = []
    for e, c, day in sorted(days, key=lambda key: (key[2], key[0], key[1])):
        seconds = totals.get((e, c, day), 0)
        items += told.restate(_day_key(e, c, day), seconds, lambda version, replaces, e=e, c=c, day=day, s=seconds:
                              video_statement(employees[e], courses[c], day, s, version=version,
                                              replaces=replaces, ns=ns), now, ns)
    return items


def _queue_video_days(store: RecordStore, now: dt.datetime, ns: uuid.UUID) -> int:
    """Video time by person, course and local day it was watched, for the days that are over;
    a day told before is restated when beats of it arrive late (a player that was offline)."""
    last_day = timezone.localtime(now - VIDEO_DAY_GRACE, local_zone()).date() - dt.timedelta(days=1)
    video = CreditedTime.objects.filter(kind=CourseKind.VIDEO, source=Source.TRACKING, seconds__gt=0)
    first_day = store.video_day_mark + dt.timedelta(days=1) if store.video_day_mark else None
    late = set()
    if first_day is None:
        earliest = video.order_by("occurred_at").values_list("occurred_at", flat=True).first()
        if earliest is None:
            return 0
        first_day = local_date(earliest)
    else:
        # Beats of days told before, recorded since those days were over.
        for fact in video.filter(recorded_at__gte=start_of_day(first_day), occurred_at__lt=start_of_day(first_day)
                                 ).values("employee_id", "course_id", "occurred_at").distinct()[:FACTS_PER_RUN]:
            late.add((fact["employee_id"], fact["course_id"], local_date(fact["occurred_at"])))
    days = set()
    if first_day <= last_day:
        until_day = min(last_day, first_day + dt.timedelta(days=30))  # a bounded amount of work per run
        rows = video.filter(occurred_at__gte=start_of_day(first_day),
                            occurred_at__lt=start_of_day(until_day + dt.timedelta(days=1)))
        for fact in rows.values("employee_id", "course_id", "occurred_at").iterator(chunk_size=5000):
            days.add((fact["employee_id"], fact["course_id"], local_date(fact["occurred_at"])))
        store.video_day_mark = until_day
    items = _restate_video_days(store, days | late, now, ns)
    return _enqueue(store, items, now) if items else 0


def _client(store: RecordStore) -> httpx.Client:
    auth = httpx.BasicAuth(store.username, store.password) if store.username else None
    return httpx.Client(auth=auth, timeout=httpx.Timeout(20.0, connect=5.0), headers={
        "X-Experience-API-Version": VERSION, "Content-Type": "application/json"})


def _describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


def _claim(store: RecordStore, now: dt.datetime) -> tuple[uuid.UUID, list[Statement]]:
    """Claim the store's next due statements for this sender: rows another sender holds are
    skipped (SKIP LOCKED on PostgreSQL; SQLite's write transactions take turns), and a claim
    is only taken over once it has lapsed."""
    claim = uuid.uuid4()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    with transaction.atomic():
        due = list(Statement.objects.filter(free, store=store, status=Statement.Status.PENDING,
                                            next_attempt_at__lte=now)
                   .order_by("pk").select_for_update(skip_locked=True)
                   .values_list("pk", flat=True)[:settings.XAPI_BATCH_SIZE])
        Statement.objects.filter(free, pk__in=due).update(claim=claim, claimed_until=now + CLAIM)
    return claim, list(Statement.objects.filter(pk__in=due, claim=claim).order_by("pk"))


def _release(claim: uuid.UUID, rows: list[Statement]) -> None:
    Statement.objects.filter(pk__in=[r.pk for r in rows], claim=claim).update(claim=None, claimed_until=None)


def _mark_sent(claim: uuid.UUID, rows: list[Statement], now: dt.datetime) -> None:
    Statement.objects.filter(pk__in=[r.pk for r in rows], claim=claim).update(
        status=Statement.Status.SENT, sent_at=now, last_error="", claim=None, claimed_until=None)


def _mark_failed(claim: uuid.UUID, rows: list[Statement], error: str, now: dt.datetime) -> None:
    for row in rows:
        attempts = row.attempts + 1
        failed = attempts >= settings.XAPI_MAX_ATTEMPTS
        Statement.objects.filter(pk=row.pk, claim=claim).update(
            attempts=attempts, last_error=error[:500],
            next_attempt_at=now + dt.timedelta(seconds=backoff_seconds(attempts, first_seconds=60)),
            status=Statement.Status.FAILED if failed else row.status, claim=None, claimed_until=None)


# Set by the store, or outside what a statement is (xAPI 1.0.3, "Statement Immutability"):
# ignored when comparing our statement with the store's copy.
_STORE_SET = ("id", "authority", "stored", "version")


def _comparable(value, path: tuple = ()):
    if isinstance(value, dict):
        return {key: _comparable(item, path + (key,)) for key, item in value.items()
                if not (path == () and key in _STORE_SET) and key != "display"
                and not (key == "definition" and path and path[-1] in ("object", "parent", "grouping", "category",
                                                                      "other"))}
    if isinstance(value, list):
        return [_comparable(item, path) for item in value]
    return value


def _moment(text):
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return text


def same_statement(ours: dict, theirs: dict) -> bool:
    """Whether the store's copy is our statement, as the specification compares them: what the
    store sets (id, authority, stored, version), a verb's display and activity definitions are
    not part of it; a timestamp is compared as a moment, not as text."""
    a, b = _comparable(ours), _comparable(theirs)
    a_time, b_time = a.pop("timestamp", None), b.pop("timestamp", None)
    return a == b and (a_time is None or b_time is None or _moment(a_time) == _moment(b_time))


def _stored_copy(client: httpx.Client, url: str, statement_id_: uuid.UUID) -> dict | None:
    """The store's statement under the id (a voided one is only found by voidedStatementId)."""
    for param in ("statementId", "voidedStatementId"):
        response = client.get(url, params={param: str(statement_id_)})
        if response.status_code == 200:
            return response.json()
        if response.status_code != 404:
            response.raise_for_status()
    return None


def _differences(ours: dict, theirs: dict) -> str:
    a, b = _comparable(ours), _comparable(theirs)
    keys = sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key) and key != "timestamp")
    if "timestamp" in a and _moment(a.get("timestamp")) != _moment(b.get("timestamp")):
        keys.append("timestamp")
    return ", ".join(keys)


def _mark_conflict(claim: uuid.UUID, row: Statement, detail: str, now: dt.datetime) -> None:
    Statement.objects.filter(pk=row.pk, claim=claim).update(
        status=Statement.Status.CONFLICT, attempts=row.attempts + 1, last_error=detail[:500],
        claim=None, claimed_until=None)


def _put_each(client: httpx.Client, url: str, claim: uuid.UUID, rows: list[Statement], now: dt.datetime) -> None:
    """After a batch was refused with 409, find out statement by statement (PUT with its id). A
    409 to a PUT means the store holds a statement under that id: its copy is fetched and
    compared; the same statement is delivered, a different one a conflict for the admin.
    Stops well before the claim lapses: what is left goes back to the queue for the next run."""
    deadline = time.monotonic() + CLAIM.total_seconds() / 2
    for row in rows:
        if time.monotonic() > deadline:
            break
        try:
            response = client.put(url, params={"statementId": str(row.statement_id)}, json=row.body)
            if response.status_code == 409:
                theirs = _stored_copy(client, url, row.statement_id)
                if theirs is not None and same_statement(row.body, theirs):
                    _mark_sent(claim, [row], now)
                else:
                    # What differs, by property (the page says what a conflict is, in the admin's language).
                    _mark_conflict(claim, row, _differences(row.body, theirs) if theirs else "", now)
                continue
        except httpx.HTTPError as exc:
            _mark_failed(claim, [row], f"{type(exc).__name__}: {exc}", now)
            continue
        except ValueError as exc:  # the store's copy is not JSON
            _mark_failed(claim, [row], f"{type(exc).__name__}: {exc}", now)
            continue
        if response.status_code in (200, 204):
            _mark_sent(claim, [row], now)
        else:
            _mark_failed(claim, [row], _describe(response), now)


def send_due(store: RecordStore, *, now: dt.datetime | None = None, max_batches: int = 20) -> int:
    """POST the store's due statements in batches, each claimed first, so senders running at
    once never post the same statement; returns how many were delivered."""
    now = now or timezone.now()
    url = f"{store.endpoint.rstrip('/')}/statements"
    delivered = 0
    with _client(store) as client:
        for _batch in range(max_batches):
            claim, rows = _claim(store, now)
            if not rows:
                break
            try:
                try:
                    response = client.post(url, json=[r.body for r in rows])
                except httpx.HTTPError as exc:
                    _mark_failed(claim, rows, f"{type(exc).__name__}: {exc}", now)
                    break  # the store is unreachable: the backoff decides when to try again
                if response.status_code in (200, 204):
                    _mark_sent(claim, rows, now)
                    delivered += len(rows)
                elif response.status_code == 409:
                    _put_each(client, url, claim, rows, now)
                    delivered += Statement.objects.filter(pk__in=[r.pk for r in rows],
                                                          status=Statement.Status.SENT).count()
                else:
                    _mark_failed(claim, rows, _describe(response), now)
                    break
            finally:
                _release(claim, rows)  # whatever this run did not settle waits for the next one
    return delivered


def resend(store: RecordStore, statement_ids=None) -> int:
    """Put failed (or the given) statements back in the queue, due now (a conflict, once the
    store's copy was removed or the store replaced)."""
    rows = Statement.objects.filter(store=store)
    rows = rows.filter(pk__in=statement_ids) if statement_ids is not None else rows.filter(
        status=Statement.Status.FAILED)
    return rows.update(status=Statement.Status.PENDING, attempts=0, next_attempt_at=timezone.now())


def sync_all(*, everything: bool = False) -> None:
    for store in RecordStore.objects.filter(is_active=True):
        queue_new_facts(store, everything=everything)
        send_due(store)


def totals(store: RecordStore) -> dict:
    counts = {s: 0 for s in Statement.Status.values}
    for row in Statement.objects.filter(store=store).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
