"""CAS sign-in against a real CAS server (django-cas-server in its own process, tests/cas_server/):
the test client is the browser on this site, httpx plays the person at the CAS login page."""

import logging
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.core import checks
from django.urls import reverse

import sso_checks
from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee
from sso_checks import signed_in
from sso_servers import PORTAL_PASSWORD, cas_server  # noqa: F401

CALLBACK = "/accounts/sso/cas/callback/"


@pytest.fixture
def cas(settings, cas_server, org, client):  # noqa: F811
    client.cookies["django_language"] = "en"
    settings.SIGNIN_METHODS = ["password", "cas"]
    settings.CAS_SERVER_URL = cas_server.url
    settings.CAS_VERSION = "3"
    settings.CAS_EMPLOYEE_ATTRIBUTE = ""
    settings.CAS_EMPLOYEE_FIELD = "employee_no"
    return cas_server


def start(client, next_url="/plans/my/"):
    return sso_checks.start(client, "cas", next_url)


def log_in_at_cas(login_url, login, password=PORTAL_PASSWORD):
    """The person at the CAS login page: the form, then back to the service with a ticket."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(login_url)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
        response = browser.post(str(page.url), data={**fields, "username": login, "password": password})
        assert response.status_code == 302, response.text
        return response.headers["location"]


def sign_in(client, login="E001", next_url="/plans/my/"):
    return client.get(log_in_at_cas(start(client, next_url), login))


def assert_refused(client, response, reason, status=403):
    sso_checks.assert_refused(client, response, "cas", reason, status)


@pytest.mark.parametrize("version", ["2", "3"])
def test_it_signs_the_matching_employee_in_and_goes_where_they_were_going(client, cas, org, settings, version):
    settings.CAS_VERSION = version
    login_url = start(client)
    assert login_url.startswith(f"{cas.url}/login?service=")
    response = client.get(log_in_at_cas(login_url, "E001"))
    assert (response.status_code, response["Location"]) == (302, "/plans/my/")
    assert signed_in(client) == str(org.learner.user_id)
    link = LinkedIdentity.objects.get()
    assert (link.method, link.subject, link.employee_id) == ("cas", "E001", org.learner.pk)
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id", "identifier")) == [
        ("cas", "success", org.learner.pk, "E001")]


@pytest.mark.parametrize("attribute, field, stored", [("employee_no", "employee_no", None),
                                                      ("email", "email", "LEARNER@hospital.test")])
def test_a_configured_attribute_names_the_employee(client, cas, org, settings, attribute, field, stored):
    settings.CAS_EMPLOYEE_ATTRIBUTE = attribute
    settings.CAS_EMPLOYEE_FIELD = field
    if stored:
        Employee.objects.filter(pk=org.learner.pk).update(email=stored)
    sign_in(client, login="learner")  # the CAS user is a portal login, not an employee number
    assert signed_in(client) == str(org.learner.user_id)
    assert LinkedIdentity.objects.get().subject == "learner"


def test_a_cas_user_without_the_configured_attribute_is_refused(client, cas, settings):
    settings.CAS_EMPLOYEE_ATTRIBUTE = "employee_no"
    response = sign_in(client, login="nameless")
    assert_refused(client, response, "unknown")
    assert SignInEvent.objects.get().identifier == "nameless"


@pytest.mark.parametrize("login, reason, identifier", [("X999", "unknown", "X999"),
                                                        ("nameless", "unknown", "nameless")])
def test_a_cas_user_nobody_in_the_organisation_is_refused(client, cas, login, reason, identifier):
    sso_checks.assert_a_stranger_is_refused(client, "cas", lambda: sign_in(client, login=login), reason, identifier)


def test_a_deactivated_employee_is_refused(client, cas, org):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    assert_refused(client, sign_in(client, login="E002"), "inactive")


def test_a_ticket_works_once_and_only_in_the_browser_that_started_it(client, cas, org):
    sso_checks.assert_the_callback_works_once_in_its_browser(client, "cas", log_in_at_cas(start(client), "E001"),
                                                             org.learner)


def test_a_ticket_issued_for_another_sign_in_of_the_same_browser_is_refused_by_the_server(client, cas):
    first = urlsplit(log_in_at_cas(start(client), "E001"))
    second_state = parse_qs(urlsplit(parse_qs(urlsplit(start(client)).query)["service"][0]).query)["state"][0]
    ticket = parse_qs(first.query)["ticket"][0]
    response = client.get(f"{CALLBACK}?{urlencode({'state': second_state, 'ticket': ticket})}")
    assert_refused(client, response, "provider")  # the server validates the ticket for the service it was issued to


@pytest.mark.parametrize("tamper", ["other ticket", "no ticket", "no state"])
def test_a_tampered_callback_is_refused(client, cas, tamper):
    callback = urlsplit(log_in_at_cas(start(client), "E001"))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    if tamper == "other ticket":
        query["ticket"] = query["ticket"][:-4] + "AAAA"
    elif tamper == "no ticket":
        del query["ticket"]
    else:
        del query["state"]
    response = client.get(f"{CALLBACK}?{urlencode(query)}")
    assert_refused(client, response, "expired" if tamper == "no state" else "provider")


def test_an_unreachable_server_is_refused_as_unreachable(client, cas, settings):
    import socket

    callback = log_in_at_cas(start(client), "E001")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.CAS_SERVER_URL = f"http://127.0.0.1:{closed}/cas"
    assert_refused(client, client.get(callback), "unreachable")


def test_a_server_that_is_not_cas_is_refused(client, cas, settings, live_server):
    callback = log_in_at_cas(start(client), "E001")
    settings.CAS_SERVER_URL = f"{live_server.url}/accounts"  # answers with an HTML page, not CAS XML
    assert_refused(client, client.get(callback), "provider")


def test_refusals_throttle_the_method_from_that_address(client, cas, settings):
    sso_checks.assert_refusals_throttle(client, "cas", settings, lambda: sign_in(client, login="X999"),
                                        {"ticket": "ST-x", "state": "y"})


def test_next_stays_on_this_site(client, cas):
    response = sign_in(client, next_url="https://evil.example/")
    assert response["Location"] == reverse("home:home")


def test_a_method_that_is_off_or_unconfigured_is_refused(client, cas, settings):
    settings.SIGNIN_METHODS = ["password"]
    assert_refused(client, client.get(reverse("sso:cas_start")), "disabled")
    assert_refused(client, client.get(CALLBACK), "disabled")
    settings.SIGNIN_METHODS = ["cas"]
    settings.CAS_SERVER_URL = ""
    assert_refused(client, client.get(reverse("sso:cas_start")), "disabled")
    assert [message.id for message in checks.run_checks() if message.id.startswith("learntrace.sso")] == [
        "learntrace.sso.W002"]
    settings.CAS_SERVER_URL = cas.url
    settings.CAS_EMPLOYEE_FIELD = "name"
    settings.CAS_VERSION = "1"
    assert [message.id for message in checks.run_checks() if message.id.startswith("learntrace.sso")] == [
        "learntrace.sso.E003", "learntrace.sso.E004"]


def test_the_login_page_offers_the_server_under_its_configured_name(client, cas, settings):
    page = client.get(reverse("accounts:login"), {"next": "/plans/my/"}).content.decode()
    assert 'href="/accounts/sso/cas/start/?next=%2Fplans%2Fmy%2F"' in page
    assert "Sign in with CAS" in page
    settings.CAS_LABEL = "Hospital portal"
    assert "Sign in with Hospital portal" in client.get(reverse("accounts:login")).content.decode()


def test_no_ticket_reaches_the_log(client, cas, caplog):
    caplog.set_level(logging.DEBUG)
    callback = log_in_at_cas(start(client), "E001")
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    client.get(callback)
    client.logout()
    client.get(callback)
    assert ticket not in caplog.text
    assert PORTAL_PASSWORD not in caplog.text


LOGOUT_REQUEST = """<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-1" Version="2.0"
 IssueInstant="2026-11-27T08:00:00Z"><saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"></saml:NameID>
<samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>"""


def test_the_servers_single_sign_out_ends_the_session_that_ticket_opened(client, cas, org):
    from django.test import Client

    callback = log_in_at_cas(start(client), "E001")
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    client.get(callback)
    bystander = Client()
    bystander.force_login(org.outsider.user)
    server = Client()  # the CAS server posts without a CSRF token or a session
    unknown = server.post(callback, {"logoutRequest": LOGOUT_REQUEST.format(ticket="ST-not-issued-here")})
    assert unknown.status_code == 204
    assert signed_in(client) == str(org.learner.user_id)
    assert server.post(callback, {"logoutRequest": LOGOUT_REQUEST.format(ticket=ticket)}).status_code == 204
    assert signed_in(client) is None
    assert client.get("/plans/my/").status_code == 302
    assert bystander.session.get("_auth_user_id") == str(org.outsider.user_id)


def test_a_logout_request_for_a_method_that_is_off_changes_nothing(client, cas, org, settings):
    callback = log_in_at_cas(start(client), "E001")
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    client.get(callback)
    settings.SIGNIN_METHODS = ["password"]
    response = client.post(callback, {"logoutRequest": LOGOUT_REQUEST.format(ticket=ticket)})
    assert response.status_code == 204
    assert signed_in(client) == str(org.learner.user_id)


def test_a_sign_in_older_than_ten_minutes_is_refused(client, cas):
    import time

    import time_machine

    with time_machine.travel(time.time(), tick=False) as traveller:
        callback = log_in_at_cas(start(client), "E001")
        traveller.shift(10 * 60)
        assert_refused(client, client.get(callback), "expired")
