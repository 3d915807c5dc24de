"""Sign-in with DingTalk, WeCom and Feishu against local servers that check what the platforms check:
who the code belongs to becomes exactly one active employee, every refusal is logged with its reason,
the state is accepted once, tokens and secrets stay out of the logs."""

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import checks
from django.core.cache import cache
from django.urls import reverse

import fake_signin_platforms
from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
IN_APP = {
    "dingtalk": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Mobile Safari/537.36 AliApp(DingTalk/7.6.0) "
                "com.alibaba.android.rimet/0 Channel/227200 language/zh-Hans-CN UT4Aplus/0.2.25 DingTalk(7.6.0)",
    "wecom": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 wxwork/4.1.20 MicroMessenger/7.0.1 Language/zh ColorScheme/Light",
    "feishu": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
              "Safari/537.36 Lark/7.20.0 LarkLocale/zh_CN ChannelName/Feishu",
}
PLATFORMS = ["dingtalk", "wecom", "feishu"]
# Who each platform knows: the learner, the outsider (deactivated in some tests) and a stranger.
USER_IDS = {"dingtalk": "ding-learner", "wecom": "wecom-learner", "feishu": "feishu-learner"}


@pytest.fixture
def fake(settings, org):
    cache.clear()  # app tokens of servers that ran before on the same port
    with fake_signin_platforms.running(settings, "http://testserver/") as platforms:
        platforms.dingtalk_members.update({"union-learner": "ding-learner", "union-outsider": "ding-outsider",
                                           "union-stranger": "ding-stranger"})
        Employee.objects.filter(pk=org.learner.pk).update(
            dingtalk_user_id="ding-learner", wecom_user_id="wecom-learner", feishu_user_id="feishu-learner")
        Employee.objects.filter(pk=org.outsider.pk).update(
            dingtalk_user_id="ding-outsider", wecom_user_id="wecom-outsider", feishu_user_id="feishu-outsider")
        yield platforms


def scanner_for(platform, who):
    """What the fake's scanner is set to for `who` (learner, outsider, stranger)."""
    if platform == "dingtalk":
        return f"union-{who}"
    return f"{platform}-{who}"


def start(client, platform, next_url="", agent=DESKTOP):
    response = client.get(reverse(f"platforms:{platform}_start"), {"next": next_url} if next_url else {},
                          HTTP_USER_AGENT=agent)
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, fake, platform, who="learner", next_url="", agent=DESKTOP):
    """Start, let the platform's page play the scan by `who`, and follow its redirect back."""
    fake.scanner[platform] = scanner_for(platform, who) if who else None
    callback = fake.scan(start(client, platform, next_url, agent))
    return client.get(callback, HTTP_USER_AGENT=agent)


def events():
    return list(SignInEvent.objects.order_by("id").values_list("method", "outcome", "reason", "identifier",
                                                                "employee_id"))


def signed_in(client):
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_it_signs_the_matching_employee_in_and_goes_where_they_were_going(client, fake, org, platform):
    client.get("/")  # an anonymous session exists before
    before = client.session.session_key
    response = sign_in(client, fake, platform, next_url="/plans/my/")
    assert response.status_code == 302 and response["Location"] == "/plans/my/"
    assert signed_in(client) == str(org.learner.user_id)
    assert client.session.session_key != before
    assert events() == [(platform, "success", "", USER_IDS[platform], org.learner.pk)]
    link = LinkedIdentity.objects.get()
    assert (link.method, link.subject, link.employee_id) == (platform, USER_IDS[platform], org.learner.pk)
    assert link.last_used_at is not None


def test_an_imported_employee_without_an_account_gets_in_without_a_password(client, fake, org):
    from django.contrib.auth import get_user_model

    imported = Employee.objects.create(employee_no="N100", name="Imported nurse", department=org.a1,
                                       wecom_user_id="wecom-nurse")
    fake.scanner["wecom"] = "wecom-nurse"
    client.get(fake.scan(start(client, "wecom")))
    user = get_user_model().objects.get(username="N100")
    assert signed_in(client) == str(user.pk)
    assert not user.has_usable_password()
    assert Employee.objects.get(pk=imported.pk).user_id == user.pk


def test_dingtalk_desktop_goes_through_the_new_open_platform_with_the_corp_api(client, fake, org):
    location = start(client, "dingtalk")
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.url}/oauth2/auth"
    assert (query["client_id"], query["response_type"], query["scope"], query["prompt"]) == (
        [fake_signin_platforms.DINGTALK_KEY], ["code"], ["openid"], ["consent"])
    assert query["redirect_uri"] == ["http://testserver/accounts/platforms/dingtalk/callback/"]
    assert re.fullmatch(r"[0-9a-f]{32}", query["state"][0])
    fake.scanner["dingtalk"] = "union-learner"
    client.get(fake.scan(location))
    assert signed_in(client) == str(org.learner.user_id)
    assert [fake.calls[path] for path in ("/v1.0/oauth2/userAccessToken", "/v1.0/contact/users/me", "/gettoken",
                                          "/topapi/user/getbyunionid")] == [1, 1, 1, 1]


@pytest.mark.parametrize("agent, page, scope", [
    (DESKTOP, "/wwlogin/sso/login", None),
    (IN_APP["wecom"], "/connect/oauth2/authorize", "snsapi_base"),
])
def test_wecom_shows_the_qr_page_on_desktops_and_authorises_silently_inside_the_app(client, fake, org, agent,
                                                                                    page, scope):
    location = start(client, "wecom", agent=agent)
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert parts.path == page
    assert (query["appid"], query["agentid"]) == ([fake_signin_platforms.WECOM_CORP],
                                                  [fake_signin_platforms.WECOM_AGENT])
    assert query.get("scope", [None]) == [scope]
    assert parts.fragment == ("wechat_redirect" if scope else "")
    fake.scanner["wecom"] = "wecom-learner"
    client.get(fake.scan(location), HTTP_USER_AGENT=agent)
    assert signed_in(client) == str(org.learner.user_id)


def test_dingtalk_inside_the_app_exchanges_the_jsapi_code_for_the_userid(client, fake, org):
    page = client.get(reverse("platforms:dingtalk_in_app"), {"next": "/plans/my/"},
                      HTTP_USER_AGENT=IN_APP["dingtalk"])
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-corp-id="{fake_signin_platforms.DINGTALK_CORP}"' in html
    assert "dingtalk-signin.js" in html and "g.alicdn.com" not in html  # the JSAPI address is configurable
    state = re.search(r'name="state" value="([0-9a-f]{32})"', html).group(1)
    code = fake.dingtalk_in_app_code("ding-learner")
    response = client.post(reverse("platforms:dingtalk_in_app"), {"state": state, "code": code},
                           HTTP_USER_AGENT=IN_APP["dingtalk"])
    assert response.status_code == 302 and response["Location"] == "/plans/my/"
    assert signed_in(client) == str(org.learner.user_id)
    assert events() == [("dingtalk", "success", "", "ding-learner", org.learner.pk)]


def test_dingtalk_desktop_start_inside_the_app_goes_to_the_in_app_page(client, fake):
    response = client.get(reverse("platforms:dingtalk_start"), {"next": "/plans/my/"},
                          HTTP_USER_AGENT=IN_APP["dingtalk"])
    assert response.status_code == 302
    assert response["Location"] == reverse("platforms:dingtalk_in_app") + "?next=%2Fplans%2Fmy%2F"


# ---------------------------------------------------------------- refusals, each logged


def assert_refused(client, response, platform, reason, identifier=""):
    assert response.status_code == (429 if reason == "throttled" else 403)
    assert signed_in(client) is None
    event = SignInEvent.objects.order_by("-id").first()
    assert (event.method, event.outcome, event.reason, event.identifier, event.employee_id) == (
        platform, "refused", reason, identifier, None)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_account_nobody_in_the_organisation_has_is_refused(client, fake, platform):
    response = sign_in(client, fake, platform, who="stranger")
    identifier = "ding-stranger" if platform == "dingtalk" else f"{platform}-stranger"
    assert_refused(client, response, platform, "unknown", identifier)
    assert "learntrace 中没有与此账号对应的在职员工。" in response.content.decode()  # Chinese by default
    assert not LinkedIdentity.objects.exists()


def test_dingtalk_people_outside_the_organisation_are_refused_as_unknown(client, fake):
    fake.dingtalk_members.clear()
    response = sign_in(client, fake, "dingtalk", who="learner")
    assert_refused(client, response, "dingtalk", "unknown", "union-learner")
    fake.dingtalk_external.add("union-learner")
    response = sign_in(client, fake, "dingtalk", who="learner")
    assert_refused(client, response, "dingtalk", "unknown", "union-learner")


def test_wecom_non_members_are_refused_as_unknown(client, fake):
    fake.scanner["wecom"] = "openid:o-visitor"
    response = client.get(fake.scan(start(client, "wecom")))
    assert_refused(client, response, "wecom", "unknown")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_deactivated_employee_is_refused(client, fake, org, platform):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    response = sign_in(client, fake, platform, who="outsider")
    assert_refused(client, response, platform, "inactive", f"{platform}-outsider".replace("dingtalk-", "ding-"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_code_works_once(client, fake, org, platform):
    fake.scanner[platform] = scanner_for(platform, "learner")
    location = start(client, platform)
    callback = fake.scan(location)
    client.get(callback)
    assert signed_in(client) == str(org.learner.user_id)
    client.logout()
    # The same code again, with a fresh state of this browser's: the platform refuses the used code.
    state = parse_qs(urlsplit(start(client, platform)).query)["state"][0]
    replay = re.sub(r"state=[0-9a-f]+", f"state={state}", callback)
    assert_refused(client, client.get(replay), platform, "provider")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_expired_code_is_refused(client, fake, platform):
    fake.scanner[platform] = scanner_for(platform, "learner")
    callback = fake.scan(start(client, platform))
    fake.advance(fake_signin_platforms.CODE_SECONDS + 1)
    assert_refused(client, client.get(callback), platform, "provider")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_state_must_be_the_one_this_browser_was_given_and_only_once(client, fake, org, platform):
    fake.scanner[platform] = scanner_for(platform, "learner")
    callback = fake.scan(start(client, platform))
    forged = re.sub(r"state=[0-9a-f]+", "state=" + "0" * 32, callback)
    assert_refused(client, client.get(forged), platform, "expired")
    missing = re.sub(r"&?state=[0-9a-f]+", "", callback)
    assert_refused(client, client.get(missing), platform, "expired")
    # Another browser cannot finish this one's sign-in.
    from django.test import Client

    other = Client()
    assert_refused(other, other.get(callback), platform, "expired")
    # The genuine one, once: its code was not spent by the refusals above (the state is checked first).
    client.get(callback)
    assert signed_in(client) == str(org.learner.user_id)
    client.logout()
    assert_refused(client, client.get(callback), platform, "expired")


def test_a_browser_keeps_its_five_newest_sign_ins_open(client, fake, org):
    fake.scanner["feishu"] = "feishu-learner"
    callbacks = [fake.scan(start(client, "feishu")) for _ in range(6)]
    assert_refused(client, client.get(callbacks[0]), "feishu", "expired")
    client.get(callbacks[1])
    assert signed_in(client) == str(org.learner.user_id)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/130.0 Safari/537.36 Edg/130.0",
    "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 Skylark/2.0",
])
def test_other_browsers_and_personal_wechat_get_the_login_page(client, fake, agent):
    response = client.get(reverse("accounts:login"), HTTP_USER_AGENT=agent)
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_state_older_than_ten_minutes_is_refused(client, fake, platform):
    import time_machine

    fake.scanner[platform] = scanner_for(platform, "learner")
    with time_machine.travel(0, tick=False) as traveller:
        traveller.move_to("2026-03-02 09:00:00+08:00")
        location = start(client, platform)
        traveller.move_to("2026-03-02 09:10:00+08:00")
        callback = fake.scan(location)
        assert_refused(client, client.get(callback), platform, "expired")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_declined_authorisation_is_refused(client, fake, platform):
    response = sign_in(client, fake, platform, who=None)
    assert_refused(client, response, platform, "provider")


@pytest.mark.parametrize("platform, path", [
    ("dingtalk", "/v1.0/oauth2/userAccessToken"), ("dingtalk", "/topapi/user/getbyunionid"),
    ("wecom", "/cgi-bin/auth/getuserinfo"), ("feishu", "/open-apis/authen/v1/user_info"),
])
def test_a_platform_failure_is_refused_as_unreachable(client, fake, platform, path):
    fake.down.add(path)
    response = sign_in(client, fake, platform)
    assert_refused(client, response, platform, "unreachable")
    assert "无法连接登录服务" in response.content.decode()


@pytest.mark.parametrize("platform, path, answer", [
    ("dingtalk", "/v1.0/oauth2/userAccessToken", []),
    ("dingtalk", "/v1.0/contact/users/me", {"unionId": {"nested": 1}}),
    ("dingtalk", "/topapi/user/getbyunionid", {"errcode": 0, "result": "ding-learner"}),
    ("dingtalk", "/topapi/user/getbyunionid", {"errcode": [0], "result": {"userid": "ding-learner"}}),
    ("dingtalk", "/gettoken", {"errcode": 0, "access_token": None}),
    ("wecom", "/cgi-bin/auth/getuserinfo", {"errcode": 0, "userid": ["wecom-learner"]}),
    ("wecom", "/cgi-bin/auth/getuserinfo", {"errcode": 0, "userid": "x" * 300}),
    ("wecom", "/cgi-bin/gettoken", "ok"),
    ("feishu", "/open-apis/authen/v2/oauth/token", {"code": 0, "access_token": 12.5}),
    ("feishu", "/open-apis/authen/v1/user_info", {"code": 0, "data": ["feishu-learner"]}),
    ("feishu", "/open-apis/authen/v1/user_info", {"code": 0, "data": {"open_id": "ou_1"}}),
])
def test_an_odd_answer_is_refused_without_an_error_page(client, fake, platform, path, answer):
    fake.odd_answers[path] = answer
    response = sign_in(client, fake, platform)
    assert_refused(client, response, platform, "provider")


def test_an_odd_token_lifetime_falls_back_to_the_documented_two_hours(client, fake, org):
    from learntrace.platforms.base import seconds

    assert [seconds("soon"), seconds(None), seconds("600")] == [7200, 7200, 600]
    fake.odd_answers["/cgi-bin/gettoken"] = {"errcode": 0, "access_token": "t" * 40, "expires_in": "soon"}
    fake.tokens["t" * 40] = {"kind": "wecom-app", "user": "", "expires": fake.now() + 7200}
    sign_in(client, fake, "wecom")
    assert signed_in(client) == str(org.learner.user_id)


def test_an_unreachable_platform_is_refused_as_unreachable(client, fake, settings):
    fake.scanner["wecom"] = "wecom-learner"
    callback = fake.scan(start(client, "wecom"))
    fake.stop()
    assert_refused(client, client.get(callback), "wecom", "unreachable")


@pytest.mark.parametrize("platform, setting", [
    ("dingtalk", "DINGTALK_APP_SECRET"), ("wecom", "WECOM_SECRET"), ("feishu", "FEISHU_APP_SECRET"),
])
def test_a_wrong_app_secret_is_refused_and_logged(client, fake, settings, platform, setting):
    setattr(settings, setting, "not-the-secret")
    response = sign_in(client, fake, platform)
    assert_refused(client, response, platform, "provider")


def test_dingtalk_in_app_refusals(client, fake, org, settings):
    settings.AXES_FAILURE_LIMIT = 10
    def post(code, state=None):
        if state is None:
            html = client.get(reverse("platforms:dingtalk_in_app"), HTTP_USER_AGENT=IN_APP["dingtalk"]).content
            state = re.search(rb'name="state" value="([0-9a-f]{32})"', html).group(1).decode()
        return client.post(reverse("platforms:dingtalk_in_app"), {"state": state, "code": code},
                           HTTP_USER_AGENT=IN_APP["dingtalk"])

    assert_refused(client, post(""), "dingtalk", "provider")  # the JSAPI gave no code
    assert_refused(client, post("not-a-code"), "dingtalk", "provider")
    assert_refused(client, post(fake.dingtalk_in_app_code("ding-learner"), state="0" * 32), "dingtalk", "expired")
    assert_refused(client, post(fake.dingtalk_in_app_code("ding-stranger")), "dingtalk", "unknown", "ding-stranger")
    expired = fake.dingtalk_in_app_code("ding-learner")
    fake.advance(fake_signin_platforms.CODE_SECONDS + 1)
    assert_refused(client, post(expired), "dingtalk", "provider")
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    assert_refused(client, post(fake.dingtalk_in_app_code("ding-outsider")), "dingtalk", "inactive",
                   "ding-outsider")
    assert SignInEvent.objects.filter(outcome="refused").count() == 6


def test_the_in_app_post_needs_the_csrf_token(fake):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("platforms:dingtalk_in_app"), {"state": "0" * 32,
                                                                  "code": fake.dingtalk_in_app_code("ding-learner")})
    assert response.status_code == 403
    assert not SignInEvent.objects.exists()


# ---------------------------------------------------------------- tokens, throttle, settings


def test_the_app_token_is_fetched_once_and_again_when_the_platform_expires_it(client, fake, org):
    for platform in ("dingtalk", "wecom"):
        sign_in(client, fake, platform)
        client.logout()
        sign_in(client, fake, platform)
        client.logout()
    assert (fake.calls["/gettoken"], fake.calls["/cgi-bin/gettoken"]) == (1, 1)
    fake.advance(fake_signin_platforms.TOKEN_SECONDS + 1)  # the platforms expire them before our cache does
    for platform in ("dingtalk", "wecom"):
        fake.scanner[platform] = scanner_for(platform, "learner")
        callback = fake.scan(start(client, platform))
        client.get(callback)
        assert signed_in(client) == str(org.learner.user_id)
        client.logout()
    assert (fake.calls["/gettoken"], fake.calls["/cgi-bin/gettoken"]) == (2, 2)
    assert SignInEvent.objects.filter(outcome="success").count() == 6


def test_refusals_throttle_every_platform_from_that_address(client, fake, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sign_in(client, fake, "wecom", who="stranger")
    sign_in(client, fake, "feishu", who="stranger")
    response = client.get(reverse("platforms:dingtalk_start"))
    assert_refused(client, response, "dingtalk", "throttled")
    assert fake.calls["/oauth2/auth"] == 0
    # A sign-in started before the limit was reached is refused at its callback too, without asking the platform.
    SignInEvent.objects.all().delete()
    fake.scanner["feishu"] = "feishu-learner"
    callback = fake.scan(start(client, "feishu"))
    sign_in(client, fake, "wecom", who="stranger")
    sign_in(client, fake, "wecom", who="stranger")
    assert_refused(client, client.get(callback), "feishu", "throttled")
    assert fake.calls["/open-apis/authen/v2/oauth/token"] == 1  # the stranger's only


def test_next_stays_on_this_site(client, fake):
    response = sign_in(client, fake, "feishu", next_url="https://evil.example/")
    assert response["Location"] == reverse("home:home")


def test_feishu_checks_the_code_against_its_redirect_uri(client, fake):
    fake.scanner["feishu"] = "feishu-learner"
    callback = fake.scan(start(client, "feishu"))
    # The same callback reached under another host name: the redirect_uri differs, Feishu refuses.
    other_host = callback.replace("http://testserver/", "http://localhost/")
    response = client.get(other_host, HTTP_HOST="localhost")
    assert_refused(client, response, "feishu", "provider")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_method_that_is_off_or_unconfigured_is_refused(client, fake, settings, platform):
    settings.SIGNIN_METHODS = ["password"]
    assert_refused(client, client.get(reverse(f"platforms:{platform}_start")), platform, "disabled")
    assert_refused(client, client.get(reverse(f"platforms:{platform}_callback")), platform, "disabled")
    settings.SIGNIN_METHODS = [platform]
    setattr(settings, {"dingtalk": "DINGTALK_APP_KEY", "wecom": "WECOM_CORP_ID", "feishu": "FEISHU_APP_ID"}[platform],
            "")
    assert_refused(client, client.get(reverse(f"platforms:{platform}_start")), platform, "disabled")
    warnings = [message.id for message in checks.run_checks() if message.id.startswith("learntrace.platforms")]
    assert warnings == [f"learntrace.platforms.W00{PLATFORMS.index(platform) + 1}"]


def test_no_token_code_or_secret_reaches_the_log(client, fake, caplog, settings):
    caplog.set_level(logging.DEBUG)
    for platform in PLATFORMS:
        sign_in(client, fake, platform)
        client.logout()
        sign_in(client, fake, platform, who="stranger")
    settings.WECOM_SECRET = "not-the-secret"
    cache.clear()
    sign_in(client, fake, "wecom")
    fake.down.add("/open-apis/authen/v1/user_info")
    sign_in(client, fake, "feishu")
    assert "wecom sign-in: app access token refused" in caplog.text
    for secret in fake.secrets_seen() + ["not-the-secret"]:
        assert secret not in caplog.text
    for identifier in SignInEvent.objects.values_list("identifier", flat=True):
        assert identifier in ("", *USER_IDS.values(), "ding-stranger", "wecom-stranger", "feishu-stranger")


# ---------------------------------------------------------------- the login page inside the apps


def test_the_login_page_offers_each_enabled_platform(client, fake):
    page = client.get(reverse("accounts:login"), {"next": "/plans/my/"}, HTTP_USER_AGENT=DESKTOP).content.decode()
    for platform in PLATFORMS:
        assert f'href="/accounts/platforms/{platform}/start/?next=%2Fplans%2Fmy%2F"' in page
    assert 'name="password"' in page


@pytest.mark.parametrize("platform, target", [
    ("dingtalk", "/accounts/platforms/dingtalk/in-app/"),
    ("wecom", "/accounts/platforms/wecom/start/"),
    ("feishu", "/accounts/platforms/feishu/start/"),
])
def test_inside_an_app_a_page_that_needs_login_goes_straight_to_its_silent_sign_in(client, fake, platform, target):
    response = client.get("/plans/my/", HTTP_USER_AGENT=IN_APP[platform])
    assert response.status_code == 302
    login = client.get(response["Location"], HTTP_USER_AGENT=IN_APP[platform])
    assert login.status_code == 302 and login["Location"] == f"{target}?next=%2Fplans%2Fmy%2F"


def test_inside_an_app_whose_method_is_off_the_login_page_is_shown(client, fake, settings):
    settings.SIGNIN_METHODS = ["password", "dingtalk"]
    response = client.get(reverse("accounts:login"), HTTP_USER_AGENT=IN_APP["wecom"])
    assert response.status_code == 200 and 'name="password"' in response.content.decode()


def test_after_a_refusal_inside_the_app_the_login_page_is_shown_instead_of_trying_again(client, fake):
    agent = IN_APP["feishu"]
    fake.scanner["feishu"] = "feishu-stranger"
    login = client.get(reverse("accounts:login"), {"next": "/plans/my/"}, HTTP_USER_AGENT=agent)
    started = client.get(login["Location"], HTTP_USER_AGENT=agent)
    refused = client.get(fake.scan(started["Location"]), HTTP_USER_AGENT=agent)
    assert refused.status_code == 403
    page = client.get(reverse("accounts:login"), HTTP_USER_AGENT=agent)
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    # The button still works: once HR fixed the record, the person gets in.
    fake.scanner["feishu"] = "feishu-learner"
    assert client.get(fake.scan(start(client, "feishu", agent=agent)), HTTP_USER_AGENT=agent).status_code == 302
    assert signed_in(client) is not None


def test_an_anonymous_meeting_scan_inside_wecom_lands_on_the_confirmation_with_the_scan_moment(client, fake, org,
                                                                                               catalog):
    import datetime

    import time_machine
    from django.utils import timezone

    from learntrace.checkin import services
    from learntrace.checkin.models import Meeting

    agent = IN_APP["wecom"]
    fake.scanner["wecom"] = "wecom-learner"
    with time_machine.travel("2026-03-02 09:00:05+08:00", tick=False):
        now = timezone.now()
        meeting = Meeting.objects.create(course=catalog.meeting, title="Ward meeting", starts_at=now,
                                         ends_at=now + datetime.timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
        meeting.roster_people.set([org.learner])
        token = services.current_codes(meeting, now)["token"]
        scanned = client.get(reverse("checkin:scan", args=[meeting.pk, token]), HTTP_USER_AGENT=agent)
    with time_machine.travel("2026-03-02 09:03:00+08:00", tick=False):
        login = client.get(scanned["Location"], HTTP_USER_AGENT=agent)
        started = client.get(login["Location"], HTTP_USER_AGENT=agent)
        assert urlsplit(started["Location"]).path == "/connect/oauth2/authorize"
        landed = client.get(fake.scan(started["Location"]), HTTP_USER_AGENT=agent)
        ticket_url = parse_qs(urlsplit(scanned["Location"]).query)["next"][0]
        assert landed.status_code == 302 and landed["Location"] == ticket_url
        confirmation = client.get(ticket_url, HTTP_USER_AGENT=agent)
        assert confirmation.status_code == 200
        ticket = services.open_ticket(key=ticket_url.rstrip("/").rsplit("/", 1)[1],
                                      browser_secret=client.cookies["learntrace_scan"].value)
    assert ticket.scanned_at == now  # the scan's moment, not the sign-in's
