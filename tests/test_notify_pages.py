"""Notification pages: who may see them, channel secrets never shown back, reminder
schedules through the form, the bell and its list, and the learner's flow in a browser."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from learntrace.compliance.services import refresh_changed
from learntrace.core.models import AuditEntry
from learntrace.notify import services
from learntrace.notify.models import Channel, ChannelKind, Delivery, Notification, ReminderSchedule
from notify_helpers import channel, delivery, reminder_plan
from test_browser import log_in
from test_plans import at


@pytest.fixture
def plan(org, catalog):
    return reminder_plan(org, catalog, now=at(2026, 3, 1, 8))


def test_admin_pages_are_for_admins_and_the_log_for_readers(org, client_for, plan):
    sent = delivery(channel(ChannelKind.INAPP), org.learner)
    admin_only = [reverse("notify:channels"), reverse("notify:channel_new"),
                  reverse("notify:schedule_new", args=[plan.pk])]
    readers = [reverse("notify:deliveries"), reverse("notify:delivery", args=[sent.pk]),
               reverse("notify:plan_reminders", args=[plan.pk])]
    for url in admin_only + readers:
        assert client_for(org.admin).get(url).status_code == 200, url
        assert client_for(org.learner).get(url).status_code == 403, url
        assert client_for(org.head).get(url).status_code == 403, url
    for url in readers:
        assert client_for(org.auditor).get(url).status_code == 200, url
    for url in admin_only:
        assert client_for(org.auditor).get(url).status_code == 403, url


def test_anonymous_visitors_go_to_the_login_page(client, org):
    for url in [reverse("notify:inbox"), reverse("notify:deliveries"), reverse("notify:channels")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_channel_secrets_are_stored_encrypted_and_never_shown_back(org, client_for):
    admin = client_for(org.admin)
    data = {"name": "管理层群机器人", "kind": "dingtalk_robot", "token": "4f1c0a9d8e7b6a5c4d3e2f1a0b9c8d7e",
            "secret": "SEC0123456789abcdefXYZ9", "app_key": "", "agent_id": "", "rate_per_minute": "0",
            "is_active": "on"}
    assert admin.post(reverse("notify:channel_new"), data).status_code == 302
    robot = Channel.objects.get(name="管理层群机器人")
    assert robot.secret == "SEC0123456789abcdefXYZ9" and robot.rate_per_minute == 20
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notify_channel WHERE id = %s", [robot.pk])
        assert "SEC0123456789" not in cursor.fetchone()[0]
    page = admin.get(reverse("notify:channel_edit", args=[robot.pk])).text
    assert "SEC0123456789abcdefXYZ9" not in page and "4f1c0a9d8e7b6a5c4d3e2f1a0b9c8d7e" not in page
    assert "XYZ9" in page  # the end, masked, so the admin can tell which secret is stored
    # Saving without typing the secret keeps it.
    admin.post(reverse("notify:channel_edit", args=[robot.pk]), {**data, "token": "", "secret": "", "name": "改名"})
    robot.refresh_from_db()
    assert robot.name == "改名" and robot.secret == "SEC0123456789abcdefXYZ9"
    entry = AuditEntry.objects.filter(object_type="channel").first()
    assert "SEC0123456789" not in str(entry.changes)


@pytest.mark.parametrize("overrides, message", [
    ({"kind": "dingtalk_work", "app_key": "", "agent_id": "x"}, "Enter the app&#x27;s AgentId (digits)."),
    ({"kind": "webhook", "token": "ftp://example.com"}, "Enter a URL starting with https:// or http://."),
    ({"kind": "wecom_robot", "token": ""}, "Enter the robot&#x27;s token."),
    ({"kind": "dingtalk_robot", "rate_per_minute": "30"}, "Robots accept at most 20 messages a minute."),
])
def test_bad_channel_input_gets_a_clear_error_and_writes_nothing(org, client_for, overrides, message):
    data = {"name": "x", "kind": "dingtalk_robot", "token": "t", "secret": "s", "app_key": "", "agent_id": "",
            "rate_per_minute": "0", "is_active": "on", **overrides}
    before = Channel.objects.count()
    response = client_for(org.admin).post(reverse("notify:channel_new"), data)
    assert response.status_code == 200 and message in response.text
    assert Channel.objects.count() == before


def test_the_admin_sets_reminders_on_a_plan(org, client_for, plan):
    inapp = channel(ChannelKind.INAPP)
    admin = client_for(org.admin)
    assert "Set reminders" in admin.get(reverse("plans:plan", args=[plan.pk])).text
    data = {"days_of_month_text": "25，15", "days_before_due_text": "3", "time_of_day": "09:00",
            "below_percent": "100", "channels": [str(inapp.pk)], "head_digest": "on", "meeting_days_before": "",
            "is_active": "on"}
    assert admin.post(reverse("notify:schedule_new", args=[plan.pk]), data).status_code == 302
    schedule = ReminderSchedule.objects.get(plan=plan)
    assert schedule.days_of_month == [15, 25] and schedule.days_before_due == [3] and schedule.head_digest
    assert list(schedule.channels.all()) == [inapp]
    page = admin.get(reverse("notify:plan_reminders", args=[plan.pk])).text
    assert "15, 25" in page and "below 100 % of the hours" in page
    bad = admin.post(reverse("notify:schedule_new", args=[plan.pk]), {**data, "days_of_month_text": "15, 40"})
    assert "Enter whole numbers from 1 to 31" in bad.text
    none = admin.post(reverse("notify:schedule_new", args=[plan.pk]),
                      {**data, "days_of_month_text": "", "days_before_due_text": ""})
    assert "Choose when to remind" in none.text
    assert ReminderSchedule.objects.count() == 1
    admin.post(reverse("notify:schedule_delete", args=[plan.pk, schedule.pk]))
    assert not ReminderSchedule.objects.exists()


def test_the_delivery_log_filters_and_shows_attempts(org, client_for):
    inapp = channel(ChannelKind.INAPP)
    sent = delivery(inapp, org.learner, key="a")
    services.send_delivery(delivery_id=sent.pk)
    delivery(inapp, org.head, key="b")
    admin = client_for(org.admin)
    page = admin.get(reverse("notify:deliveries"), {"status": "sent"}).text
    assert org.learner.name in page and org.head.name not in page
    detail = admin.get(reverse("notify:delivery", args=[sent.pk])).text
    assert "stored" in detail and "Resend" in detail
    assert "Resend" not in client_for(org.auditor).get(reverse("notify:delivery", args=[sent.pk])).text


def test_the_bell_counts_unread_notifications_and_opening_one_marks_it_read(org, client_for):
    inapp = channel(ChannelKind.INAPP)
    services.send_delivery(delivery_id=delivery(inapp, org.learner, key="a").pk)
    services.send_delivery(delivery_id=delivery(inapp, org.learner, key="b").pk)
    learner = client_for(org.learner)
    assert 'id="bell-count">2<' in learner.get(reverse("home:home")).text
    notification = Notification.objects.filter(employee=org.learner).first()
    response = learner.post(reverse("notify:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/plans/my/"
    assert 'id="bell-count">1<' in learner.get(reverse("home:home")).text
    # Someone else's notification is not found; the outsider's bell is empty.
    assert client_for(org.outsider).post(reverse("notify:open", args=[notification.pk])).status_code == 404
    assert "bell-count" not in client_for(org.outsider).get(reverse("home:home")).text
    client_for(org.learner).post(reverse("notify:read_all"))
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_a_learner_below_target_follows_the_reminder_to_my_learning(live_server, org, catalog, new_page):
    plan = reminder_plan(org, catalog, now=at(2026, 3, 1, 8))
    schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15])
    schedule.channels.set([channel(ChannelKind.INAPP)])
    refresh_changed(now=at(2026, 3, 15, 9, 5))  # the worker keeps the standings
    services.run_reminders(now=at(2026, 3, 15, 9, 5))
    assert Delivery.objects.get(recipient=org.learner).status == "sent"
    page = new_page()
    log_in(page, live_server.url, "learner", "zh-hans")
    expect(page.locator("#bell-count")).to_have_text("1")
    page.locator("#bell").click()
    expect(page.locator("#notifications")).to_contain_text("您本月已完成0小时学习,还需完成8小时")
    page.get_by_role("button", name="打开").click()
    expect(page).to_have_url(f"{live_server.url}/plans/my/")
    expect(page.locator("#bell-count")).to_have_count(0)
