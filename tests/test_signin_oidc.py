"""OpenID Connect sign-in against a real provider (npm `oidc-provider`, tests/oidc/): the test client
is the browser on this site, httpx plays the person at the provider's login page."""

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.core import checks
from django.urls import reverse

import sso_checks
from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee
from learntrace.sso import oidc as oidc_client
from sso_checks import signed_in
from sso_servers import OIDC_CLIENT_SECRET, OIDC_PUBLIC_CLIENT_ID, PORTAL_PASSWORD, oidc_provider  # noqa: F401

CALLBACK = "/accounts/sso/oidc/callback/"
STATE_PREFIX = "_state_oidc_"  # where Authlib keeps a sign-in's state, nonce and PKCE verifier


@pytest.fixture
def oidc(settings, oidc_provider, org, client):  # noqa: F811
    client.cookies["django_language"] = "en"
    settings.SIGNIN_METHODS = ["password", "oidc"]
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_SCOPES = "openid email profile employee"
    settings.OIDC_EMPLOYEE_CLAIM = "employee_no"
    settings.OIDC_EMPLOYEE_FIELD = "employee_no"
    oidc_client._clients.clear()  # the provider's keys are fetched afresh (some tests replace them)
    return oidc_provider


def start(client, next_url="/plans/my/"):
    return sso_checks.start(client, "oidc", next_url)


def log_in_at_provider(authorize_url, login, password=PORTAL_PASSWORD):
    """The person at the provider: its login form, then every redirect until it sends them back here."""
    with httpx.Client(timeout=10) as browser:
        response = browser.get(authorize_url)
        while response.status_code in (302, 303):
            response = browser.get(response.headers["location"]) if response.headers["location"].startswith("http") \
                else browser.get(str(response.url.join(response.headers["location"])))
        assert 'name="password"' in response.text, response.text
        response = browser.post(str(response.url.join(response.url.path + "/login")),
                                data={"login": login, "password": password})
        while response.status_code in (302, 303):
            location = str(response.url.join(response.headers["location"]))
            if CALLBACK in location:
                return location
            response = browser.get(location)
        raise AssertionError(f"the provider did not send the person back: {response.status_code} {response.text}")


def sign_in(client, who="learner", next_url="/plans/my/"):
    return client.get(log_in_at_provider(start(client, next_url), who))


def assert_refused(client, response, reason, status=403):
    sso_checks.assert_refused(client, response, "oidc", reason, status)


def test_it_signs_the_matching_employee_in_and_goes_where_they_were_going(client, oidc, org):
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/plans/my/"
    assert signed_in(client) == str(org.learner.user_id)
    link = LinkedIdentity.objects.get()
    assert (link.method, link.subject, link.employee_id) == ("oidc", "portal-0001", org.learner.pk)
    assert link.last_used_at is not None
    assert list(SignInEvent.objects.values_list("method", "outcome", "employee_id", "identifier")) == [
        ("oidc", "success", org.learner.pk, "E001")]


def test_the_authorisation_request_uses_pkce_s256_a_nonce_and_a_fresh_state(client, oidc):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert query["scope"] == ["openid email profile employee"]
    assert query["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    assert len(query["nonce"][0]) >= 20 and len(query["state"][0]) >= 20
    second = parse_qs(urlsplit(start(client)).query)
    assert second["state"] != query["state"] and second["nonce"] != query["nonce"]


def test_a_claim_can_match_the_e_mail_address(client, oidc, org, settings):
    settings.OIDC_EMPLOYEE_CLAIM = "email"
    settings.OIDC_EMPLOYEE_FIELD = "email"
    Employee.objects.filter(pk=org.learner.pk).update(email="Learner@Hospital.test")
    sign_in(client)
    assert signed_in(client) == str(org.learner.user_id)


def test_the_link_is_followed_after_the_first_sign_in(client, oidc, org):
    sign_in(client)
    client.logout()
    Employee.objects.filter(pk=org.learner.pk).update(employee_no="E001-NEW")  # renumbered since
    sign_in(client)
    assert signed_in(client) == str(org.learner.user_id)


def test_an_imported_employee_without_an_account_gets_in_without_a_password(client, oidc, org):
    imported = Employee.objects.create(employee_no="X999", name="Imported", department=org.b)
    sign_in(client, who="stranger")
    imported.refresh_from_db()
    assert imported.user is not None and not imported.user.has_usable_password()
    assert signed_in(client) == str(imported.user_id)


@pytest.mark.parametrize("who, reason, identifier", [("stranger", "unknown", "X999"),
                                                      ("nameless", "unknown", "portal-0003")])
def test_an_account_nobody_in_the_organisation_has_is_refused(client, oidc, who, reason, identifier):
    sso_checks.assert_a_stranger_is_refused(client, "oidc", lambda: sign_in(client, who=who), reason, identifier)


def test_a_deactivated_employee_is_refused(client, oidc, org):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    assert_refused(client, sign_in(client, who="outsider"), "inactive")


def test_a_state_works_once_and_only_in_the_browser_that_started_it(client, oidc, org):
    response = sso_checks.assert_the_callback_works_once_in_its_browser(
        client, "oidc", log_in_at_provider(start(client), "learner"), org.learner)
    assert response.status_code == 302


@pytest.mark.parametrize("tamper", ["other state", "no state", "no code"])
def test_a_tampered_callback_is_refused(client, oidc, tamper):
    callback = urlsplit(log_in_at_provider(start(client), "learner"))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    if tamper == "other state":
        query["state"] = query["state"][:-2] + "xx"
    elif tamper == "no state":
        del query["state"]
    else:
        del query["code"]
    response = client.get(f"{CALLBACK}?{urlencode(query)}")
    assert_refused(client, response, "expired" if "state" in tamper else "provider")


def tamper_session(client, key, value):
    session = client.session
    name = next(name for name in session.keys() if name.startswith(STATE_PREFIX))
    entry = session[name]
    entry["data"][key] = value
    session[name] = entry
    session.save()


def test_an_id_token_for_another_nonce_is_refused(client, oidc):
    callback = log_in_at_provider(start(client), "learner")
    tamper_session(client, "nonce", "a-nonce-this-sign-in-never-sent")
    assert_refused(client, client.get(callback), "provider")
    assert not LinkedIdentity.objects.exists()


def test_the_code_is_refused_without_the_pkce_verifier_it_was_issued_for(client, oidc):
    callback = log_in_at_provider(start(client), "learner")
    tamper_session(client, "code_verifier", "x" * 64)
    assert_refused(client, client.get(callback), "provider")


def test_a_declined_sign_in_is_refused(client, oidc):
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(CALLBACK, {"error": "access_denied", "state": state})
    assert_refused(client, response, "provider")
    assert_refused(client, client.get(CALLBACK, {"code": "x", "state": state}), "expired")  # the state is spent


def test_a_wrong_client_secret_is_refused_at_the_code_exchange(client, oidc, settings):
    callback = log_in_at_provider(start(client), "learner")
    settings.OIDC_CLIENT_SECRET = "not-the-secret"
    assert_refused(client, client.get(callback), "provider")


def test_a_discovery_document_of_another_issuer_is_refused(client, oidc, settings):
    settings.OIDC_ISSUER = oidc.issuer.replace("127.0.0.1", "localhost")  # same server, another name
    assert_refused(client, client.get(reverse("sso:oidc_start")), "provider")


def test_an_unreachable_provider_is_refused_as_unreachable(client, oidc, settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{closed}"
    assert_refused(client, client.get(reverse("sso:oidc_start")), "unreachable")


def test_refusals_throttle_the_method_from_that_address(client, oidc, settings):
    sso_checks.assert_refusals_throttle(client, "oidc", settings, lambda: sign_in(client, who="stranger"),
                                        {"code": "x", "state": "y"})


def test_next_stays_on_this_site(client, oidc):
    response = sign_in(client, next_url="https://evil.example/")
    assert response["Location"] == reverse("home:home")


def test_a_signed_in_person_is_sent_on(client, oidc, org):
    sign_in(client)
    response = client.get(reverse("sso:oidc_start"), {"next": "/plans/my/"})
    assert (response.status_code, response["Location"]) == (302, "/plans/my/")


def test_a_method_that_is_off_or_unconfigured_is_refused(client, oidc, settings):
    settings.SIGNIN_METHODS = ["password"]
    assert_refused(client, client.get(reverse("sso:oidc_start")), "disabled")
    assert_refused(client, client.get(CALLBACK), "disabled")
    settings.SIGNIN_METHODS = ["oidc"]
    settings.OIDC_ISSUER = ""
    assert_refused(client, client.get(reverse("sso:oidc_start")), "disabled")
    assert [message.id for message in checks.run_checks() if message.id.startswith("learntrace.sso")] == [
        "learntrace.sso.W001"]
    settings.OIDC_ISSUER = oidc.issuer
    settings.OIDC_EMPLOYEE_FIELD = "name"
    settings.OIDC_SCOPES = "email profile"
    assert [message.id for message in checks.run_checks() if message.id.startswith("learntrace.sso")] == [
        "learntrace.sso.E001", "learntrace.sso.E002"]


def test_the_login_page_offers_the_provider_under_its_configured_name(client, oidc, settings):
    page = client.get(reverse("accounts:login"), {"next": "/plans/my/"}).content.decode()
    assert 'href="/accounts/sso/oidc/start/?next=%2Fplans%2Fmy%2F"' in page
    assert "Sign in with OpenID Connect" in page
    settings.OIDC_LABEL = "Hospital portal"
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in with Hospital portal" in page


def test_no_token_code_or_secret_reaches_the_log(client, oidc, caplog, settings):
    caplog.set_level(logging.DEBUG)
    callback = log_in_at_provider(start(client), "learner")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    client.get(callback)
    client.logout()
    tamper_callback = log_in_at_provider(start(client), "learner")
    tamper_session(client, "nonce", "another")
    client.get(tamper_callback)
    assert "OIDC sign-in: token refused" in caplog.text
    for secret in (code, OIDC_CLIENT_SECRET, PORTAL_PASSWORD):
        assert secret not in caplog.text
    for identifier in SignInEvent.objects.values_list("identifier", flat=True):
        assert identifier in ("E001", "")


def test_a_sign_in_older_than_ten_minutes_is_refused(client, oidc):
    import time

    import time_machine

    with time_machine.travel(time.time(), tick=False) as traveller:
        callback = log_in_at_provider(start(client), "learner")
        traveller.shift(10 * 60)
        assert_refused(client, client.get(callback), "expired")


def keys_known_here(**parameters):
    """Replaces the provider keys this site has fetched by one RSA key of the provider's format."""
    from joserfc.jwk import RSAKey

    app = oidc_client.client()
    app.load_server_metadata()
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256", **parameters})
    app.server_metadata["jwks"] = {"keys": [key.as_dict(private=False)]}


def test_an_id_token_whose_signature_does_not_match_the_providers_key_is_refused(client, oidc, caplog):
    keys_known_here(kid="test-signing-key")  # the provider's key id, another key
    assert_refused(client, sign_in(client), "provider")
    assert "OIDC sign-in: token refused: BadSignatureError" in caplog.text
    assert not LinkedIdentity.objects.exists()


def test_a_key_the_site_does_not_know_yet_is_fetched_from_the_provider(client, oidc, org):
    keys_known_here(kid="a-key-the-provider-retired")
    sign_in(client)
    assert signed_in(client) == str(org.learner.user_id)


def test_a_public_client_signs_in_with_pkce_alone(client, oidc, org, settings):
    settings.OIDC_CLIENT_ID = OIDC_PUBLIC_CLIENT_ID
    settings.OIDC_CLIENT_SECRET = ""
    sign_in(client)
    assert signed_in(client) == str(org.learner.user_id)


def test_an_issuer_configured_with_a_trailing_slash_is_the_same_issuer(client, oidc, org, settings):
    settings.OIDC_ISSUER = oidc.issuer + "/"
    sign_in(client)
    assert signed_in(client) == str(org.learner.user_id)


def test_a_provider_that_stops_answering_before_the_code_exchange_is_refused_as_unreachable(client, oidc):
    import socket

    callback = log_in_at_provider(start(client), "learner")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = oidc_client.client()
    app.server_metadata["token_endpoint"] = f"http://127.0.0.1:{closed}/token"  # as if the provider went down
    assert_refused(client, client.get(callback), "unreachable")
    assert not LinkedIdentity.objects.exists()


def test_a_browser_keeps_its_five_newest_sign_ins_open(client, oidc, org):
    import time

    import time_machine

    with time_machine.travel(time.time(), tick=False) as traveller:
        started = []
        for _ in range(6):
            started.append(start(client))
            traveller.shift(1)
        assert len([key for key in client.session.keys() if key.startswith(STATE_PREFIX)]) == 5
        assert_refused(client, client.get(log_in_at_provider(started[0], "learner")), "expired")
        client.get(log_in_at_provider(started[1], "learner"))
    assert signed_in(client) == str(org.learner.user_id)
