"""Learning facts as xAPI 1.0.3 statements, and their delivery to learning record stores.

Three kinds of fact are sent: a completion (verb `completed`, with the credits and the
credit class as result extensions), the time credited for attending a meeting (verb
`attended`), and the video time credited to a person for a course on one day (the video
profile's `played`, with the credited duration). The actor is an account: the
deployment's SITE_URL and the employee number, never a national ID or a name.

Each statement's id is a UUID derived from the fact (uuid5), and each store has an outbox
row per statement with the body built once, so a resend is the same statement and an LRS
that already has it answers 204 or 409: both count as delivered."""

import datetime as dt
import time
import uuid
from collections import defaultdict
from decimal import Decimal

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from learntrace.api.models import RecordStore, Statement
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Meeting
from learntrace.core.backoff import backoff_seconds
from learntrace.core.months import local_zone, start_of_day
from learntrace.org.models import Employee
from learntrace.records.models import Completion, CreditedTime, Source

VERSION = "1.0.3"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
PLAYED = "https://w3id.org/xapi/video/verbs/played"
VIDEO_CATEGORY = "https://w3id.org/xapi/video"
VIDEO_LENGTH = "https://w3id.org/xapi/video/extensions/length"
VIDEO_PROGRESS = "https://w3id.org/xapi/video/extensions/progress"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
MEETING_TYPE = "http://adlnet.gov/expapi/activities/meeting"
VIDEO_TYPE = "https://w3id.org/xapi/video/activity-type/video"
FACTS_PER_RUN = 2000  # facts queued per store and kind in one run of the periodic task
VIDEO_DAY_GRACE = dt.timedelta(hours=1)  # a day's video time is sent once late beats have arrived
# A fact is committed within this long of its recorded_at (as sealing assumes): the search for
# facts not queued yet starts from the ids below which every fact older than that is queued.
GRACE = dt.timedelta(minutes=10)
CLAIM = dt.timedelta(minutes=10)  # how long a sender holds the statements it is posting
COMPLETION, ATTENDANCE, VIDEO_DAY = "completion", "attended", "video-day"  # Statement.fact_kind


def extension(name: str) -> str:
    return f"{settings.SITE_URL}/xapi/extensions/{name}"


def statement_id(kind: str, key: str) -> uuid.UUID:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, settings.SITE_URL)
    return uuid.uuid5(namespace, f"{kind}:{key}")


def _actor(employee) -> dict:
    return {"objectType": "Agent", "account": {"homePage": settings.SITE_URL, "name": employee.employee_no}}


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


def completion_statement(completion: Completion) -> dict:
    return {
        "id": str(statement_id("completion", str(completion.pk))), "version": VERSION,
        "actor": _actor(completion.employee),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": _course_activity(completion.course),
        "result": {"completion": True, "extensions": _credits(completion.credits, completion.credit_class)},
        "timestamp": _stamp(completion.completed_at),
    }


def attendance_statement(fact: CreditedTime, meeting: Meeting | None) -> dict:
    activity = _course_activity(fact.course)
    if meeting is not None:
        context = {"contextActivities": {"parent": [activity]}}
        activity = {"objectType": "Activity", "id": f"{settings.SITE_URL}/checkin/meetings/{meeting.pk}/",
                    "definition": {"type": MEETING_TYPE, "name": {"zh-CN": meeting.title}}}
    else:
        context = {}
    body = {
        "id": str(statement_id("attended", str(fact.pk))), "version": VERSION, "actor": _actor(fact.employee),
        "verb": {"id": ATTENDED, "display": {"en-US": "attended"}}, "object": activity,
        "result": {"duration": _duration(fact.seconds),
                   "extensions": {extension("credited-seconds"): fact.seconds}},
        "timestamp": _stamp(fact.occurred_at),
    }
    if context:
        body["context"] = context
    return body


def video_statement(employee, course, day: dt.date, seconds: int) -> dict:
    return {
        "id": str(statement_id("video-day", f"{employee.pk}:{course.pk}:{day.isoformat()}")), "version": VERSION,
        "actor": _actor(employee),
        "verb": {"id": PLAYED, "display": {"en-US": "played"}},
        "object": _course_activity(course, VIDEO_TYPE),
        "result": {"duration": _duration(seconds), "extensions": {
            extension("credited-seconds"): seconds, VIDEO_LENGTH: course.duration_seconds}},
        "context": {"contextActivities": {"category": [{"id": VIDEO_CATEGORY, "objectType": "Activity"}]},
                    "extensions": {extension("day"): day.isoformat()}},
        "timestamp": _stamp(start_of_day(day + dt.timedelta(days=1))),
    }


# ---------------------------------------------------------------- the outbox


def _enqueue(store: RecordStore, items: list[tuple[str, int | None, dict]], now: dt.datetime) -> int:
    """Queue (fact kind, fact id, body) for the store; returns how many statements were added. A
    statement already there under its id but not naming its fact (queued before statements
    named them) is linked to it instead, so that its fact counts as queued."""
    ids = [uuid.UUID(body["id"]) for _kind, _fact_id, body in items]
    existing = {row.statement_id: row for row in Statement.objects.filter(store=store, statement_id__in=ids)}
    new_rows = []
    for statement_id, (kind, fact_id, body) in zip(ids, items, strict=True):
        row = existing.get(statement_id)
        if row is None:
            new_rows.append(Statement(store=store, statement_id=statement_id, verb=body["verb"]["id"], body=body,
                                      fact_kind=kind, fact_id=fact_id, next_attempt_at=now))
        elif not row.fact_kind:
            Statement.objects.filter(pk=row.pk).update(fact_kind=kind, fact_id=fact_id)
    Statement.objects.bulk_create(new_rows, ignore_conflicts=True)
    return len(new_rows)


def _not_queued(store: RecordStore, kind: str):
    """A condition on facts: no statement of this store names the fact yet."""
    return ~Exists(Statement.objects.filter(store=store, fact_kind=kind, fact_id=OuterRef("pk")))


def _raised_floor(store: RecordStore, kind: str, facts, floor: int, cutoff: dt.datetime) -> int:
    """How far the floor may rise: not past a fact that is not queued yet, and not past the
    highest fact recorded before `cutoff` (every id below that one was handed out before it,
    so its fact is committed by now; a higher free id may still belong to an open transaction)."""
    above = facts.filter(pk__gt=floor)
    settled = above.filter(recorded_at__lte=cutoff).order_by("-pk").values_list("pk", flat=True).first()
    if settled is None:
        return floor
    waiting = above.filter(_not_queued(store, kind)).order_by("pk").values_list("pk", flat=True).first()
    return settled if waiting is None else max(floor, min(settled, waiting - 1))


@transaction.atomic
def queue_new_facts(store: RecordStore, *, now: dt.datetime | None = None, everything: bool = False) -> int:
    """Queue, for the store, the facts that no statement of it names yet; returns how many
    statements were queued.

    Facts are found by what is missing, not by the highest id seen: a fact whose id was given
    out before another's but committed after it is found all the same. The floors only bound
    the search; they rise past ids below facts recorded at least GRACE ago, all queued.
    `everything` (the nightly run) searches from the first fact, for a transaction that stayed
    open longer than that."""
    now = now or timezone.now()
    store = RecordStore.objects.select_for_update().get(pk=store.pk)
    cutoff = now - GRACE
    queued = 0

    completions = Completion.objects.all()
    found = list(completions.filter(_not_queued(store, COMPLETION), pk__gt=-1 if everything else store.completion_floor)
                 .select_related("employee", "course", "credit_class").order_by("pk")[:FACTS_PER_RUN])
    if found:
        queued += _enqueue(store, [(COMPLETION, c.pk, completion_statement(c)) for c in found], now)
    store.completion_floor = _raised_floor(store, COMPLETION, completions, store.completion_floor, cutoff)

    meetings_time = CreditedTime.objects.filter(source=Source.CHECKIN, seconds__gt=0)
    found = list(meetings_time.filter(_not_queued(store, ATTENDANCE),
                                      pk__gt=-1 if everything else store.attendance_floor)
                 .select_related("employee", "course").order_by("pk")[:FACTS_PER_RUN])
    if found:
        # Check-in credits a meeting's course at the meeting's start: that finds the meeting.
        meetings = {(m.course_id, m.starts_at): m for m in Meeting.objects.filter(
            course_id__in={f.course_id for f in found}, starts_at__in={f.occurred_at for f in found})}
        queued += _enqueue(store, [(ATTENDANCE, f.pk, attendance_statement(
            f, meetings.get((f.course_id, f.occurred_at)))) for f in found], now)
    store.attendance_floor = _raised_floor(store, ATTENDANCE, meetings_time, store.attendance_floor, cutoff)

    queued += _queue_video_days(store, now)
    store.save(update_fields=["completion_floor", "attendance_floor", "video_day_mark"])
    return queued


def _queue_video_days(store: RecordStore, now: dt.datetime) -> int:
    """Video time by person, course and local day of recording, for the days that are over."""
    last_day = timezone.localtime(now - VIDEO_DAY_GRACE, local_zone()).date() - dt.timedelta(days=1)
    video = CreditedTime.objects.filter(kind=CourseKind.VIDEO, source=Source.TRACKING, seconds__gt=0)
    first_day = store.video_day_mark + dt.timedelta(days=1) if store.video_day_mark else None
    if first_day is None:
        earliest = video.order_by("recorded_at").values_list("recorded_at", flat=True).first()
        if earliest is None:
            return 0
        first_day = timezone.localtime(earliest, local_zone()).date()
    if first_day > last_day:
        return 0
    until_day = min(last_day, first_day + dt.timedelta(days=30))  # a bounded amount of work per run
    totals = defaultdict(int)
    rows = video.filter(recorded_at__gte=start_of_day(first_day),
                        recorded_at__lt=start_of_day(until_day + dt.timedelta(days=1)))
    for fact in rows.values("employee_id", "course_id", "recorded_at", "seconds").iterator(chunk_size=5000):
        day = timezone.localtime(fact["recorded_at"], local_zone()).date()
        totals[(fact["employee_id"], fact["course_id"], day)] += fact["seconds"]
    employees = Employee.objects.in_bulk({k[0] for k in totals})
    courses = Course.objects.in_bulk({k[1] for k in totals})
    items = [(VIDEO_DAY, None, video_statement(employees[e], courses[c], day, seconds))
             for (e, c, day), seconds in sorted(totals.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))]
    store.video_day_mark = until_day
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


def _put_each(client: httpx.Client, url: str, claim: uuid.UUID, rows: list[Statement], now: dt.datetime) -> None:
    """After a batch was refused with 409, find out statement by statement (PUT with its id).
    Stops well before the claim lapses: what is left goes back to the queue for the next run."""
    deadline = time.monotonic() + CLAIM.total_seconds() / 2
    for row in rows:
        if time.monotonic() > deadline:
            break
        try:
            response = client.put(url, params={"statementId": str(row.statement_id)}, json=row.body)
        except httpx.HTTPError as exc:
            _mark_failed(claim, [row], f"{type(exc).__name__}: {exc}", now)
            continue
        if response.status_code in (200, 204, 409):
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
    """Put failed (or the given) statements back in the queue, due now."""
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
