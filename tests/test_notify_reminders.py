"""The scheduler: which days remind, who is behind, what each person reads in their own
language, the department head's digest, meeting reminders, and running it twice."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from learntrace.checkin.models import Meeting
from learntrace.compliance.services import refresh_changed
from learntrace.notify import services
from learntrace.notify.models import ChannelKind, Delivery, Notification, ReminderRun, ReminderSchedule
from learntrace.plans.models import PlanPeriod
from learntrace.records.services import record_credited_time
from notify_helpers import HOUR, channel, reminder_plan
from test_plans import at

REMINDER_DAY = at(2026, 3, 15, 9, 5)


@pytest.fixture
def plan(org, catalog):
    org.learner.language = "zh-hans"
    org.learner.email = "li@example.com"
    org.learner.save()
    org.head.language = "en"
    org.head.save()
    return reminder_plan(org, catalog, now=at(2026, 3, 1, 8))


def schedule_for(plan, *channels, **fields) -> ReminderSchedule:
    schedule = ReminderSchedule.objects.create(plan=plan, **{"days_of_month": [15, 25], **fields})
    schedule.channels.set(channels or [channel(ChannelKind.INAPP)])
    return schedule


def test_reminder_days_are_the_days_of_the_month_and_before_the_due_day(plan):
    schedule = schedule_for(plan, days_of_month=[15, 31], days_before_due=[3, 0])
    march = PlanPeriod.objects.get(plan=plan, starts_at=at(2026, 3, 1))
    # Due on the 25th: the 31st is after it; 3 days before is the 22nd; 0 is the due day.
    assert sorted(services.reminder_days(schedule, march)) == [dt.date(2026, 3, 15), dt.date(2026, 3, 22),
                                                              dt.date(2026, 3, 25)]


def test_nothing_is_due_before_the_time_of_day_or_on_another_day(plan):
    schedule_for(plan)
    refresh_changed(now=at(2026, 3, 15, 8, 55))  # the worker keeps the standings
    assert services.run_reminders(now=at(2026, 3, 15, 8, 55)) == 0
    refresh_changed(now=at(2026, 3, 16, 9, 5))  # the worker keeps the standings
    assert services.run_reminders(now=at(2026, 3, 16, 9, 5)) == 0
    assert not Delivery.objects.exists()


def test_each_person_behind_gets_one_message_in_their_language(plan, org, catalog, settings,
                                                               django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://learn.example.com"
    record_credited_time(employee=org.learner, course=catalog.video, seconds=4 * HOUR, occurred_at=at(2026, 3, 2))
    record_credited_time(employee=org.head, course=catalog.video, seconds=3 * HOUR, occurred_at=at(2026, 3, 2))
    schedule_for(plan, channel(ChannelKind.INAPP), channel(ChannelKind.EMAIL))

    with django_capture_on_commit_callbacks(execute=True):  # the sends are enqueued after commit
        refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
        assert services.run_reminders(now=REMINDER_DAY) == 4
    zh = Notification.objects.get(employee=org.learner)
    assert zh.subject == f"学习提醒:{plan.name}"
    assert "您本月已完成4小时学习,还需完成4小时" in zh.text
    assert "请于2026-03-25前完成" in zh.text and "https://learn.example.com/plans/my/" in zh.text
    assert zh.link == "/plans/my/"
    en = Notification.objects.get(employee=org.head)
    assert "This month you have completed 3 hours of learning and still need 5 hours." in en.text
    assert "- Offline meeting: 4 hours still to do" in en.text
    assert [m.to for m in mail.outbox] == [["li@example.com"]]  # the head has no address: failed, shown to the admin
    assert Delivery.objects.get(recipient=org.head, channel__kind="email").last_error == \
        "the person has no e-mail address"

    # The same moment again, or later the same day: nothing new.
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    assert services.run_reminders(now=REMINDER_DAY) == 0
    refresh_changed(now=at(2026, 3, 15, 18))  # the worker keeps the standings
    assert services.run_reminders(now=at(2026, 3, 15, 18)) == 0
    assert Delivery.objects.count() == 4 and ReminderRun.objects.count() == 1
    # The next reminder day is a new moment.
    refresh_changed(now=at(2026, 3, 25, 9, 1))  # the worker keeps the standings
    assert services.run_reminders(now=at(2026, 3, 25, 9, 1)) == 4


def test_the_threshold_leaves_out_those_far_enough_along(plan, org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=4 * HOUR, occurred_at=at(2026, 3, 2))
    record_credited_time(employee=org.learner, course=catalog.meeting, seconds=2 * HOUR, occurred_at=at(2026, 3, 3))
    schedule_for(plan, below_percent=50)  # the learner has 75 %, the head 0 %
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    assert list(Delivery.objects.values_list("recipient__employee_no", flat=True)) == ["H001"]


def test_those_who_have_completed_are_not_reminded(plan, org, catalog):
    record_credited_time(employee=org.learner, course=catalog.video, seconds=4 * HOUR, occurred_at=at(2026, 3, 2))
    record_credited_time(employee=org.learner, course=catalog.meeting, seconds=4 * HOUR, occurred_at=at(2026, 3, 3))
    schedule_for(plan)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    assert list(Delivery.objects.values_list("recipient__employee_no", flat=True)) == ["H001"]


def test_a_department_head_gets_a_digest_of_their_people(plan, org):
    schedule_for(plan, head_digest=True)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    digest = Delivery.objects.get(purpose="digest")
    assert digest.recipient == org.head and digest.subject == f"Your people's learning: {plan.name}"
    # The head's subtree holds the learner and the head; the outsider in surgery is not theirs.
    assert "2 of your people have not yet completed" in digest.text
    assert "Learner in cardiology (Cardiology): 0 hours done, 8 hours to go" in digest.text
    assert digest.link.endswith(f"/plans/team/?plan={plan.pk}")


def test_meeting_reminders_go_to_the_people_invited_days_before(plan, org, catalog):
    meeting = Meeting.objects.create(course=catalog.meeting, title="月度管理例会", starts_at=at(2026, 3, 18, 14),
                                     ends_at=at(2026, 3, 18, 16), location="行政楼 3 楼", roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.learner, org.outsider])
    Meeting.objects.create(course=catalog.meeting, title="Another day", starts_at=at(2026, 3, 19, 14),
                           ends_at=at(2026, 3, 19, 16), roster=Meeting.Roster.PEOPLE)
    plan.items.create(course=catalog.meeting)
    schedule_for(plan, days_of_month=[], meeting_days_before=3)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    deliveries = Delivery.objects.filter(purpose="meeting").order_by("recipient__employee_no")
    assert [d.recipient.employee_no for d in deliveries] == ["E001", "E002"]
    assert "您受邀参加「月度管理例会」,时间 2026-03-18 14:00" in deliveries[0].text
    assert "行政楼 3 楼" in deliveries[0].text
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    assert Delivery.objects.filter(purpose="meeting").count() == 2


def test_switched_off_schedules_and_channels_send_nothing(plan):
    schedule_for(plan, is_active=False)
    off = channel(ChannelKind.INAPP, is_active=False)
    schedule_for(plan, off)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    assert not Delivery.objects.exists()
    # Switched on later the same day: the moment still reminds.
    off.is_active = True
    off.save()
    assert services.run_reminders(now=REMINDER_DAY + dt.timedelta(hours=1)) == 2


def test_expanding_a_moment_takes_the_same_queries_for_more_people(plan, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conftest import make_employee
    from learntrace.org.models import Level
    from learntrace.plans import services as plan_services

    channels = channel(ChannelKind.INAPP), channel(ChannelKind.EMAIL)
    first = schedule_for(plan, *channels, head_digest=True)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    with CaptureQueriesContext(connection) as few:
        services.run_reminders(now=REMINDER_DAY)
    with time_machine.travel(REMINDER_DAY, tick=False):
        for number in range(6):
            person = make_employee(f"M{number}", f"Manager {number}", org.a1, level=Level.MANAGER)
            plan_services.sync_employee(employee=person)
    ReminderSchedule.objects.filter(pk=first.pk).update(is_active=False)
    second = schedule_for(plan, *channels, head_digest=True)
    refresh_changed(now=REMINDER_DAY)
    with CaptureQueriesContext(connection) as more:
        services.run_reminders(now=REMINDER_DAY)
    assert Delivery.objects.filter(schedule=second, purpose="reminder").count() == 8 * 2
    assert len(more) == len(few)


def test_the_worker_task_runs_the_scheduler(plan, org):
    from learntrace.notify.tasks import send_reminders

    schedule_for(plan)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    with time_machine.travel(REMINDER_DAY, tick=False):
        send_reminders.call_local()
    assert Delivery.objects.filter(recipient=org.learner).count() == 1


def test_a_reminder_lists_what_the_standing_says_is_missing_voids_included(org, catalog):
    from learntrace.org.models import Level
    from learntrace.plans import services as plan_services
    from learntrace.plans.models import PlanItem
    from learntrace.records.models import Completion
    from learntrace.records.services import void_completion
    from test_plans import hospital_plan

    plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 3, 1), audience_levels=[Level.MANAGER],
                         requires_reflection=True)
    PlanItem.objects.create(plan=plan, course=catalog.clinical_video)
    plan_services.publish_plan(actor=None, plan=plan, now=at(2026, 3, 1, 8))
    record_credited_time(employee=org.learner, course=catalog.clinical_video, seconds=HOUR, occurred_at=at(2026, 3, 2))
    void_completion(actor=org.admin.user, completion=Completion.objects.get(employee=org.learner),
                    reason="Watched by a colleague")
    schedule_for(plan)
    refresh_changed(now=REMINDER_DAY)
    services.run_reminders(now=REMINDER_DAY)
    text = Delivery.objects.get(recipient=org.learner).text
    assert text.split("\n\n")[1:6] == [
        "您本月已完成0小时学习,还需完成8小时。", "- 视频:还需4小时", "- 线下会议:还需4小时",
        "- 尚未完成的必修课程:Sepsis update", "- 学习心得尚未提交。"]
    # Yearly credits are owed only in the period that ends the year.
    assert text.split("\n\n")[6] == "请于2026-03-25前完成。"
