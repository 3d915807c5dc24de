"""Data in reminders (names, departments, plans, titles) reaches every channel as written and
never becomes a link, a mention or formatting; mentions name only the recipient."""

import string

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from learntrace.compliance.services import refresh_changed
from learntrace.notify import markup, services
from learntrace.notify.channels import Message, adapter_for
from learntrace.notify.models import ChannelKind, Delivery, ReminderSchedule
from notify_helpers import channel, reminder_plan, start_platforms
from test_plans import at

NAME = "[点此领取管理津贴](http://evil.example) <@all>"
DEPARTMENT = "<at id=all></at> **Cardiology** #1"
PLAN = "Monthly `plan` _now_ \\[x\\]"
REMINDER_DAY = at(2026, 3, 15, 9, 5)


@pytest.fixture
def platforms(settings):
    server = start_platforms(settings)
    yield server
    server.stop()


@pytest.fixture
def attacked(org, catalog, platforms, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org.a1.name = DEPARTMENT
    org.a1.save()
    person = org.learner
    person.name, person.language, person.email, person.mobile = NAME, "en", "li@example.com", "13800000001"
    person.dingtalk_user_id, person.wecom_user_id, person.feishu_user_id = "manager7", "li7", "ou_7"
    person.save()
    org.head.language = "en"
    org.head.save()
    plan = reminder_plan(org, catalog, now=at(2026, 3, 1, 8), name=PLAN)
    platforms.dingtalk_robots["robot"] = ""
    platforms.corp_apps["app"] = "appsecret"
    platforms.wecom_keys.add("wecom")
    platforms.feishu_hooks["hook"] = ""
    platforms.webhook_secret = "shared"
    channels = [channel(ChannelKind.DINGTALK_ROBOT, token="robot"),
                channel(ChannelKind.DINGTALK_WORK, app_key="app", secret="appsecret", agent_id="1"),
                channel(ChannelKind.WECOM_ROBOT, token="wecom"), channel(ChannelKind.FEISHU_BOT, token="hook"),
                channel(ChannelKind.WEBHOOK, token=f"{platforms.url}/receiver", secret="shared"),
                channel(ChannelKind.EMAIL), channel(ChannelKind.INAPP)]
    schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15], head_digest=True)
    schedule.channels.set(channels)
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    for sent in Delivery.objects.filter(recipient=person, purpose="reminder"):
        services.send_delivery(delivery_id=sent.pk)
    return plan


BODY = ("\n\nThis month you have completed 0 hours of learning and still need 8 hours."
        "\n\n- Video: 4 hours still to do\n\n- Offline meeting: 4 hours still to do"
        "\n\nPlease complete it by 2026-03-25.")
LINK = "[Open my learning](https://learn.example.com/plans/my/)"
# On the platforms, each character that could be markup is its full-width twin.
SHOWN = "Hello ［点此领取管理津贴］（http：//evil.example） ＜＠all＞," + BODY + "\n\n" + LINK
SUBJECT = "Learning reminder: Monthly `plan` _now_ \\[x\\]"


def test_every_channel_shows_data_as_written_and_links_only_to_learntrace(attacked, platforms, org, client_for):
    [robot] = platforms.accepted("dingtalk_robot")
    assert robot == {"msgtype": "markdown",
                     "markdown": {"title": SUBJECT, "text": SHOWN + "\n\n@13800000001"},
                     "at": {"atMobiles": ["13800000001"], "isAtAll": False}}
    [work] = platforms.accepted("dingtalk_work")
    assert work == {"agent_id": 1, "userid_list": "manager7",
                    "msg": {"msgtype": "markdown", "markdown": {"title": SUBJECT, "text": SHOWN}}}
    [wecom] = platforms.accepted("wecom_robot")
    assert wecom == {"msgtype": "markdown", "markdown": {
        "content": "**Learning reminder： Monthly ｀plan｀ ＿now＿ ＼［x＼］**\n" + SHOWN + "\n<@li7>"}}
    [feishu] = platforms.accepted("feishu_bot")
    assert feishu == {"msg_type": "interactive", "card": {
        "header": {"title": {"tag": "plain_text", "content": SUBJECT}},
        "elements": [{"tag": "markdown", "content": SHOWN + "\n<at id=ou_7></at>"}]}}
    # The webhook receives CommonMark: the data escaped, and the person's fields as they are.
    [hook] = platforms.accepted("webhook")
    assert hook["subject"] == SUBJECT and hook["recipient"]["name"] == NAME
    assert hook["text"] == ("Hello \\[点此领取管理津贴\\]\\(http\\://evil.example\\) \\<\\@all\\>,"
                            + BODY + "\n\n" + LINK)
    # Plain text: the name exactly as written.
    [email] = mail.outbox
    assert email.subject == SUBJECT and email.content_subtype == "plain" and not email.attachments
    assert email.body == f"Hello {NAME}," + BODY + "\n\nOpen my learning: https://learn.example.com/plans/my/"
    page = client_for(org.learner).get(reverse("notify:inbox")).text
    assert "Hello [点此领取管理津贴](http://evil.example) &lt;@all&gt;," in page
    assert "evil.example\"" not in page and "<@all>" not in page


def test_a_digest_shows_names_and_departments_as_written(attacked, platforms, org):
    digest = Delivery.objects.get(purpose="digest", channel__kind=ChannelKind.FEISHU_BOT)
    assert services.send_delivery(delivery_id=digest.pk) == "sent"
    [_reminder, feishu] = platforms.accepted("feishu_bot")
    assert feishu["card"]["elements"][0]["content"] == (
        "Hello Head of medicine,\n\n2 of your people have not yet completed Monthly ｀plan｀ ＿now＿ ＼［x＼］, "
        "due 2026-03-25:\n\n- Head of medicine (Internal medicine): 0 hours done, 8 hours to go\n"
        "- ［点此领取管理津贴］（http：//evil.example） ＜＠all＞ (＜at id=all＞＜/at＞ ＊＊Cardiology＊＊ ＃1): "
        f"0 hours done, 8 hours to go\n\n[Open team progress](https://learn.example.com/plans/team/?plan={attacked.pk})")


@pytest.mark.parametrize("field,value", [("wecom_user_id", "all"), ("wecom_user_id", "@all"),
                                         ("wecom_user_id", "li7>\n<@all"), ("mobile", "@all")])
def test_wecom_mentions_only_a_real_user_id_or_mobile(platforms, org, field, value):
    platforms.wecom_keys.add("wecom")
    person = org.learner
    setattr(person, field, value)
    person.save()
    outcome = adapter_for(ChannelKind.WECOM_ROBOT).send(channel(ChannelKind.WECOM_ROBOT, token="wecom"),
                                                        Message("Reminder", "Hello", "https://x/", person))
    assert outcome.result == "ok"
    assert platforms.accepted("wecom_robot") == [{"msgtype": "markdown",
                                                   "markdown": {"content": "**Reminder**\nHello"}}]


@pytest.mark.parametrize("value", ["all", "@all", "ou_7></at><at id=all"])
def test_feishu_mentions_only_a_real_user_id(platforms, org, value):
    platforms.feishu_hooks["hook"] = ""
    org.learner.feishu_user_id = value
    org.learner.save()
    outcome = adapter_for(ChannelKind.FEISHU_BOT).send(channel(ChannelKind.FEISHU_BOT, token="hook"),
                                                       Message("Reminder", "Hello", "https://x/", org.learner))
    assert outcome.result == "ok"
    assert platforms.accepted("feishu_bot")[0]["card"]["elements"] == [{"tag": "markdown", "content": "Hello"}]


def test_dingtalk_mentions_only_a_real_mobile_and_sends_to_one_user_id(platforms, org):
    platforms.dingtalk_robots["robot"] = ""
    platforms.corp_apps["app"] = "appsecret"
    person = org.learner
    person.mobile, person.dingtalk_user_id = "@all", "manager7,boss1"
    person.save()
    robot = channel(ChannelKind.DINGTALK_ROBOT, token="robot")
    outcome = adapter_for(ChannelKind.DINGTALK_ROBOT).send(robot, Message("R", "Hello", "https://x/", person))
    assert outcome.result == "ok"
    assert platforms.accepted("dingtalk_robot") == [{"msgtype": "markdown", "markdown": {"title": "R", "text": "Hello"},
                                                     "at": {"atMobiles": [], "isAtAll": False}}]
    work = channel(ChannelKind.DINGTALK_WORK, app_key="app", secret="appsecret", agent_id="1")
    outcome = adapter_for(ChannelKind.DINGTALK_WORK).send(work, Message("R", "Hello", "https://x/", person))
    assert (outcome.result, outcome.error) == ("failed", "the person's DingTalk user id is not a single user id")
    assert platforms.accepted("dingtalk_work") == []


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from(string.punctuation)))
def test_any_text_is_literal_on_every_channel(value):
    written = markup.literal(value)
    assert markup.plain_text(written) == markup.link_labels(written) == markup.one_line(value)
    shown = markup.platform_markdown(written)
    assert not set(shown) & markup.SPECIAL and "\n" not in shown


def test_the_bell_shows_the_name_as_text_in_the_browser(live_server, org, catalog, new_page):
    from playwright.sync_api import expect

    from test_browser import log_in

    org.learner.name, org.learner.language = NAME, "en"
    org.learner.save()
    plan = reminder_plan(org, catalog, now=at(2026, 3, 1, 8), name=PLAN)
    schedule = ReminderSchedule.objects.create(plan=plan, days_of_month=[15])
    schedule.channels.set([channel(ChannelKind.INAPP)])
    refresh_changed(now=REMINDER_DAY)  # the worker keeps the standings
    services.run_reminders(now=REMINDER_DAY)
    services.send_delivery(delivery_id=Delivery.objects.get(recipient=org.learner).pk)
    page = new_page()
    log_in(page, live_server.url, "learner", "en")
    page.goto(f"{live_server.url}{reverse('notify:inbox')}")
    expect(page.get_by_text(f"Hello {NAME},")).to_be_visible()
    assert page.locator('a[href*="evil.example"]').count() == 0
