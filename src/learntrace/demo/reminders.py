"""Reminders of the demo plans: the article's "15th and 25th at 09:00" in the app and by
e-mail, with a digest for department heads, and the hospital's meetings announced 3 days ahead."""

import datetime as dt

from learntrace.notify.models import Channel, ChannelKind, ReminderSchedule
from learntrace.plans.models import LearningPlan


def load_reminders() -> None:
    channels = [Channel.objects.filter(kind=kind).first() or Channel.objects.create(kind=kind, name=name)
                for kind, name in [(ChannelKind.INAPP, "站内通知"), (ChannelKind.EMAIL, "电子邮件")]]
    for plan in LearningPlan.objects.filter(name__in=["管理层月度学习计划", "科室主任月度管理培训"]):
        schedule = ReminderSchedule.objects.create(
            plan=plan, days_of_month=[15, 25], time_of_day=dt.time(9, 0), head_digest=True,
            meeting_days_before=3 if plan.name == "科室主任月度管理培训" else None)
        schedule.channels.set(channels)
