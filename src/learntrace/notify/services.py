"""Reminders: finding the moments that are due, turning each into deliveries exactly once,
and sending each delivery at most once.

The guarantees rest on the database, so they hold with several workers on SQLite or PostgreSQL:
- a moment (schedule, period or meeting, day) is expanded inside one transaction that first
  inserts its `ReminderRun`; a second worker's insert fails on the unique constraint and it skips;
- every message is a `Delivery` row with a unique key, inserted before anything is sent;
- a send starts with a conditional UPDATE queued → sending: only the worker that changed the
  row sends; the others see zero rows changed and stop;
- a send whose outcome is unknown (a timeout after the request left, a worker that died while
  sending) is marked "unknown" for the admin and never repeated by itself.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from learntrace.checkin.models import Meeting
from learntrace.checkin.services import roster
from learntrace.compliance.models import Standing
from learntrace.core.audit import field_changes, record_change
from learntrace.core.backoff import backoff_seconds
from learntrace.core.months import local_zone, start_of_day
from learntrace.notify import messages
from learntrace.notify.channels import Message, adapter_for
from learntrace.notify.channels.base import FAILED, OK, RETRY, UNKNOWN, Outcome
from learntrace.notify.models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    Notification,
    ReminderRun,
    ReminderSchedule,
    SendPermit,
)
from learntrace.org.models import Employee, Role, RoleGrant
from learntrace.plans.models import LearningPlan, PlanPeriod
from learntrace.plans.selectors import current_assignments_of

logger = logging.getLogger("learntrace.notify")

RATE_WINDOW = dt.timedelta(minutes=1)
REQUEUE_GRACE = dt.timedelta(minutes=2)  # a queued delivery this late lost its task: enqueue it again


# --- when reminders are due -------------------------------------------------------------

def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, local_zone()).date()


def reminder_days(schedule: ReminderSchedule, period: PlanPeriod) -> set[dt.date]:
    """The days of a period on which the schedule reminds: its days of every month of the
    period (clamped to the month's length) and its days before the due day, up to the due day."""
    first = _local_date(period.starts_at)
    due = _local_date(period.due_at) - dt.timedelta(days=1)
    days = set()
    month = first.replace(day=1)
    while month <= due:
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        month_length = (next_month - month).days
        for day in schedule.days_of_month:
            days.add(month.replace(day=min(int(day), month_length)))
        month = next_month
    for before in schedule.days_before_due:
        days.add(due - dt.timedelta(days=int(before)))
    return {day for day in days if first <= day <= due}


def due_moments(now: dt.datetime):
    """(schedule, subject, day) for every reminder due now: today's reminder days whose time
    of day has passed, and meetings that start the configured number of days from today."""
    local_now = timezone.localtime(now, local_zone())
    today = local_now.date()
    schedules = (ReminderSchedule.objects.filter(is_active=True, plan__status=LearningPlan.Status.PUBLISHED,
                                                 time_of_day__lte=local_now.time())
                 .select_related("plan"))
    for schedule in schedules:
        if schedule.days_of_month or schedule.days_before_due:
            period = PlanPeriod.objects.filter(plan=schedule.plan, starts_at__lte=now, ends_at__gt=now).first()
            if period is not None and today in reminder_days(schedule, period):
                yield schedule, period, today
        if schedule.meeting_days_before is not None:
            meeting_day = today + dt.timedelta(days=schedule.meeting_days_before)
            meetings = Meeting.objects.filter(
                Q(roster_plan=schedule.plan) | Q(course__in=schedule.plan.items.values("course")),
                starts_at__gte=max(start_of_day(meeting_day), now),
                starts_at__lt=start_of_day(meeting_day + dt.timedelta(days=1)),
            ).distinct()
            for meeting in meetings:
                yield schedule, meeting, today


def is_behind(standing, below_percent: int | None) -> bool:
    if standing.complete:
        return False
    if below_percent is None or not standing.target_seconds:
        return True
    return standing.total_seconds * 100 < standing.target_seconds * below_percent


# --- turning a moment into deliveries ----------------------------------------------------

def _delivery(key, *, purpose, schedule, recipient, channel, day, content, now, period=None, meeting=None):
    subject, text, link = content
    return Delivery(key=key, purpose=purpose, schedule=schedule, plan=schedule.plan, period=period,
                    meeting=meeting, recipient=recipient, channel=channel, reminder_day=day,
                    subject=subject[:200], text=text, link=link, next_attempt_at=now)


def _heads_of(people_paths: set[str]):
    """{head employee: [department paths]} of the department heads over any of these departments."""
    grants = (RoleGrant.objects.filter(role=Role.DEPARTMENT_HEAD, department__is_active=True,
                                       user__employee__is_active=True)
              .select_related("department", "user__employee"))
    heads = defaultdict(list)
    for grant in grants:
        if any(path.startswith(grant.department.path) for path in people_paths):
            heads[grant.user.employee].append(grant.department.path)
    return heads


def _period_deliveries(schedule, period, day, channels, now) -> list[Delivery]:
    # The stored figures (kept by the worker every minute) of those still owing the period.
    assignments = current_assignments_of(Employee.objects.filter(is_active=True), now=now).filter(period=period)
    # Who joined after the due day owes nothing this period: no reminder, no line in a head's digest.
    standings = (Standing.objects.filter(assignment__in=assignments.values("pk"), joined_after_due=False)
                 .select_related("employee__department", "period__plan")
                 .order_by("employee__department__path", "employee__employee_no"))
    behind = [s for s in standings if is_behind(s, schedule.below_percent)]
    rows = []
    for standing in behind:
        person = standing.employee
        content = messages.reminder(standing)
        for channel in channels:
            rows.append(_delivery(
                f"reminder:{schedule.pk}:{period.pk}:{day:%Y%m%d}:{person.pk}:{channel.pk}",
                purpose=Delivery.Purpose.REMINDER, schedule=schedule, period=period, recipient=person,
                channel=channel, day=day, content=content, now=now))
    if schedule.head_digest and behind:
        for head, paths in _heads_of({s.employee.department.path for s in behind}).items():
            theirs = [s for s in behind if any(s.employee.department.path.startswith(path) for path in paths)]
            if not theirs:
                continue
            content = messages.digest(head, schedule.plan, period, theirs)
            for channel in channels:
                rows.append(_delivery(
                    f"digest:{schedule.pk}:{period.pk}:{day:%Y%m%d}:{head.pk}:{channel.pk}",
                    purpose=Delivery.Purpose.DIGEST, schedule=schedule, period=period, recipient=head,
                    channel=channel, day=day, content=content, now=now))
    return rows


def _meeting_deliveries(schedule, meeting, day, channels, now) -> list[Delivery]:
    rows = []
    for person in roster(meeting).filter(is_active=True):
        content = messages.meeting_reminder(person, meeting)
        for channel in channels:
            rows.append(_delivery(
                f"meeting:{schedule.pk}:{meeting.pk}:{day:%Y%m%d}:{person.pk}:{channel.pk}",
                purpose=Delivery.Purpose.MEETING, schedule=schedule, meeting=meeting, recipient=person,
                channel=channel, day=day, content=content, now=now))
    return rows


def expand_moment(schedule: ReminderSchedule, subject, day: dt.date, *, now: dt.datetime) -> list[int]:
    """Creates the deliveries of one reminder moment, once; returns the ids to send (none when
    another run has already expanded it)."""
    subject_key = f"meeting:{subject.pk}" if isinstance(subject, Meeting) else f"period:{subject.pk}"
    channels = list(schedule.channels.filter(is_active=True))
    if not channels:
        return []  # not marked as done: a channel switched on later the same day still reminds
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = ReminderRun.objects.create(schedule=schedule, subject_key=subject_key, day=day)
        except IntegrityError:
            return []
        if isinstance(subject, Meeting):
            rows = _meeting_deliveries(schedule, subject, day, channels, now)
        else:
            rows = _period_deliveries(schedule, subject, day, channels, now)
        # Unique keys: a delivery that already exists (e.g. from a run that lost its marker) is kept.
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        run.deliveries = len(rows)
        run.save(update_fields=["deliveries"])
        ids = list(Delivery.objects.filter(key__in=[row.key for row in rows], status=Delivery.Status.QUEUED)
                   .values_list("pk", flat=True))
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def queue_deliveries(rows: list[Delivery]) -> list[int]:
    """Store deliveries made by another app (certificate expiry reminders) and send them once
    committed; rows whose key exists already are kept as they are, so a second call sends nothing."""
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        ids = list(Delivery.objects.filter(key__in=[row.key for row in rows], status=Delivery.Status.QUEUED,
                                           attempts=0).values_list("pk", flat=True))
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def heads_of(people_paths: set[str]):
    return _heads_of(people_paths)


def run_reminders(*, now: dt.datetime | None = None) -> int:
    """The scheduler's pass: expands every due moment, then tidies up deliveries left behind.
    Safe to run twice, or on two workers at once. Returns the number of deliveries created."""
    now = now or timezone.now()
    created = 0
    for schedule, subject, day in list(due_moments(now)):
        created += len(expand_moment(schedule, subject, day, now=now))
    sweep(now=now)
    return created


def _enqueue(delivery_ids, delay: float = 0) -> None:
    from learntrace.notify.tasks import send_delivery_task

    for delivery_id in delivery_ids:
        if delay > 0:
            send_delivery_task.schedule(args=(delivery_id,), delay=delay)
        else:
            send_delivery_task(delivery_id)


def sweep(*, now: dt.datetime | None = None) -> None:
    """Marks sends interrupted long ago as of unknown outcome, and enqueues queued deliveries
    whose task was lost (a restart with an in-memory queue, a crash before enqueueing)."""
    now = now or timezone.now()
    stale = now - settings.NOTIFY_SENDING_TIMEOUT
    for delivery_id in Delivery.objects.filter(status=Delivery.Status.SENDING, sending_since__lt=stale) \
            .values_list("pk", flat=True):
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING, sending_since__lt=stale) \
                    .update(status=Delivery.Status.UNKNOWN, last_error="interrupted while sending"):
                DeliveryAttempt.objects.filter(delivery_id=delivery_id, outcome=DeliveryAttempt.Outcome.PENDING) \
                    .update(outcome=DeliveryAttempt.Outcome.UNKNOWN, finished_at=now,
                            error="interrupted while sending")
                logger.warning("delivery %s: interrupted while sending, outcome unknown", delivery_id)
    late = list(Delivery.objects.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=now - REQUEUE_GRACE)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:1000])
    _enqueue(late)


# --- sending one delivery ------------------------------------------------------------------

# The platforms' documented limits per robot: (messages a second, messages a minute). A
# channel's own `rate_per_minute` may only be lower.
DOCUMENTED_RATES = {
    ChannelKind.DINGTALK_ROBOT: (None, 20),
    ChannelKind.WECOM_ROBOT: (None, 20),
    ChannelKind.FEISHU_BOT: (5, 100),
}
SECOND = dt.timedelta(seconds=1)


def rates_of(channel: Channel) -> tuple[int | None, int | None]:
    per_second, per_minute = DOCUMENTED_RATES.get(channel.kind, (None, None))
    if channel.rate_per_minute:
        per_minute = min(per_minute or channel.rate_per_minute, channel.rate_per_minute)
    return per_second, per_minute


def take_permit(channel: Channel, now: dt.datetime) -> float:
    """0 when the channel may send now (the send is counted), otherwise the seconds to wait.
    The windows are the last second's and the last minute's permits, counted under a lock on the
    channel row (on SQLite, the immediate transaction already serialises writers), so every
    worker shares them."""
    per_second, per_minute = rates_of(channel)
    if not per_second and not per_minute:
        return 0
    with transaction.atomic():
        Channel.objects.select_for_update().filter(pk=channel.pk).values_list("pk", flat=True).first()
        SendPermit.objects.filter(channel=channel, at__lte=now - 2 * RATE_WINDOW).delete()
        waits = []
        for limit, window in ((per_second, SECOND), (per_minute, RATE_WINDOW)):
            if not limit:
                continue
            recent = list(SendPermit.objects.filter(channel=channel, at__gt=now - window, at__lte=now)
                          .order_by("-at").values_list("at", flat=True)[:limit])
            if len(recent) >= limit:  # room again once the oldest of the last `limit` leaves the window
                waits.append((recent[-1] + window - now).total_seconds())
        if not waits:
            SendPermit.objects.create(channel=channel, at=now)
            return 0
    return max(max(waits), 0.2)


def send_delivery(*, delivery_id: int, now: dt.datetime | None = None) -> str | None:
    """Sends one delivery if it is queued and due, and this worker wins the claim. Returns the
    new status, "waiting" when the channel's rate limit postponed it, or None when not claimed."""
    now = now or timezone.now()
    # The claim and the attempt's row are committed before anything leaves: a worker that
    # dies while sending leaves a "sending" delivery the sweeper marks as of unknown outcome.
    with transaction.atomic():
        claimed = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED, next_attempt_at__lte=now) \
            .update(status=Delivery.Status.SENDING, sending_since=now, attempts=F("attempts") + 1)
        if not claimed:
            return None
        delivery = Delivery.objects.select_related("channel", "recipient").get(pk=delivery_id)
        channel = delivery.channel
        if not channel.is_active:
            return _finish(delivery, None, Delivery.Status.FAILED, "the channel is switched off")
        wait = take_permit(channel, now)
        if wait:
            # Not an attempt: put it back and try once the window has room.
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.QUEUED, sending_since=None, attempts=F("attempts") - 1,
                next_attempt_at=now + dt.timedelta(seconds=wait))
            transaction.on_commit(lambda: _enqueue([delivery.pk], delay=wait))
            return "waiting"
        attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    message = Message(subject=delivery.subject, text=delivery.text, link=delivery.link,
                      recipient=delivery.recipient, key=delivery.key, extra={"delivery_id": delivery.pk})
    try:
        outcome = adapter_for(channel.kind).send(channel, message)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the message may have left
        # The exception's text may hold an address or a token: only its type is logged.
        logger.error("delivery %s: the %s adapter raised %s", delivery.pk, channel.kind, type(exc).__name__)
        outcome = Outcome(UNKNOWN, error=type(exc).__name__)
    attempt.finished_at = timezone.now()
    attempt.outcome = outcome.result
    attempt.status_code = outcome.status_code
    attempt.answer = outcome.answer[:500]
    attempt.error = outcome.error[:300]
    logger.info("delivery %s via %s attempt %s: %s %s %s", delivery.pk, channel.kind, attempt.number,
                outcome.result, outcome.status_code or "", outcome.error)
    with transaction.atomic():
        attempt.save(update_fields=["finished_at", "outcome", "status_code", "answer", "error"])
        return _settle(delivery, attempt, outcome, now)


def _settle(delivery, attempt, outcome, now) -> str:
    if outcome.result == OK:
        return _finish(delivery, attempt, Delivery.Status.SENT, "")
    if outcome.result == RETRY and delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        delay = backoff_seconds(delivery.attempts, first_seconds=settings.NOTIFY_RETRY_SECONDS)
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.QUEUED, sending_since=None, last_error=outcome.error[:300],
            next_attempt_at=max(now, attempt.finished_at) + dt.timedelta(seconds=delay))
        transaction.on_commit(lambda: _enqueue([delivery.pk], delay=delay))
        return Delivery.Status.QUEUED
    if outcome.result == RETRY:
        return _finish(delivery, attempt, Delivery.Status.FAILED,
                       f"gave up after {delivery.attempts} attempts: {outcome.error}")
    if outcome.result == FAILED:
        return _finish(delivery, attempt, Delivery.Status.FAILED, outcome.error)
    return _finish(delivery, attempt, Delivery.Status.UNKNOWN, outcome.error or "outcome unknown")


def _finish(delivery, attempt, status, error) -> str:
    # A late but definite answer also settles a send the sweeper had given up on.
    Delivery.objects.filter(pk=delivery.pk, status__in=[Delivery.Status.SENDING, Delivery.Status.UNKNOWN]).update(
        status=status, sending_since=None, last_error=error[:300],
        sent_at=attempt.finished_at if status == Delivery.Status.SENT and attempt else None)
    return status


# --- what the admin does -----------------------------------------------------------------

def resend(*, actor, delivery: Delivery) -> Delivery:
    """A new delivery of the same message, asked for by an admin (e.g. after an unknown outcome)."""
    if delivery.status in {Delivery.Status.QUEUED, Delivery.Status.SENDING}:
        raise ValidationError(_("This message is still being sent: wait for its outcome before resending."))
    if not delivery.channel.is_active:
        raise ValidationError(_("The channel is switched off: switch it on before resending."))
    now = timezone.now()
    original = delivery.resend_of or delivery
    number = Delivery.objects.filter(resend_of=original).count() + 1
    try:
        with transaction.atomic():
            copy = Delivery.objects.create(
                key=f"{original.key}:resend:{number}", purpose=delivery.purpose, schedule=delivery.schedule,
                plan=delivery.plan, period=delivery.period, meeting=delivery.meeting, recipient=delivery.recipient,
                channel=delivery.channel, reminder_day=delivery.reminder_day, subject=delivery.subject,
                text=delivery.text, link=delivery.link, next_attempt_at=now, resend_of=original, created_by=actor)
            record_change(actor=actor, action="resend", obj=copy,
                          summary=f"resend of delivery {delivery.pk} ({delivery.get_status_display()})")
            transaction.on_commit(lambda: _enqueue([copy.pk]))
    except IntegrityError:
        raise ValidationError(_("Someone else has just resent this message.")) from None
    return copy


CHANNEL_FIELDS = ["name", "kind", "app_key", "agent_id", "rate_per_minute", "is_active"]


def channel_save(*, actor, channel: Channel, token: str = "", secret: str = "") -> Channel:
    """Saves a channel; an empty token or secret keeps the stored one (it is never shown back)."""
    before = Channel.objects.filter(pk=channel.pk).first() if channel.pk else None
    changes = field_changes(before, channel, CHANNEL_FIELDS)
    if token:
        changes["token"] = ("***", "***")
        channel.token = token
    if secret:
        changes["secret"] = ("***", "***")
        channel.secret = secret
    if token or secret:
        channel.cached_access_token, channel.cached_access_token_expires_at = "", None
    with transaction.atomic():
        channel.save()
        record_change(actor=actor, action="create" if before is None else "update", obj=channel,
                      summary=channel.name, changes=changes)
    return channel


SCHEDULE_FIELDS = ["days_of_month", "days_before_due", "time_of_day", "below_percent", "head_digest",
                   "meeting_days_before", "is_active"]


def schedule_save(*, actor, schedule: ReminderSchedule, channels) -> ReminderSchedule:
    before = ReminderSchedule.objects.filter(pk=schedule.pk).first() if schedule.pk else None
    changes = field_changes(before, schedule, SCHEDULE_FIELDS)
    old_channels = sorted(before.channels.values_list("pk", flat=True)) if before else []
    new_channels = sorted(channel.pk for channel in channels)
    if old_channels != new_channels:
        changes["channels"] = (old_channels, new_channels)
    with transaction.atomic():
        schedule.save()
        schedule.channels.set(channels)
        record_change(actor=actor, action="create" if before is None else "update", obj=schedule,
                      summary=f"{schedule.plan}", changes=changes)
    return schedule


def schedule_delete(*, actor, schedule: ReminderSchedule) -> None:
    with transaction.atomic():
        record_change(actor=actor, action="delete", obj=schedule, summary=f"{schedule.plan}")
        schedule.delete()


def mark_read(*, employee_id: int, notification_ids=None) -> int:
    unread = Notification.objects.filter(employee_id=employee_id, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
