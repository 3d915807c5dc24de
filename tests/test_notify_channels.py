"""Each channel against a local server that checks requests like the platform does."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from learntrace.notify import services
from learntrace.notify.channels import Message, adapter_for
from learntrace.notify.models import ChannelKind, Delivery, DeliveryAttempt, Notification
from notify_helpers import channel, delivery, start_platforms


@pytest.fixture
def platforms(settings):
    server = start_platforms(settings)
    yield server
    server.stop()


@pytest.fixture
def learner(org):
    org.learner.mobile, org.learner.email, org.learner.dingtalk_user_id = "13800000001", "li@example.com", "manager7"
    org.learner.feishu_user_id = "ou_7"
    org.learner.save()
    return org.learner


def message(person, key="k1"):
    return Message(subject="学习提醒", text="您本月已完成4小时学习,还需完成4小时", link="https://learn.example.com/plans/my/",
                   recipient=person, key=key)


def test_dingtalk_robot_signs_and_mentions_by_mobile(platforms, learner):
    platforms.dingtalk_robots["robot-token"] = "SECabc"
    robot = channel(token="robot-token", secret="SECabc", rate_per_minute=20)
    sent = delivery(robot, learner)
    assert services.send_delivery(delivery_id=sent.pk) == Delivery.Status.SENT
    [body] = platforms.accepted("dingtalk_robot")
    assert body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert body["markdown"]["title"] == "学习提醒" and "@13800000001" in body["markdown"]["text"]
    attempt = DeliveryAttempt.objects.get(delivery=sent)
    assert attempt.outcome == "ok" and attempt.status_code == 200 and '"errcode": 0' in attempt.answer


def test_a_wrong_robot_secret_fails_with_the_platforms_answer_and_is_not_retried(platforms, learner):
    platforms.dingtalk_robots["robot-token"] = "SECright"
    robot = channel(token="robot-token", secret="SECwrong")
    sent = delivery(robot, learner)
    assert services.send_delivery(delivery_id=sent.pk) == Delivery.Status.FAILED
    sent.refresh_from_db()
    assert sent.last_error == "errcode 310000" and sent.attempts == 1
    assert "sign not match" in sent.attempt_log.get().answer
    assert platforms.accepted("dingtalk_robot") == []


def test_dingtalks_rate_limit_answer_is_retried_later(platforms, learner):
    platforms.dingtalk_robots["robot-token"] = ""
    robot = channel(token="robot-token", rate_per_minute=0)  # our own limiter off: the platform refuses
    adapter = adapter_for(ChannelKind.DINGTALK_ROBOT)
    outcomes = [adapter.send(robot, message(learner)).result for _ in range(21)]
    assert outcomes[:20] == ["ok"] * 20 and outcomes[20] == "retry"
    assert platforms.answers[-1][1]["errcode"] == 130101


def test_the_shared_limiter_keeps_a_robot_under_its_rate(platforms, learner):
    platforms.dingtalk_robots["robot-token"] = ""
    robot = channel(token="robot-token", rate_per_minute=2)
    now = timezone.now()
    sent = [delivery(robot, learner, key=f"k{i}", next_attempt_at=now) for i in range(3)]
    assert [services.send_delivery(delivery_id=d.pk, now=now) for d in sent] == ["sent", "sent", "waiting"]
    waiting = Delivery.objects.get(pk=sent[2].pk)
    assert waiting.status == "queued" and waiting.attempts == 0 and waiting.next_attempt_at >= now + dt.timedelta(
        seconds=59)
    assert len(platforms.accepted("dingtalk_robot")) == 2
    later = now + dt.timedelta(seconds=61)
    assert services.send_delivery(delivery_id=waiting.pk, now=later) == "sent"


def test_dingtalk_work_notification_fetches_the_token_once_and_caches_it(platforms, learner, org):
    platforms.corp_apps["dingappkey"] = "appsecret"
    work = channel(ChannelKind.DINGTALK_WORK, app_key="dingappkey", secret="appsecret", agent_id="123456")
    first, second = delivery(work, learner, key="a"), delivery(work, learner, key="b")
    assert services.send_delivery(delivery_id=first.pk) == "sent"
    assert services.send_delivery(delivery_id=second.pk) == "sent"
    assert platforms.gettoken_calls == 1
    bodies = platforms.accepted("dingtalk_work")
    assert [b["userid_list"] for b in bodies] == ["manager7", "manager7"] and bodies[0]["agent_id"] == 123456
    work.refresh_from_db()
    assert work.cached_access_token == "token-1"
    # Expired: a new token is fetched.
    work.cached_access_token_expires_at = timezone.now() + dt.timedelta(minutes=1)
    work.save()
    assert services.send_delivery(delivery_id=delivery(work, learner, key="c").pk) == "sent"
    assert platforms.gettoken_calls == 2


def test_dingtalk_work_forgets_a_revoked_token_and_refuses_people_without_a_user_id(platforms, learner, org):
    platforms.corp_apps["dingappkey"] = "appsecret"
    work = channel(ChannelKind.DINGTALK_WORK, app_key="dingappkey", secret="appsecret", agent_id="1",
                   cached_access_token="revoked", cached_access_token_expires_at=timezone.now() + dt.timedelta(hours=1))
    revoked = delivery(work, learner)
    assert services.send_delivery(delivery_id=revoked.pk) == "sent"  # sent again at once with a fresh token
    work.refresh_from_db()
    assert work.cached_access_token == "token-1" and platforms.gettoken_calls == 1
    assert len(platforms.accepted("dingtalk_work")) == 1
    nobody = delivery(work, org.outsider, key="outsider")
    assert services.send_delivery(delivery_id=nobody.pk) == "failed"
    assert Delivery.objects.get(pk=nobody.pk).last_error == "the person has no DingTalk user id"


def test_dingtalk_work_with_a_wrong_app_secret_fails(platforms, learner):
    platforms.corp_apps["dingappkey"] = "appsecret"
    work = channel(ChannelKind.DINGTALK_WORK, app_key="dingappkey", secret="wrong", agent_id="1")
    sent = delivery(work, learner)
    assert services.send_delivery(delivery_id=sent.pk) == "failed"
    assert Delivery.objects.get(pk=sent.pk).last_error == "gettoken: errcode 40089"


def test_wecom_robot_mentions_by_user_id_in_markdown_or_by_mobile_in_text(platforms, learner, org):
    platforms.wecom_keys.add("wecom-key")
    robot = channel(ChannelKind.WECOM_ROBOT, token="wecom-key")
    sent = delivery(robot, learner, text="您本月已完成4小时学习\n\n[打开“我的学习”](https://learn.example.com/plans/my/)")
    assert services.send_delivery(delivery_id=sent.pk) == "sent"  # known only by mobile: a text message
    org.head.wecom_user_id, org.head.mobile = "wangjg", "13900000002"
    org.head.save()
    assert services.send_delivery(delivery_id=delivery(robot, org.head, key="k2").pk) == "sent"
    by_mobile, by_id = platforms.accepted("wecom_robot")
    assert by_mobile["msgtype"] == "text" and by_mobile["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert "打开“我的学习”: https://learn.example.com/plans/my/" in by_mobile["text"]["content"]
    assert by_id["msgtype"] == "markdown" and by_id["markdown"]["content"].startswith("**学习提醒**")
    assert by_id["markdown"]["content"].endswith("<@wangjg>")
    wrong = channel(ChannelKind.WECOM_ROBOT, token="not-a-key")
    assert services.send_delivery(delivery_id=delivery(wrong, learner, key="k3").pk) == "failed"


def test_feishu_bot_signs_with_the_timestamp_and_secret_as_key(platforms, learner):
    platforms.feishu_hooks["hook-1"] = "feishu-secret"
    bot = channel(ChannelKind.FEISHU_BOT, token="hook-1", secret="feishu-secret")
    assert services.send_delivery(delivery_id=delivery(bot, learner).pk) == "sent"
    [body] = platforms.accepted("feishu_bot")
    assert body["card"]["elements"][0]["content"].endswith("<at id=ou_7></at>")
    wrong = channel(ChannelKind.FEISHU_BOT, token="hook-1", secret="other")
    failed = delivery(wrong, learner, key="k2")
    assert services.send_delivery(delivery_id=failed.pk) == "failed"
    assert Delivery.objects.get(pk=failed.pk).last_error == "code 19021"


def test_the_webhook_is_signed_and_keyed(platforms, learner):
    platforms.webhook_secret = "shared"
    hook = channel(ChannelKind.WEBHOOK, token=f"{platforms.url}/receiver", secret="shared")
    sent = delivery(hook, learner, key="reminder:1:2:20260315:3:4")
    assert services.send_delivery(delivery_id=sent.pk) == "sent"
    [body] = platforms.accepted("webhook")
    assert body["key"] == "reminder:1:2:20260315:3:4" and body["recipient"]["employee_no"] == "E001"
    wrong = channel(ChannelKind.WEBHOOK, token=f"{platforms.url}/receiver", secret="not shared")
    assert services.send_delivery(delivery_id=delivery(wrong, learner, key="k2").pk) == "failed"


def test_email_goes_through_djangos_mail_backend(settings, learner, org):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = channel(ChannelKind.EMAIL)
    assert services.send_delivery(delivery_id=delivery(email, learner).pk) == "sent"
    [sent] = mail.outbox
    assert sent.to == ["li@example.com"] and sent.subject == "学习提醒" and "还需完成4小时" in sent.body
    no_address = delivery(email, org.outsider, key="k2")
    assert services.send_delivery(delivery_id=no_address.pk) == "failed"


def test_in_app_notification_is_stored_once(learner):
    inapp = channel(ChannelKind.INAPP)
    sent = delivery(inapp, learner)
    assert services.send_delivery(delivery_id=sent.pk) == "sent"
    assert services.send_delivery(delivery_id=sent.pk) is None  # already sent: not claimed again
    notification = Notification.objects.get()
    assert notification.employee == learner and notification.link == "/plans/my/" and notification.read_at is None


# -- what the platforms document: retries, token refresh, sizes and rates ---------------------------


def test_dingtalk_system_busy_is_retried_and_an_expired_token_is_refreshed_once(platforms, learner):
    platforms.corp_apps["dingappkey"] = "appsecret"
    work = channel(ChannelKind.DINGTALK_WORK, app_key="dingappkey", secret="appsecret", agent_id="1")
    busy = delivery(work, learner, key="busy")
    platforms.busy_next = 1
    assert services.send_delivery(delivery_id=busy.pk) == "queued"
    assert Delivery.objects.get(pk=busy.pk).last_error == "errcode -1"
    later = timezone.now() + dt.timedelta(hours=1)
    assert services.send_delivery(delivery_id=busy.pk, now=later) == "sent"
    # The cached token expired early (42001): dropped, a fresh one fetched, the message sent once more.
    work.refresh_from_db()
    platforms.expired_tokens.add(work.cached_access_token)
    expired = delivery(work, learner, key="expired", next_attempt_at=later)
    assert services.send_delivery(delivery_id=expired.pk, now=later) == "sent"
    work.refresh_from_db()
    assert work.cached_access_token == "token-2" and platforms.gettoken_calls == 2
    assert [a["errcode"] for name, a in platforms.answers if name == "dingtalk_work"] == [-1, 0, 42001, 0]
    # The robot's "system busy" is retried as well.
    platforms.dingtalk_robots["robot-token"] = ""
    robot = channel(token="robot-token")
    platforms.busy_next = 1
    assert adapter_for(ChannelKind.DINGTALK_ROBOT).send(robot, message(learner)).result == "retry"


def long_digest(person, names=31):
    lines = [f"- 住院部第{n}病区护士长{n}号（心内科）：已完成 3.5 小时，还需 4.5 小时" for n in range(names)]
    return Message(subject="您部门人员的学习情况：2026 年护理继续教育",
                   text="您好，\n\n" + "\n".join(lines) + "\n\n[查看团队进度](https://learn.example.com/plans/team/)",
                   link="https://learn.example.com/plans/team/", recipient=person)


def test_a_long_digest_is_shortened_to_the_robots_documented_size_never_refused(platforms, learner):
    platforms.wecom_keys.add("wecom-key")
    learner.mobile = ""
    learner.wecom_user_id = "li.ming"
    robot = channel(ChannelKind.WECOM_ROBOT, token="wecom-key")
    text_robot_person = message(learner)
    digest = long_digest(learner, names=80)
    assert len(digest.text.encode()) > 4096
    assert adapter_for(ChannelKind.WECOM_ROBOT).send(robot, digest).result == "ok"
    [body] = platforms.accepted("wecom_robot")
    content = body["markdown"]["content"]
    assert 3900 < len(content.encode()) <= 4096
    assert content.endswith("[查看团队进度](https://learn.example.com/plans/team/)\n<@li.ming>")
    kept = content.count("护士长")
    assert f"… 还有 {80 - kept} 行，请打开 learntrace 查看全部。" in content
    # By mobile, as a text message: 2048 bytes.
    learner.wecom_user_id, learner.mobile = "", "13800000001"
    assert adapter_for(ChannelKind.WECOM_ROBOT).send(robot, long_digest(learner)).result == "ok"
    text = platforms.accepted("wecom_robot")[-1]["text"]["content"]
    assert len(text.encode()) <= 2048 and text.endswith("查看团队进度: https://learn.example.com/plans/team/")
    assert text_robot_person.text == "您本月已完成4小时学习,还需完成4小时"  # short messages go out unchanged


def test_a_feishu_bot_is_paced_to_five_messages_a_second_across_workers(platforms, learner):
    platforms.feishu_hooks["hook-1"] = ""
    bot = channel(ChannelKind.FEISHU_BOT, token="hook-1")
    now = timezone.now()
    burst = [delivery(bot, learner, key=f"b{i}", next_attempt_at=now) for i in range(7)]
    assert [services.send_delivery(delivery_id=d.pk, now=now) for d in burst] == ["sent"] * 5 + ["waiting"] * 2
    assert Delivery.objects.get(pk=burst[5].pk).next_attempt_at == now + dt.timedelta(seconds=1)
    assert not [a for name, a in platforms.answers if a.get("code") == 11232]
    second = now + dt.timedelta(seconds=1)
    platforms.robot_sends.clear()  # the platform's clock is the real one: its second has passed too
    assert [services.send_delivery(delivery_id=d.pk, now=second) for d in burst[5:]] == ["sent", "sent"]
    assert len(platforms.accepted("feishu_bot")) == 7
    # The minute's 100 hold as well, whatever the channel's own setting says.
    assert services.rates_of(bot) == (5, 100)
    bot.rate_per_minute = 500
    assert services.rates_of(bot) == (5, 100)
    bot.rate_per_minute = 30
    assert services.rates_of(bot) == (5, 30)


def test_the_fake_feishu_bot_refuses_a_sixth_message_within_a_second(platforms, learner):
    platforms.feishu_hooks["hook-1"] = ""
    bot = channel(ChannelKind.FEISHU_BOT, token="hook-1")
    outcomes = [adapter_for(ChannelKind.FEISHU_BOT).send(bot, message(learner)).result for _ in range(6)]
    assert outcomes[:5] == ["ok"] * 5 and outcomes[5] == "retry"  # our pacing bypassed: the platform refuses


# -- e-mail against a real SMTP server ---------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["8bitmime", "7bit-only"])
def smtp(request, settings):
    from smtp_server import SmtpServer

    server = SmtpServer(eight_bit=request.param).start()
    settings.EMAIL_BACKEND = "learntrace.core.mail.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.DEFAULT_FROM_EMAIL, settings.EMAIL_FROM_NAME = "training@hospital.example", "医院培训中心"
    settings.SITE_URL = "https://learn.hospital.example"
    settings.TIME_ZONE = "Asia/Shanghai"
    yield server
    server.stop()


def test_an_e_mail_is_multipart_with_the_headers_mail_systems_expect(smtp, learner):
    import email
    from email import policy
    from email.utils import parseaddr, parsedate_to_datetime

    learner.name = "李<b>明</b>"
    mail_channel = channel(ChannelKind.EMAIL)
    text = "您好，李\\<b\\>明\\</b\\>：\n\n- 本月还需学习 4 小时\n\n[打开我的学习](https://learn.hospital.example/plans/my/)"
    note = Message(subject="学习提醒", text=text, link="https://learn.hospital.example/plans/my/", recipient=learner,
                   key="reminder:1")
    assert adapter_for(ChannelKind.EMAIL).send(mail_channel, note).result == "ok"
    assert smtp.refused == []
    [(options, raw)] = smtp.messages
    declared = [option for option in options if not option.startswith("SIZE=")]  # smtplib adds SIZE itself
    if smtp.eight_bit:
        assert declared == ["BODY=8BITMIME"] and "学习提醒".encode() not in raw  # the subject is encoded anyway
        assert "本月还需学习 4 小时".encode() in raw  # the body goes as it is: 8-bit
    else:
        assert declared == [] and all(byte < 128 for byte in raw)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parseaddr(parsed["From"]) == ("医院培训中心", "training@hospital.example")
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["X-Learntrace-Key"] == "reminder:1"
    assert parsed["Message-ID"].endswith("@learn.hospital.example>")
    assert parsed["Date"].endswith("+0800") and parsedate_to_datetime(parsed["Date"]).utcoffset() == dt.timedelta(
        hours=8)
    assert str(parsed["Subject"]) == "学习提醒"
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "李<b>明</b>" in plain and "打开我的学习: https://learn.hospital.example/plans/my/" in plain
    assert "李&lt;b&gt;明&lt;/b&gt;" in html and "<b>" not in html
    assert '<a href="https://learn.hospital.example/plans/my/">打开我的学习</a>' in html


def test_the_server_itself_refuses_undeclared_8_bit_data(smtp):
    import smtplib

    with smtplib.SMTP("127.0.0.1", smtp.port) as client:
        client.ehlo()
        assert client.has_extn("8bitmime") is smtp.eight_bit
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\n学习\r\n".encode())
    assert refused.value.smtp_code == 554
