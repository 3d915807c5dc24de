"""DingTalk, WeCom and Feishu sign-in in a real browser against the local platforms: the desktop QR
flow from the login page's button, the silent sign-in inside each app (told apart by its user agent),
and a meeting QR scan inside the app that lands on the check-in confirmation."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

import fake_signin_platforms
from learntrace.accounts.models import SignInEvent
from learntrace.org.models import Employee
from test_signin_platforms import IN_APP

LABELS = {"zh-hans": {"dingtalk": "使用钉钉登录", "wecom": "使用企业微信登录", "feishu": "使用飞书登录"},
          "en": {"dingtalk": "Sign in with DingTalk", "wecom": "Sign in with WeCom", "feishu": "Sign in with Feishu"}}
LOGOUT = re.compile("退出登录|Log out")


@pytest.fixture
def fake(settings, live_server, org):
    cache.clear()
    with fake_signin_platforms.running(settings, live_server.url) as platforms:
        platforms.dingtalk_members.update({"union-learner": "ding-learner", "union-stranger": "ding-stranger"})
        Employee.objects.filter(pk=org.learner.pk).update(
            dingtalk_user_id="ding-learner", wecom_user_id="wecom-learner", feishu_user_id="feishu-learner")
        yield platforms


@pytest.fixture
def app_page(browser):
    """`app_page(platform, dingtalk_code=None)`: a phone page whose user agent is that platform's app.
    DingTalk's JSAPI cannot be loaded here: a stand-in `dd` hands the page the code given (none: no `dd`)."""
    contexts = []

    def make(platform, dingtalk_code=None):
        context = browser.new_context(user_agent=IN_APP[platform], viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        if dingtalk_code:
            context.add_init_script("window.dd = {runtime: {permission: {requestAuthCode: function (options) {"
                                    f"setTimeout(function () {{ options.onSuccess({{code: '{dingtalk_code}'}}); }}, 0);"
                                    "}}}};")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("platform, language", [("dingtalk", "zh-hans"), ("wecom", "en"), ("feishu", "zh-hans"),
                                                ("feishu", "en")])
def test_the_desktop_qr_sign_in_from_the_login_page(live_server, fake, org, new_page, platform, language):
    fake.scanner[platform] = "union-learner" if platform == "dingtalk" else f"{platform}-learner"
    page = new_page()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/plans/my/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("#id_password")).to_be_visible()  # a desktop browser sees the login page
    page.get_by_role("link", name=LABELS[language][platform]).click()  # the platform's page plays the scan
    expect(page).to_have_url(f"{live_server.url}/plans/my/")
    expect(page.get_by_role("button", name=LOGOUT)).to_be_visible()
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id")) == [
        (platform, "success", org.learner.pk)]


@pytest.mark.parametrize("platform", ["dingtalk", "wecom", "feishu"])
def test_inside_the_app_a_reminder_link_signs_the_person_in_silently(live_server, fake, org, app_page, platform):
    fake.scanner[platform] = f"{platform}-learner"
    code = fake.dingtalk_in_app_code("ding-learner") if platform == "dingtalk" else None
    page = app_page(platform, dingtalk_code=code)
    visited = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
    page.goto(f"{live_server.url}/plans/my/")
    # A browser keeps the fragment across redirects: WeCom's authorisation URL ends in #wechat_redirect.
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/plans/my/") + "(#wechat_redirect)?$"))
    expect(page.get_by_role("button", name=LOGOUT)).to_be_visible()
    assert not any("/accounts/login/" in url for url in visited)  # the login page was never shown
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id")) == [
        (platform, "success", org.learner.pk)]


@pytest.mark.parametrize("platform", ["dingtalk", "wecom", "feishu"])
def test_a_meeting_scan_inside_the_app_lands_on_the_confirmation(live_server, fake, org, catalog, app_page,
                                                                 platform):
    from datetime import timedelta

    from django.utils import timezone

    from learntrace.checkin import services
    from learntrace.checkin.models import CheckInEvent, Meeting, ScanTicket

    now = timezone.now()
    meeting = Meeting.objects.create(course=catalog.meeting, title="Ward managers' meeting", starts_at=now,
                                     ends_at=now + timedelta(hours=2), roster=Meeting.Roster.PEOPLE)
    meeting.roster_people.set([org.learner])
    scan_url = f"{live_server.url}/checkin/s/{meeting.pk}/{services.current_codes(meeting, now)['token']}/"
    fake.scanner[platform] = f"{platform}-learner"
    code = fake.dingtalk_in_app_code("ding-learner") if platform == "dingtalk" else None
    phone = app_page(platform, dingtalk_code=code)
    phone.goto(scan_url)
    expect(phone).to_have_url(re.compile(r"/checkin/t/[^/#]+/(#wechat_redirect)?$"))
    ticket = ScanTicket.objects.get(meeting=meeting)
    phone.get_by_role("button", name=re.compile("签到|Check in")).click()
    expect(phone.locator("#checkin-result")).to_have_attribute("data-outcome", "done")
    event = CheckInEvent.objects.get(meeting=meeting, employee=org.learner)
    assert event.scanned_at == ticket.scanned_at  # the moment of the scan, before the sign-in
    assert event.scanned_at < SignInEvent.objects.get(outcome="success").at


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_a_refused_in_app_sign_in_explains_itself_and_then_shows_the_login_page(live_server, fake, app_page,
                                                                                platform):
    fake.scanner["feishu"] = "feishu-stranger"
    page = app_page(platform)  # DingTalk: no JSAPI on this page, so no code
    page.goto(f"{live_server.url}/plans/my/")
    expect(page.get_by_role("heading", name="登录被拒绝")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "learntrace 中没有与此账号对应的在职员工。" if platform == "feishu" else "登录服务未能确认您的身份，请重试。")
    page.get_by_role("link", name="返回登录页").click()
    expect(page.locator("#id_password")).to_be_visible()
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.reason) == (platform, "refused",
                                                            "unknown" if platform == "feishu" else "provider")
