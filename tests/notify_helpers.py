"""Shared pieces of the notification tests: the fake platforms wired into the settings,
a published plan whose audience is behind, and deliveries built by hand."""

import datetime as dt

from django.utils import timezone

from fake_platforms import Platforms
from learntrace.notify.models import Channel, ChannelKind, Delivery
from learntrace.org.models import Level
from learntrace.plans import services as plan_services
from test_plans import HOUR, hospital_plan


def start_platforms(settings) -> Platforms:
    platforms = Platforms().start()
    settings.NOTIFY_DINGTALK_ROBOT_URL = f"{platforms.url}/robot/send"
    settings.NOTIFY_DINGTALK_API_URL = f"{platforms.url}/dingtalk"
    settings.NOTIFY_WECOM_ROBOT_URL = f"{platforms.url}/cgi-bin/webhook/send"
    settings.NOTIFY_FEISHU_BOT_URL = f"{platforms.url}/open-apis/bot/v2/hook"
    settings.NOTIFY_HTTP_TIMEOUT_SECONDS = 2
    settings.SITE_URL = "https://learn.example.com"
    return platforms


def channel(kind=ChannelKind.DINGTALK_ROBOT, **fields) -> Channel:
    return Channel.objects.create(name=fields.pop("name", kind), kind=kind, **fields)


def delivery(channel, recipient, key="test:1", **fields) -> Delivery:
    values = dict(purpose=Delivery.Purpose.REMINDER, reminder_day=dt.date(2026, 3, 15),
                  subject="学习提醒", text="您本月已完成4小时学习,还需完成4小时",
                  link="https://learn.example.com/plans/my/", next_attempt_at=timezone.now())
    values.update(fields)
    return Delivery.objects.create(key=key, channel=channel, recipient=recipient, **values)


def reminder_plan(org, catalog, *, now, **overrides):
    """The hospital's monthly 8-hour plan, for managers and department heads (the learner and the head)."""
    plan = hospital_plan(org, catalog, starts_on=dt.date(2026, 3, 1),
                         audience_levels=[Level.MANAGER, Level.DEPARTMENT_HEAD], **overrides)
    plan_services.publish_plan(actor=None, plan=plan, now=now)
    return plan


__all__ = ["HOUR", "channel", "delivery", "reminder_plan", "start_platforms"]
