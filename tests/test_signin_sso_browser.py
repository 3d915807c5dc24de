"""OpenID Connect and CAS sign-in in a real browser against the real servers (tests/sso_servers.py):
from the login page's button through the provider's login form and back, in both languages, and
the refusals a person can meet on the way."""

import re
from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from learntrace.accounts.models import SignInEvent
from learntrace.org.models import Employee
from learntrace.sso import oidc as oidc_client
from sso_servers import PORTAL_PASSWORD, cas_server, oidc_provider  # noqa: F401

LOGOUT = re.compile("退出登录|Log out")
REFUSED = {"zh-hans": "登录被拒绝", "en": "Sign-in refused"}
UNKNOWN = {"zh-hans": "learntrace 中没有与此账号对应的在职员工。",
           "en": "No active employee in learntrace matches this account."}
INACTIVE = {"zh-hans": "您在 learntrace 中的员工档案已停用。",
            "en": "Your employee record in learntrace is deactivated."}
EXPIRED = {"zh-hans": "本次登录超时或在其他地方发起，请重新开始。",
           "en": "This sign-in took too long or was started elsewhere. Please start again."}
BUTTON = {"zh-hans": "使用医院门户登录", "en": "Sign in with 医院门户"}


@pytest.fixture
def oidc(settings, oidc_provider, org):  # noqa: F811
    settings.SIGNIN_METHODS = ["password", "oidc"]
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_SCOPES = "openid email profile employee"
    settings.OIDC_EMPLOYEE_CLAIM = "employee_no"
    settings.OIDC_EMPLOYEE_FIELD = "employee_no"
    oidc_client._clients.clear()  # the provider's keys are fetched afresh (some tests replace them)
    settings.OIDC_LABEL = "医院门户"
    return oidc_provider


@pytest.fixture
def cas(settings, cas_server, org):  # noqa: F811
    settings.SIGNIN_METHODS = ["password", "cas"]
    settings.CAS_SERVER_URL = cas_server.url
    settings.CAS_VERSION = "3"
    settings.CAS_EMPLOYEE_ATTRIBUTE = ""
    settings.CAS_EMPLOYEE_FIELD = "employee_no"
    settings.CAS_LABEL = "医院门户"
    return cas_server


def open_login_page(live_server, new_page, language):
    page = new_page()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/plans/my/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    return page


def at_the_provider(page, oidc_provider, login, password=PORTAL_PASSWORD):  # noqa: F811
    expect(page).to_have_url(re.compile(rf"^{re.escape(oidc_provider.issuer)}/interaction/"))
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def at_the_cas_server(page, cas_server, login, password=PORTAL_PASSWORD):  # noqa: F811
    expect(page).to_have_url(re.compile(rf"^{re.escape(cas_server.url)}/login\?service="))
    page.locator("#id_username").fill(login)
    page.locator("#id_password").fill(password)
    page.locator("#id_password").press("Enter")


# ---------------------------------------------------------------- OpenID Connect


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_oidc_sign_in_from_the_login_page(live_server, oidc, org, new_page, language):
    page = open_login_page(live_server, new_page, language)
    page.get_by_role("link", name=BUTTON[language]).click()
    at_the_provider(page, oidc, "learner")
    expect(page).to_have_url(f"{live_server.url}/plans/my/")
    expect(page.get_by_role("button", name=LOGOUT)).to_be_visible()
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id")) == [
        ("oidc", "success", org.learner.pk)]


@pytest.mark.parametrize("language, who", [("zh-hans", "stranger"), ("en", "outsider")])
def test_oidc_refusals_say_why_in_the_persons_language(live_server, oidc, org, new_page, language, who):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    page = open_login_page(live_server, new_page, language)
    page.get_by_role("link", name=BUTTON[language]).click()
    at_the_provider(page, oidc, who)
    expect(page.get_by_role("heading", name=REFUSED[language])).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text((UNKNOWN if who == "stranger" else INACTIVE)[language])
    page.goto(f"{live_server.url}/plans/my/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))  # not signed in
    assert list(SignInEvent.objects.values_list("method", "outcome", "reason")) == [
        ("oidc", "refused", "unknown" if who == "stranger" else "inactive")]


def test_oidc_a_tampered_state_or_an_answer_carried_to_another_browser_is_refused(live_server, oidc, org,
                                                                                   new_page):
    page = open_login_page(live_server, new_page, "en")
    held = []

    def hold_the_answer(route):
        """The provider's redirects after its login form, followed here until the answer to this site,
        which is held back (routes do not see the later requests of a redirect chain)."""
        response = route.fetch(max_redirects=0)
        while "/accounts/sso/oidc/callback/" not in response.headers["location"]:
            response = page.request.get(urljoin(response.url, response.headers["location"]), max_redirects=0)
        held.append(response.headers["location"])
        route.fulfill(status=200, content_type="text/plain", body="held")

    page.route(re.compile(r"/interaction/[^/]+/login$"), hold_the_answer)
    page.get_by_role("link", name=BUTTON["en"]).click()
    at_the_provider(page, oidc, "learner")
    expect(page.locator("body")).to_have_text("held")
    answer = held[0]
    page.goto(re.sub(r"state=[^&]+", "state=tampered", answer))
    expect(page.get_by_role("alert")).to_have_text(EXPIRED["en"])
    # The genuine answer, opened by someone else's browser (login CSRF), is refused too.
    other = new_page()
    other.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    other.goto(answer)
    expect(other.get_by_role("alert")).to_have_text(EXPIRED["en"])
    assert not SignInEvent.objects.filter(outcome="success").exists()
    assert list(SignInEvent.objects.values_list("reason", flat=True)) == ["expired", "expired"]


# ---------------------------------------------------------------- CAS


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_cas_sign_in_from_the_login_page(live_server, cas, org, new_page, language):
    page = open_login_page(live_server, new_page, language)
    page.get_by_role("link", name=BUTTON[language]).click()
    at_the_cas_server(page, cas, "E001")
    expect(page).to_have_url(f"{live_server.url}/plans/my/")
    expect(page.get_by_role("button", name=LOGOUT)).to_be_visible()
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id")) == [
        ("cas", "success", org.learner.pk)]


def test_cas_a_person_unknown_to_the_organisation_is_refused(live_server, cas, new_page):
    page = open_login_page(live_server, new_page, "zh-hans")
    page.get_by_role("link", name=BUTTON["zh-hans"]).click()
    at_the_cas_server(page, cas, "X999")
    expect(page.get_by_role("alert")).to_have_text(UNKNOWN["zh-hans"])
    assert list(SignInEvent.objects.values_list("method", "outcome", "reason", "identifier")) == [
        ("cas", "refused", "unknown", "X999")]


def test_cas_single_sign_out_at_the_server_signs_the_person_out_here(live_server, cas, org, new_page):
    page = open_login_page(live_server, new_page, "en")
    page.get_by_role("link", name=BUTTON["en"]).click()
    at_the_cas_server(page, cas, "E001")
    expect(page.get_by_role("button", name=LOGOUT)).to_be_visible()
    page.goto(f"{cas.url}/logout")  # the CAS server tells every service the person used
    page.goto(f"{live_server.url}/plans/my/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
