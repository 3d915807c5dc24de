"""Turning what the lower apps report into events for the subscriptions that chose them.

The receivers run inside the transaction that records the fact: the event and its deliveries are
committed with it or not at all, and the sending is queued only once it is committed, so a
request never waits for a receiver and no event is sent for a fact that was rolled back."""

import datetime as dt
import uuid
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from learntrace.compliance.models import Standing
from learntrace.org.models import Employee
from learntrace.webhooks.models import Event, EventType, Subscription, WebhookDelivery

# Which events some active subscription chose, cached so that a check-in or a tracked beat that
# completes a course costs no query when nobody listens; dropped whenever a subscription changes.
SUBSCRIBED_CACHE_KEY = "webhooks:subscribed-events"
SUBSCRIBED_CACHE_SECONDS = 60
BATCH = 500  # rows per statement: below SQLite's limit on query parameters


def subscribed_events() -> set[str]:
    found = cache.get(SUBSCRIBED_CACHE_KEY)
    if found is None:
        found = set()
        for events in Subscription.objects.filter(is_active=True).values_list("events", flat=True):
            found.update(events)
        cache.set(SUBSCRIBED_CACHE_KEY, found, SUBSCRIBED_CACHE_SECONDS)
    return found


def forget_subscribed_events() -> None:
    cache.delete(SUBSCRIBED_CACHE_KEY)


def on_subscription_changed(sender, **kwargs) -> None:
    # Now, and again once committed: another process may have cached the old list in between.
    forget_subscribed_events()
    transaction.on_commit(forget_subscribed_events)


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _iso(moment) -> str | None:
    # In UTC, whatever zone the moment was made in (an import's dates are local to the hospital).
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def emit(event_type: str, items: list[tuple[str, dict]], *, at=None) -> list[int]:
    """Stores events (key, data) of one type for every active subscription that chose it, once per
    key; returns the deliveries queued. Sending starts when the caller's transaction commits."""
    if not items or event_type not in subscribed_events():
        return []
    # Ids only: the secrets (decrypted when read) are not needed to store the deliveries.
    subscriptions = [pk for pk, chosen in Subscription.objects.filter(is_active=True).values_list("pk", "events")
                     if event_type in chosen]
    if not subscriptions:
        return []
    at = at or timezone.now()
    ids: list[int] = []
    with transaction.atomic():
        # In batches: a judgement may change a hundred thousand people's consequences at once.
        for start in range(0, len(items), BATCH):
            batch = items[start:start + BATCH]
            Event.objects.bulk_create(
                [Event(key=key, type=event_type, occurred_at=at,
                       payload={"type": event_type, "timestamp": _iso(at), "data": data})
                 for key, data in batch], ignore_conflicts=True)
            events = Event.objects.filter(key__in=[key for key, _data in batch]).values_list("pk", flat=True)
            rows = [WebhookDelivery(event_id=event_id, subscription_id=subscription_id,
                                    webhook_id=new_webhook_id(), next_attempt_at=at)
                    for event_id in events for subscription_id in subscriptions]
            # The unique (event, subscription) keeps a repeated signal from making a second delivery.
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
            for part in range(0, len(rows), BATCH):
                ids += WebhookDelivery.objects.filter(
                    webhook_id__in=[row.webhook_id for row in rows[part:part + BATCH]]).values_list("pk", flat=True)
        transaction.on_commit(lambda: enqueue(ids))
    return ids


def enqueue(delivery_ids, delay: float = 0) -> None:
    from learntrace.webhooks.tasks import deliver_task

    for delivery_id in delivery_ids:
        if delay > 0:
            deliver_task.schedule(args=(delivery_id,), delay=delay)
        else:
            deliver_task(delivery_id)


# --- what the lower apps report ------------------------------------------------------------

def _person(employee) -> dict:
    return {"employee_no": employee.employee_no, "name": employee.name}


def _credits(value) -> str:
    # Two decimals, as the column stores them: an object just created still holds what was given ("3").
    return f"{Decimal(value):.2f}"


def _course(course) -> dict:
    return {"id": course.pk, "title": course.title, "kind": course.kind}


def _completion(completion) -> tuple[str, dict]:
    return f"completion.recorded:{completion.pk}", {
        "completion_id": completion.pk, "employee": _person(completion.employee), "course": _course(completion.course),
        "completed_at": _iso(completion.completed_at), "credits": _credits(completion.credits),
        "source": completion.source,
    }


def on_completion_recorded(sender, completion, **kwargs) -> None:
    if EventType.COMPLETION_RECORDED not in subscribed_events():
        return
    emit(EventType.COMPLETION_RECORDED, [_completion(completion)])


def on_completions_imported(sender, completions, **kwargs) -> None:
    # The import holds each completion's person and course already: no query per row here, and
    # `emit` stores the events and deliveries a batch at a time.
    if EventType.COMPLETION_RECORDED not in subscribed_events():
        return
    emit(EventType.COMPLETION_RECORDED, [_completion(completion) for completion in completions])


def on_time_corrected(sender, correction, **kwargs) -> None:
    if EventType.CREDITED_TIME_CORRECTED not in subscribed_events():
        return
    emit(EventType.CREDITED_TIME_CORRECTED, [(f"credited_time.corrected:{correction.pk}", {
        "correction_id": correction.pk, "credited_time_id": correction.corrects_id,
        "employee": _person(correction.employee), "course": _course(correction.course),
        "seconds_delta": correction.seconds_delta, "occurred_at": _iso(correction.occurred_at),
        "corrected_at": _iso(correction.recorded_at), "reason": correction.reason,
    })])


def on_outside_credit_recorded(sender, credit, **kwargs) -> None:
    if EventType.OUTSIDE_CREDIT_RECORDED not in subscribed_events():
        return
    emit(EventType.OUTSIDE_CREDIT_RECORDED, [(f"outside_credit.recorded:{credit.pk}", {
        "outside_credit_id": credit.pk, "declaration_id": credit.declaration_id, "employee": _person(credit.employee),
        "kind": credit.kind, "title": credit.title, "project_number": credit.project_number,
        "started_on": credit.started_on.isoformat(), "ended_on": credit.ended_on.isoformat(),
        "credited_at": _iso(credit.credited_at), "credits": _credits(credit.credits), "seconds": credit.seconds,
        "credit_class": credit.credit_class.code if credit.credit_class_id else None,
        "category": credit.category.code, "certificate_sha256": credit.certificate_sha256,
    })])


def on_exam_result_recorded(sender, result, **kwargs) -> None:
    # exams sends this once the result is committed: the event is stored in a transaction of its own.
    if EventType.EXAM_RESULT_RECORDED not in subscribed_events():
        return
    exam = result.exam
    emit(EventType.EXAM_RESULT_RECORDED, [(f"exam.result_recorded:{result.pk}", {
        "result_id": result.pk, "employee": _person(result.employee), "exam": {"id": exam.pk, "title": exam.title},
        "attempt": result.number, "score": result.score, "passed": result.passed, "points": result.points,
        "max_points": result.max_points, "ending": result.ending, "started_at": _iso(result.started_at),
        "submitted_at": _iso(result.submitted_at),
    })], at=result.submitted_at)


def on_completion_voided(sender, completion, correction, **kwargs) -> None:
    if EventType.COMPLETION_VOIDED not in subscribed_events():
        return
    emit(EventType.COMPLETION_VOIDED, [(f"completion.voided:{correction.pk}", {
        "completion_id": completion.pk, "correction_id": correction.pk, "employee": _person(completion.employee),
        "course": _course(completion.course),
        "completed_at": _iso(completion.completed_at), "voided_at": _iso(correction.recorded_at),
        "reason": correction.reason,
    })])


def on_attendance_recorded(sender, event, **kwargs) -> None:
    if EventType.ATTENDANCE_RECORDED not in subscribed_events() or event.employee is None:
        return
    meeting = event.meeting
    emit(EventType.ATTENDANCE_RECORDED, [(f"attendance.recorded:{event.pk}", {
        "kind": event.kind, "employee": _person(event.employee),
        "meeting": {"id": meeting.pk, "title": meeting.title, "starts_at": _iso(meeting.starts_at),
                    "ends_at": _iso(meeting.ends_at)},
        "at": _iso(event.scanned_at or event.at), "recorded_at": _iso(event.at), "note": event.note,
    })], at=event.at)


def on_period_judged(sender, period, whole, at, changed, **kwargs) -> None:
    subscribed = subscribed_events()
    plan = {"id": period.plan_id, "name": period.plan.name}
    the_period = {"id": period.pk, "starts_at": _iso(period.starts_at),
                  "ends_at": _iso(period.ends_at), "due_at": _iso(period.due_at)}
    stamp = at.strftime("%Y%m%dT%H%M%S.%f")
    if whole and EventType.PERIOD_JUDGED in subscribed:
        judged = Standing.objects.filter(period=period, removed_at__isnull=True)
        emit(EventType.PERIOD_JUDGED, [(f"period.judged:{period.pk}:{stamp}", {
            "plan": plan, "period": the_period, "judged_at": _iso(at), "people": judged.count(),
            "compliant": judged.filter(compliant=True).count(),
            "non_compliant": judged.filter(compliant=False).count(),
        })], at=at)
    if changed and EventType.CONSEQUENCE_CHANGED in subscribed:
        people = Employee.objects.in_bulk([standing.employee_id for standing, *_before in changed])
        emit(EventType.CONSEQUENCE_CHANGED, [
            (f"consequence.changed:{standing.pk}:{stamp}", {
                "plan": plan, "period": the_period, "employee": _person(people[standing.employee_id]),
                "compliant": standing.compliant, "consequences": standing.consequences,
                "score": str(standing.score), "recognitions": standing.recognitions,
                "before": {"compliant": compliant, "consequences": consequences},
                "judged_at": _iso(at)})
            for standing, compliant, consequences in changed if standing.employee_id in people], at=at)
