"""Activation and reset links: people choose their own password through a single-use, expiring link
sent by e-mail or a work app (WeCom and Feishu against a local server that checks like the platforms);
the training admin sends them to a selection or to everyone and sees the outcome per person."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from fake_app_messages import AppMessages
from learntrace.accounts import links
from learntrace.accounts.models import LinkBatch, LinkDispatch, ResetRequest, SignInEvent, SignInLink
from learntrace.core.models import AuditEntry
from learntrace.notify.channels import Message, adapter_for
from learntrace.notify.models import Channel, ChannelKind
from learntrace.org.models import Employee

NEW_PASSWORD = "a-Much-longer-secret-42"
LINK = re.compile(r"https?://[^\s)]+/accounts/link/([A-Za-z0-9_-]+)/")


@pytest.fixture
def apps(settings):
    server = AppMessages().start()
    settings.NOTIFY_WECOM_API_URL = server.url
    settings.NOTIFY_FEISHU_API_URL = server.url
    settings.NOTIFY_HTTP_TIMEOUT_SECONDS = 2
    settings.SITE_URL = "https://learn.example.com"
    yield server
    server.stop()


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


def without_password(employee):
    employee.user.set_unusable_password()
    employee.user.save()
    return employee


def email_channel():
    return Channel.objects.create(name="Mail", kind=ChannelKind.EMAIL)


def wecom_channel(apps):
    apps.wecom_apps["ww-corp"] = ("wecom-secret", 1000002)
    return Channel.objects.create(name="WeCom", kind=ChannelKind.WECOM_APP, app_key="ww-corp",
                                  secret="wecom-secret", agent_id="1000002")


def feishu_channel(apps):
    apps.feishu_apps["cli_app"] = "feishu-secret"
    return Channel.objects.create(name="Feishu", kind=ChannelKind.FEISHU_APP, app_key="cli_app",
                                  secret="feishu-secret")


def tokens_in(text):
    return LINK.findall(text)


# -- the channels ----------------------------------------------------------------------------------

def test_wecom_app_message_reaches_the_person_by_user_id_and_refetches_a_revoked_token(apps, org):
    apps.wecom_users.add("li.ming")
    org.learner.wecom_user_id = "li.ming"
    channel = wecom_channel(apps)
    message = Message(subject="S", text="[open](https://learn.example.com/x)", link="https://learn.example.com/x",
                      recipient=org.learner)
    assert adapter_for("wecom_app").send(channel, message).result == "ok"
    apps.expire_tokens()  # revoked before its time: fetched again and sent once more
    assert adapter_for("wecom_app").send(channel, message).result == "ok"
    assert apps.token_calls == 2
    bodies = apps.accepted("wecom")
    assert [(b["touser"], b["agentid"], b["msgtype"]) for b in bodies] == [("li.ming", 1000002, "markdown")] * 2


def test_a_long_wecom_app_message_is_shortened_to_2048_bytes_not_refused(apps, org):
    apps.wecom_users.add("li.ming")
    org.learner.wecom_user_id = "li.ming"
    channel = wecom_channel(apps)
    names = "\n".join(f"- 住院部第{n}病区护士长（心内科）：已完成 3.5 小时，还需 4.5 小时" for n in range(31))
    message = Message(subject="您部门人员的学习情况", text=f"您好，\n\n{names}\n\n[查看团队进度](https://learn.example.com/t)",
                      link="https://learn.example.com/t", recipient=org.learner)
    assert adapter_for("wecom_app").send(channel, message).result == "ok"
    [body] = apps.accepted("wecom")
    content = body["markdown"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("[查看团队进度](https://learn.example.com/t)")
    assert f"… 还有 {31 - content.count('护士长')} 行，请打开 learntrace 查看全部。" in content


def test_wecom_refuses_people_outside_the_apps_range_and_a_wrong_secret(apps, org):
    org.learner.wecom_user_id = "stranger"
    channel = wecom_channel(apps)
    message = Message(subject="S", text="t", link="https://learn.example.com/x", recipient=org.learner)
    outcome = adapter_for("wecom_app").send(channel, message)
    assert (outcome.result, outcome.error) == ("failed", "errcode 81013")
    channel.secret = "wrong"
    channel.cached_access_token = ""
    channel.save()
    outcome = adapter_for("wecom_app").send(channel, message)
    assert (outcome.result, outcome.error) == ("failed", "gettoken: errcode 40001")
    assert apps.accepted("wecom") == []


def test_feishu_app_message_goes_to_the_user_id_with_the_tenant_token(apps, org):
    apps.feishu_users.add("f7a1")
    org.learner.feishu_user_id = "f7a1"
    channel = feishu_channel(apps)
    message = Message(subject="Reset", text="[open the link](https://learn.example.com/x)",
                      link="https://learn.example.com/x", recipient=org.learner)
    assert adapter_for("feishu_app").send(channel, message).result == "ok"
    apps.expire_tokens()
    assert adapter_for("feishu_app").send(channel, message).result == "ok"
    [first, _second] = apps.accepted("feishu")
    assert first["receive_id"] == "f7a1" and first["msg_type"] == "text"
    assert '"Reset\\nopen the link: https://learn.example.com/x"' in first["content"]
    org.learner.feishu_user_id = "nobody"
    outcome = adapter_for("feishu_app").send(channel, message)
    assert (outcome.result, outcome.error) == ("failed", "code 230013")


def test_a_name_that_looks_like_markup_reaches_the_apps_as_text(apps, org):
    learner = without_password(org.learner)
    learner.name = "[点此领取津贴](http://evil.example) <@all> <at user_id=\"all\"></at>"
    learner.wecom_user_id, learner.feishu_user_id = "li.ming", "f7a1"
    learner.save()
    apps.wecom_users.add("li.ming")
    apps.feishu_users.add("f7a1")
    assert send_activation(learner, [wecom_channel(apps)])[0] == "sent"
    assert send_activation(learner, [feishu_channel(apps)])[0] == "sent"
    [wecom] = apps.accepted("wecom")
    content = wecom["markdown"]["content"]
    assert content.split("\n")[1].startswith("［点此领取津贴］（http：//evil.example） ＜＠all＞ ＜at user＿id")
    assert "(http://evil.example)" not in content and "<@all>" not in content
    assert re.search(r"\[[^\]]+\]\(https://learn\.example\.com/accounts/link/[^)]+/\)", content)
    [feishu] = apps.accepted("feishu")
    import json

    text = json.loads(feishu["content"])["text"]
    assert "＜at user_id=\"all\"＞＜/at＞" in text and "<at" not in text
    assert "[点此领取津贴](http://evil.example)" in text  # plain text: shown as written, never a link


# -- one person's link -----------------------------------------------------------------------------

def send_activation(employee, channels, **kwargs):
    return links.send_link(employee=employee, purpose=SignInLink.Purpose.ACTIVATION, channels=channels,
                           site_url="https://learn.example.com", **kwargs)


def test_a_link_sets_the_persons_own_password_once_and_signs_them_in(org, client):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    assert send_activation(learner, [email_channel()])[0] == "sent"
    [message] = mail.outbox
    assert message.to == ["li@example.com"]
    [token] = tokens_in(message.body)
    stored = SignInLink.objects.get()
    assert token not in stored.token_hash and stored.token_hash == links.token_hash(token)

    opened = client.get(reverse("accounts:link", args=[token]))
    assert opened.status_code == 302 and opened["Location"] == reverse("accounts:link_password")
    weak = client.post(reverse("accounts:link_password"), {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "_auth_user_id" not in client.session
    assert SignInLink.objects.get().used_at is None  # a refused password does not use the link up
    done = client.post(reverse("accounts:link_password"),
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and client.session["_auth_user_id"] == str(learner.user_id)
    learner.user.refresh_from_db()
    assert learner.user.check_password(NEW_PASSWORD)
    event = SignInEvent.objects.get(outcome="success")
    assert (event.method, event.employee_id, event.identifier) == ("activation", learner.pk, "E001")
    assert AuditEntry.objects.filter(action="password.activation", object_id=str(learner.pk)).count() == 1

    client.logout()
    client.cookies["django_language"] = "en"  # signing in set the person's own language
    again = client.get(reverse("accounts:link", args=[token]))
    assert again.status_code == 403 and b"was used already" in again.content
    assert SignInEvent.objects.filter(outcome="refused", reason="link").count() == 1


def test_link_tokens_never_reach_the_log(org, client, caplog):
    from learntrace.accounts.log_filters import RedactLinkTokens

    client.get("/accounts/link/SECRET-token-value/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    for record in records:
        RedactLinkTokens().filter(record)
        assert "SECRET-token-value" not in record.getMessage()
    assert "/accounts/link/…" in records[0].getMessage()


def test_expired_and_made_up_links_are_refused_without_a_500(org, client):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    send_activation(learner, [email_channel()], now=timezone.now() - dt.timedelta(days=8))
    [token] = tokens_in(mail.outbox[0].body)
    for candidate in (token, "x" * 43, "%00"):
        response = client.get(f"/accounts/link/{candidate}/")
        assert response.status_code == 403
    assert SignInEvent.objects.filter(reason="link").count() == 3
    # Without a link in the session the password page refuses too.
    assert client.post(reverse("accounts:link_password"), {"new_password1": NEW_PASSWORD,
                                                           "new_password2": NEW_PASSWORD}).status_code == 403


def test_a_link_opened_but_used_elsewhere_first_cannot_set_the_password_twice(org, client):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    send_activation(learner, [email_channel()])
    [token] = tokens_in(mail.outbox[0].body)
    client.get(reverse("accounts:link", args=[token]))
    links.use_link(link_id=SignInLink.objects.get().pk, password="Other-password-77")  # another tab
    response = client.post(reverse("accounts:link_password"),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    learner.user.refresh_from_db()
    assert learner.user.check_password("Other-password-77")


def test_using_one_link_closes_the_persons_other_links(org):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    channel = email_channel()
    send_activation(learner, [channel])
    send_activation(learner, [channel])
    older, newer = SignInLink.objects.order_by("id")
    links.use_link(link_id=newer.pk, password=NEW_PASSWORD)
    older.refresh_from_db()
    assert older.closed_at is not None
    with pytest.raises(links.Refusal):
        links.check_open(older)


def test_a_deactivated_person_cannot_use_their_link(org, client):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    send_activation(learner, [email_channel()])
    [token] = tokens_in(mail.outbox[0].body)
    Employee.objects.filter(pk=learner.pk).update(is_active=False)
    response = client.get(reverse("accounts:link", args=[token]))
    assert response.status_code == 403 and b"deactivated" in response.content


def test_the_first_channel_that_reaches_the_person_is_used_and_a_failing_one_falls_through(apps, org):
    learner = without_password(org.learner)
    learner.email, learner.wecom_user_id, learner.feishu_user_id = "li@example.com", "li.ming", "f7a1"
    learner.save()
    wecom, feishu, mail_channel = wecom_channel(apps), feishu_channel(apps), email_channel()
    apps.feishu_users.add("f7a1")  # not in WeCom's range: WeCom fails, Feishu delivers
    outcome, channel_name, _error = send_activation(learner, [wecom, feishu, mail_channel])
    assert (outcome, channel_name) == ("sent", "Feishu")
    assert len(apps.accepted("feishu")) == 1 and mail.outbox == []
    assert SignInLink.objects.get().channel_kind == "feishu_app"
    learner.email = learner.wecom_user_id = learner.feishu_user_id = ""
    assert send_activation(learner, [wecom, feishu, mail_channel])[0] == "unreachable"


# -- batches sent by the admin -----------------------------------------------------------------------

def test_admin_sends_links_to_a_selection_in_the_chosen_order_and_sees_the_outcome(
        apps, org, client_for, django_capture_on_commit_callbacks):
    apps.wecom_users.add("w-learner")
    learner = without_password(org.learner)
    learner.wecom_user_id, learner.email = "w-learner", "li@example.com"
    learner.save()
    outsider = without_password(org.outsider)  # no address anywhere
    wecom, mail_channel = wecom_channel(apps), email_channel()
    client = client_for(org.admin)
    ids = [learner.pk, outsider.pk, org.head.pk]  # the head has a password: not in the batch
    page = client.get(reverse("accounts:send_links"), {"employee": ids})
    assert page.status_code == 200 and page.context["ready_count"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:send_links"),
                               {"employee": ids, "channel_1": mail_channel.pk, "channel_2": wecom.pk})
    batch = LinkBatch.objects.get()
    assert response["Location"] == reverse("accounts:link_batch", args=[batch.pk])
    assert batch.status == "done"
    outcomes = dict(batch.dispatches.values_list("employee__employee_no", "outcome"))
    assert outcomes == {"E001": "sent", "E002": "unreachable"}
    assert [m.to for m in mail.outbox] == [["li@example.com"]] and apps.accepted("wecom") == []
    result = client.get(reverse("accounts:link_batch", args=[batch.pk]))
    assert links.batch_counts(batch) == {"queued": 0, "sent": 1, "unreachable": 1, "failed": 0, "skipped": 0}
    assert b"No channel reaches them" in result.content and b"Outsider in surgery" in result.content
    actions = list(AuditEntry.objects.filter(object_type="linkbatch").values_list("action", flat=True))
    assert sorted(actions) == ["signin_links.send", "signin_links.sent"]
    assert not [m for m in mail.outbox if "Much-longer" in m.body]


def test_only_admins_send_links_and_bad_input_is_a_clear_error(org, client_for):
    client = client_for(org.auditor)
    assert client.get(reverse("accounts:send_links"), {"all": "1"}).status_code == 403
    client = client_for(org.admin)
    mail_channel = email_channel()
    response = client.post(reverse("accounts:send_links"), {"employee": ["abc", "999999"], "channel_1": "x"})
    assert response.status_code == 200 and LinkBatch.objects.count() == 0
    assert response.context["form"].errors["channel_1"]
    response = client.post(reverse("accounts:send_links"),
                           {"employee": [org.head.pk], "channel_1": mail_channel.pk})
    assert b"Nobody chosen is without a usable login" in response.content and LinkBatch.objects.count() == 0


def test_a_person_who_got_a_password_meanwhile_is_skipped(org, django_capture_on_commit_callbacks):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    batch = LinkBatch.objects.create(channel_ids=[email_channel().pk], site_url="https://learn.example.com")
    LinkDispatch.objects.create(batch=batch, employee=learner)
    learner.user.set_password(PASSWORD)
    learner.user.save()
    links.run_batch(batch.pk)
    assert batch.dispatches.get().outcome == "skipped" and mail.outbox == []
    assert links.run_batch(batch.pk) is None  # claimed once


# -- forgot password ---------------------------------------------------------------------------------

def test_forgot_password_answers_the_same_whoever_is_named(org, client, django_capture_on_commit_callbacks):
    org.learner.email = "li@example.com"
    org.learner.save()
    email_channel()
    pages = []
    for identifier in ("E001", "NOBODY", "nobody@example.com", "LI@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:forgot_password"), {"identifier": identifier})
        assert response.status_code == 200
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()))
    assert len(set(pages)) == 1
    assert [m.to for m in mail.outbox] == [["li@example.com"], ["li@example.com"]]
    assert SignInLink.objects.filter(purpose="reset").count() == 2


def test_a_reset_link_signs_in_with_the_reset_method_and_closes_older_links(org, client,
                                                                            django_capture_on_commit_callbacks):
    org.learner.email = "li@example.com"
    org.learner.save()
    email_channel()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:forgot_password"), {"identifier": "E001"})
    first, second = (tokens_in(m.body)[0] for m in mail.outbox)
    client.get(reverse("accounts:link", args=[second]))
    client.post(reverse("accounts:link_password"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert SignInEvent.objects.get(outcome="success").method == "reset"
    client.logout()
    assert client.get(reverse("accounts:link", args=[first])).status_code == 403
    assert client.post(reverse("accounts:login"), {"username": "learner", "password": NEW_PASSWORD}).status_code == 302


def test_forgot_password_is_throttled_per_address_and_per_person(org, client, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.AXES_FAILURE_LIMIT = 5
    org.learner.email = "li@example.com"
    org.learner.save()
    email_channel()
    for number in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:forgot_password"), {"identifier": "E001"},
                                   REMOTE_ADDR=f"10.0.0.{number}")
        assert response.status_code == 200
    assert len(mail.outbox) == links.RESETS_PER_PERSON  # the person is not flooded
    for _ in range(5):
        client.post(reverse("accounts:forgot_password"), {"identifier": "X"}, REMOTE_ADDR="10.9.9.9")
    refused = client.post(reverse("accounts:forgot_password"), {"identifier": "E001"}, REMOTE_ADDR="10.9.9.9")
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert ResetRequest.objects.filter(ip_address="10.9.9.9").count() == 5


def test_forgot_password_is_offered_only_with_password_sign_in(org, client, settings):
    assert b"Forgot your password?" in client.get(reverse("accounts:login")).content
    settings.SIGNIN_METHODS = ["ldap"]
    assert client.get(reverse("accounts:forgot_password")).status_code == 404


# -- the employee page ------------------------------------------------------------------------------

def test_the_employee_page_shows_whether_the_person_can_log_in_and_when_activation_was_sent(org, client_for):
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    client = client_for(org.admin)
    page = client.get(reverse("org:employee", args=[learner.pk])).content.decode()
    assert "no: the person cannot log in with a password yet" in page
    sent_at = dt.datetime(2026, 3, 2, 9, 30, tzinfo=timezone.get_current_timezone())
    send_activation(learner, [email_channel()], now=sent_at)
    page = client.get(reverse("org:employee", args=[learner.pk])).content.decode()
    assert re.search(r'id="activation-sent">2026-03-02 09:30<', page)
    learner_page = client_for(org.learner).get(reverse("org:me")).content.decode()
    assert 'id="activation-sent"' not in learner_page


def test_three_hundred_imported_people_are_brought_to_a_first_sign_in(
        live_server, org, new_page, tmp_path, settings, transactional_db):
    """End to end: an import of 300 people without passwords, links to everyone without a usable login,
    300 distinct links, and one person opening theirs in the browser, choosing a password and being in."""
    import csv

    from learntrace.org.importing import OrgImport

    settings.SITE_URL = live_server.url
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["employee_no", "name", "department_code", "email"])
        for number in range(300):
            writer.writerow([f"N{number:04d}", f"护士{number}", "IM-CARD", f"n{number}@hospital.example"])
    result = OrgImport(path, path.name).apply(actor=None)
    assert result.ok, result.errors
    assert links.without_usable_login().count() == 300
    email_channel()

    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit].primary").click()
    page.goto(f"{live_server.url}/org/employees/")
    page.click("#links-to-all")
    assert page.locator("#ready-count").inner_text() == "300"
    page.locator("form.card button[type=submit]").click()
    page.wait_for_selector("#link-batch[data-status=done]")
    assert page.locator("#link-batch td.sent").inner_text() == "300"

    tokens = [tokens_in(message.body)[0] for message in mail.outbox]
    assert len(tokens) == 300 and len(set(tokens)) == 300
    assert sorted(message.to[0] for message in mail.outbox) == sorted(f"n{n}@hospital.example" for n in range(300))
    [nurse_mail] = [m for m in mail.outbox if m.to == ["n42@hospital.example"]]
    [url] = re.findall(r"http://\S+/accounts/link/[A-Za-z0-9_-]+/", nurse_mail.body)

    nurse = new_page(phone=True)
    nurse.goto(url)
    assert "/accounts/link/password/" in nurse.url
    nurse.fill("#id_new_password1", NEW_PASSWORD)
    nurse.fill("#id_new_password2", NEW_PASSWORD)
    nurse.locator("button.primary").click()
    nurse.wait_for_url(f"{live_server.url}/")
    assert get_user_model().objects.get(username="N0042").check_password(NEW_PASSWORD)
    assert SignInEvent.objects.filter(method="activation", outcome="success", identifier="N0042").count() == 1
    assert links.without_usable_login().count() == 299


def test_an_employee_without_any_account_gets_one_through_the_link(org, client):
    employee = Employee.objects.create(employee_no="N0001", name="New nurse", department=org.a1,
                                       email="nurse@example.com")
    send_activation(employee, [email_channel()])
    [token] = tokens_in(mail.outbox[0].body)
    client.get(reverse("accounts:link", args=[token]))
    response = client.post(reverse("accounts:link_password"),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user = get_user_model().objects.get(username="N0001")
    assert user.check_password(NEW_PASSWORD) and client.session["_auth_user_id"] == str(user.pk)
    assert Employee.objects.get(pk=employee.pk).user_id == user.pk


def test_opening_links_is_throttled_per_address_even_for_a_good_link(org, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    send_activation(learner, [email_channel()])
    [token] = tokens_in(mail.outbox[0].body)
    for guess in range(3):
        assert client.get(f"/accounts/link/guess{guess}/").status_code == 403
    response = client.get(reverse("accounts:link", args=[token]))
    assert response.status_code == 429 and b"Too many refused sign-ins" in response.content
    assert SignInLink.objects.get().used_at is None


def test_the_send_button_is_offered_only_for_people_without_a_usable_login(org, client_for):
    client = client_for(org.admin)
    assert 'id="send-activation"' not in client.get(reverse("org:employee", args=[org.learner.pk])).content.decode()
    without_password(org.learner)
    assert 'id="send-activation"' in client.get(reverse("org:employee", args=[org.learner.pk])).content.decode()


@pytest.mark.parametrize("kind, fields, errors", [
    ("wecom_app", {"app_key": "", "secret": "s", "agent_id": "1000002"}, {"app_key": "Enter the corp's CorpID."}),
    ("wecom_app", {"app_key": "ww1", "secret": "s", "agent_id": "x"},
     {"agent_id": "Enter the app's AgentId (digits)."}),
    ("feishu_app", {"app_key": "", "secret": "s"}, {"app_key": "Enter the app's App ID."}),
    ("feishu_app", {"app_key": "cli_1", "secret": ""}, {"secret": "Enter the app's AppSecret."}),
])
def test_app_message_channels_need_their_credentials(org, client_for, kind, fields, errors):
    data = {"name": "App", "kind": kind, "rate_per_minute": 0, "is_active": "on", "token": "", **fields}
    response = client_for(org.admin).post(reverse("notify:channel_new"), data)
    assert response.status_code == 200 and not Channel.objects.filter(name="App").exists()
    assert {name: [str(e) for e in response.context["form"].errors[name]] for name in errors} == \
        {name: [message] for name, message in errors.items()}


def test_an_app_message_channel_is_saved_with_its_secret_encrypted(org, client_for):
    data = {"name": "Feishu app", "kind": "feishu_app", "app_key": "cli_1", "secret": "feishu-secret",
            "rate_per_minute": 0, "is_active": "on", "token": ""}
    assert client_for(org.admin).post(reverse("notify:channel_new"), data).status_code == 302
    channel = Channel.objects.get(name="Feishu app")
    assert (channel.kind, channel.app_key, channel.secret) == ("feishu_app", "cli_1", "feishu-secret")


def test_a_password_changed_after_the_link_was_sent_makes_the_link_useless(org, client):
    org.learner.email = "li@example.com"
    org.learner.save()
    channel = email_channel()
    links.send_link(employee=org.learner, purpose=SignInLink.Purpose.RESET, channels=[channel],
                    site_url="https://learn.example.com")
    [token] = tokens_in(mail.outbox[0].body)
    client.get(reverse("accounts:link", args=[token]))  # opened, then the person changes it another way
    org.learner.user.set_password("Changed-elsewhere-9")
    org.learner.user.save()
    response = client.post(reverse("accounts:link_password"),
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:link", args=[token])).status_code == 403
    with pytest.raises(links.Refusal):
        links.use_link(link_id=SignInLink.objects.get().pk, password=NEW_PASSWORD)
    org.learner.user.refresh_from_db()
    assert org.learner.user.check_password("Changed-elsewhere-9")
    assert SignInLink.objects.get().used_at is None


def test_forgot_password_in_the_browser_from_the_login_page_to_signed_in(live_server, org, new_page, settings,
                                                                         transactional_db):
    settings.SITE_URL = live_server.url
    org.learner.email = "li@example.com"
    org.learner.save()
    email_channel()
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("a[href='/accounts/password/forgot/']")
    page.fill("#id_identifier", "E001")
    page.locator("form button.primary").click()
    assert page.locator("#reset-requested").inner_text().startswith("如果您输入的内容属于一名在职员工")
    [message] = mail.outbox
    assert message.to == ["li@example.com"]
    [url] = re.findall(r"http://\S+/accounts/link/[A-Za-z0-9_-]+/", message.body)
    page.goto(url)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.locator("button.primary").click()
    page.wait_for_url(f"{live_server.url}/")
    assert SignInEvent.objects.filter(method="reset", outcome="success", employee=org.learner).count() == 1


@pytest.mark.parametrize("people, queries", [(2, 13), (5, 22)])
def test_sending_a_batch_costs_three_statements_per_person(org, django_assert_num_queries, people, queries):
    """Claim, batch, channels, dispatches, then per person: the link, its sent time, the outcome;
    then done, the counts and the audit entry."""
    channel = email_channel()
    batch = LinkBatch.objects.create(channel_ids=[channel.pk], site_url="https://learn.example.com")
    for number in range(people):
        employee = Employee.objects.create(employee_no=f"Q{number}", name=f"Q {number}", department=org.a1,
                                           email=f"q{number}@example.com")
        LinkDispatch.objects.create(batch=batch, employee=employee)
    with django_assert_num_queries(queries):
        links.run_batch(batch.pk)
    assert len(mail.outbox) == people


def test_a_link_used_at_the_same_moment_from_several_places_sets_one_password(org, transactional_db):
    import threading

    from django.db import connection

    learner = without_password(org.learner)
    learner.email = "li@example.com"
    learner.save()
    send_activation(learner, [email_channel()])
    link_id = SignInLink.objects.get().pk
    start = threading.Barrier(6)
    results = []

    def use(number):
        try:
            start.wait()
            links.use_link(link_id=link_id, password=f"Racing-password-{number}")
            results.append(("ok", number))
        except links.Refusal as refusal:
            results.append((refusal.reason, number))
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [number for outcome, number in results if outcome == "ok"]
    assert len(winners) == 1 and sorted(outcome for outcome, _ in results) == ["link"] * 5 + ["ok"]
    learner.user.refresh_from_db()
    assert learner.user.check_password(f"Racing-password-{winners[0]}")


def test_a_link_goes_out_as_a_dingtalk_work_notification_to_the_persons_user_id(org, settings):
    from notify_helpers import start_platforms

    platforms = start_platforms(settings)
    try:
        platforms.corp_apps["ding-app"] = "ding-secret"
        learner = without_password(org.learner)
        learner.dingtalk_user_id = "manager7"
        learner.save()
        channel = Channel.objects.create(name="DingTalk", kind=ChannelKind.DINGTALK_WORK, app_key="ding-app",
                                         secret="ding-secret", agent_id="123")
        assert send_activation(learner, [email_channel(), channel])[:2] == ("sent", "DingTalk")
        [body] = platforms.accepted("dingtalk_work")
        assert body["userid_list"] == "manager7" and body["agent_id"] == 123
        [token] = tokens_in(body["msg"]["markdown"]["text"])
        assert SignInLink.objects.get().token_hash == links.token_hash(token)
    finally:
        platforms.stop()
