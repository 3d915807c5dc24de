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
import uuid
from collections import defaultdict
from decimal import Decimal

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from learntrace.api.models import RecordStore, Statement
from learntrace.catalog.models import Course, CourseKind
from learntrace.checkin.models import Meeting
from learntrace.org.models import Employee
from learntrace.plans.periods import local_zone, start_of_day
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
MAX_BACKOFF = dt.timedelta(hours=6)
VIDEO_DAY_GRACE = dt.timedelta(hours=1)  # a day's video time is sent once late beats have arrived


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


def _enqueue(store: RecordStore, bodies: list[dict], now: dt.datetime) -> int:
    rows = [Statement(store=store, statement_id=uuid.UUID(b["id"]), verb=b["verb"]["id"], body=b,
                      next_attempt_at=now) for b in bodies]
    Statement.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def queue_new_facts(store: RecordStore, *, now: dt.datetime | None = None) -> int:
    """Queue the facts recorded since the store's marks; returns how many statements were queued."""
    now = now or timezone.now()
    store = RecordStore.objects.select_for_update().get(pk=store.pk)
    queued = 0

    completions = list(Completion.objects.filter(pk__gt=store.completion_mark).select_related(
        "employee", "course", "credit_class").order_by("pk")[:FACTS_PER_RUN])
    if completions:
        queued += _enqueue(store, [completion_statement(c) for c in completions], now)
        store.completion_mark = completions[-1].pk

    attended = list(CreditedTime.objects.filter(pk__gt=store.attendance_mark, source=Source.CHECKIN, seconds__gt=0)
                    .select_related("employee", "course").order_by("pk")[:FACTS_PER_RUN])
    if attended:
        # Check-in credits a meeting's course at the meeting's start: that finds the meeting.
        meetings = {(m.course_id, m.starts_at): m for m in Meeting.objects.filter(
            course_id__in={f.course_id for f in attended}, starts_at__in={f.occurred_at for f in attended})}
        queued += _enqueue(store, [attendance_statement(f, meetings.get((f.course_id, f.occurred_at)))
                                   for f in attended], now)
        store.attendance_mark = attended[-1].pk

    queued += _queue_video_days(store, now)
    store.save(update_fields=["completion_mark", "attendance_mark", "video_day_mark"])
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
    bodies = [video_statement(employees[e], courses[c], day, seconds)
              for (e, c, day), seconds in sorted(totals.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))]
    store.video_day_mark = until_day
    return _enqueue(store, bodies, now) if bodies else 0


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=30 * 2 ** min(attempts, 20)), MAX_BACKOFF)


def _client(store: RecordStore) -> httpx.Client:
    auth = httpx.BasicAuth(store.username, store.password) if store.username else None
    return httpx.Client(auth=auth, timeout=httpx.Timeout(20.0, connect=5.0), headers={
        "X-Experience-API-Version": VERSION, "Content-Type": "application/json"})


def _describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {response.text[:300]}"


def _mark_sent(rows: list[Statement], now: dt.datetime) -> None:
    Statement.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Statement.Status.SENT, sent_at=now, last_error="")


def _mark_failed(rows: list[Statement], error: str, now: dt.datetime) -> None:
    for row in rows:
        row.attempts += 1
        row.last_error = error[:500]
        row.next_attempt_at = now + _backoff(row.attempts)
        if row.attempts >= settings.XAPI_MAX_ATTEMPTS:
            row.status = Statement.Status.FAILED
    Statement.objects.bulk_update(rows, ["attempts", "last_error", "next_attempt_at", "status"])


def _put_each(client: httpx.Client, url: str, rows: list[Statement], now: dt.datetime) -> None:
    """After a batch was refused with 409, find out statement by statement (PUT with its id)."""
    for row in rows:
        try:
            response = client.put(url, params={"statementId": str(row.statement_id)}, json=row.body)
        except httpx.HTTPError as exc:
            _mark_failed([row], f"{type(exc).__name__}: {exc}", now)
            continue
        if response.status_code in (200, 204, 409):
            _mark_sent([row], now)
        else:
            _mark_failed([row], _describe(response), now)


def send_due(store: RecordStore, *, now: dt.datetime | None = None, max_batches: int = 20) -> int:
    """POST the store's due statements in batches; returns how many were delivered."""
    now = now or timezone.now()
    url = f"{store.endpoint.rstrip('/')}/statements"
    delivered = 0
    with _client(store) as client:
        for _batch in range(max_batches):
            rows = list(Statement.objects.filter(store=store, status=Statement.Status.PENDING,
                                                 next_attempt_at__lte=now).order_by("pk")[:settings.XAPI_BATCH_SIZE])
            if not rows:
                break
            try:
                response = client.post(url, json=[r.body for r in rows])
            except httpx.HTTPError as exc:
                _mark_failed(rows, f"{type(exc).__name__}: {exc}", now)
                break  # the store is unreachable: the backoff decides when to try again
            if response.status_code in (200, 204):
                _mark_sent(rows, now)
                delivered += len(rows)
            elif response.status_code == 409:
                _put_each(client, url, rows, now)
                delivered += Statement.objects.filter(pk__in=[r.pk for r in rows],
                                                      status=Statement.Status.SENT).count()
            else:
                _mark_failed(rows, _describe(response), now)
                break
    return delivered


def resend(store: RecordStore, statement_ids=None) -> int:
    """Put failed (or the given) statements back in the queue, due now."""
    rows = Statement.objects.filter(store=store)
    rows = rows.filter(pk__in=statement_ids) if statement_ids is not None else rows.filter(
        status=Statement.Status.FAILED)
    return rows.update(status=Statement.Status.PENDING, attempts=0, next_attempt_at=timezone.now())


def sync_all() -> None:
    for store in RecordStore.objects.filter(is_active=True):
        queue_new_facts(store)
        send_due(store)


def totals(store: RecordStore) -> dict:
    counts = {s: 0 for s in Statement.Status.values}
    for row in Statement.objects.filter(store=store).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
