"""LDAP / Active Directory sign-in through the login form, against a real slapd: the directory
checks the password, the organisation decides who it is (exactly one active employee, never a new
account), refusals show the refusal page and are logged, and the password throttle applies."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from conftest import PASSWORD
from ldap_server import ADMIN_DN, ADMIN_PASSWORD, PEOPLE, SLAPD, LdapServer, free_port
from learntrace.accounts.ldap_settings import auth_ldap_settings
from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee

BACKENDS = ["axes.backends.AxesStandaloneBackend", "learntrace.accounts.ldap.EmployeeLDAPBackend",
            "django.contrib.auth.backends.ModelBackend"]


@pytest.fixture(scope="session")
def slapd():
    if not os.path.exists(SLAPD):
        if os.environ.get("CI") or os.environ.get("LEARNTRACE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{SLAPD} is missing (apt-get install slapd ldap-utils)")
        pytest.skip("slapd is not installed (Debian packages: slapd ldap-utils)")
    server = LdapServer().start()
    yield server
    server.stop()


def use_ldap(settings, uri, *, methods=("password", "ldap"), user_attribute="uid",
             employee_no_attribute="employeeNumber"):
    settings.SIGNIN_METHODS = list(methods)
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    settings.LDAP_SERVER_URI = uri
    settings.LDAP_EMPLOYEE_NO_ATTRIBUTE = employee_no_attribute
    for name, value in auth_ldap_settings(server_uri=uri, bind_dn=ADMIN_DN, bind_password=ADMIN_PASSWORD,
                                          search_base=PEOPLE, user_attribute=user_attribute, start_tls=False,
                                          timeout_seconds=3).items():
        setattr(settings, name, value)


@pytest.fixture
def ldap_on(slapd, settings):
    use_ldap(settings, slapd.uri)
    return slapd


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


def log_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_a_directory_account_signs_in_as_its_employee(ldap_on, org, client):
    users_before = get_user_model().objects.count()
    response = log_in(client, "li.ming", "ldap-pass-li")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(org.learner.user_id)
    assert get_user_model().objects.count() == users_before
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.employee_id) == ("ldap", "success", org.learner.pk)
    link = LinkedIdentity.objects.get()
    assert (link.method, link.subject, link.employee_id) == ("ldap", f"uid=li.ming,{PEOPLE}".lower(), org.learner.pk)


def test_a_wrong_directory_password_is_a_wrong_password(ldap_on, org, client):
    response = log_in(client, "li.ming", "not-it")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert list(SignInEvent.objects.values_list("outcome", "reason")) == [("refused", "credentials")]


def test_a_directory_account_without_an_employee_is_refused_and_nobody_is_created(ldap_on, org, client):
    users_before = get_user_model().objects.count()
    response = log_in(client, "ghost", "ldap-pass-ghost")
    assert response.status_code == 403 and b"No active employee in learntrace matches" in response.content
    assert b"training administrator" in response.content
    assert get_user_model().objects.count() == users_before and not LinkedIdentity.objects.exists()
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.reason, event.identifier) == ("ldap", "refused", "unknown", "ghost")


def test_a_deactivated_employee_is_refused_even_with_the_right_directory_password(ldap_on, org, client):
    Employee.objects.filter(pk=org.outsider.pk).update(is_active=False)
    response = log_in(client, "nurse.wang", "ldap-pass-wang")
    assert response.status_code == 403 and b"deactivated" in response.content
    assert SignInEvent.objects.get().reason == "inactive"


def test_the_password_throttle_applies_to_directory_sign_ins(ldap_on, org, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        log_in(client, "li.ming", "wrong")
    response = log_in(client, "li.ming", "ldap-pass-li")
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_the_username_can_be_another_attribute_and_filters_are_escaped(slapd, org, client, settings):
    use_ldap(settings, slapd.uri, user_attribute="employeeNumber")
    assert log_in(client, "*", "ldap-pass-li").status_code == 200  # no wildcard search
    assert log_in(client, "E001)(uid=*", "ldap-pass-li").status_code == 200
    response = log_in(client, "E001", "ldap-pass-li")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(org.learner.user_id)


def test_the_uid_itself_can_be_the_employee_number(slapd, org, client, settings):
    use_ldap(settings, slapd.uri, employee_no_attribute="uid")
    response = log_in(client, "H001", "ldap-pass-head")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(org.head.user_id)


def test_an_unreachable_directory_says_so(slapd, org, client, settings):
    use_ldap(settings, f"ldap://127.0.0.1:{free_port()}")
    response = log_in(client, "li.ming", "ldap-pass-li")
    assert response.status_code == 403 and b"directory (LDAP) could not be reached" in response.content
    assert SignInEvent.objects.get().reason == "ldap"


def test_with_only_ldap_on_a_password_kept_in_learntrace_does_not_let_in(ldap_on, org, client, settings):
    use_ldap(settings, ldap_on.uri, methods=("ldap",))
    response = log_in(client, "learner", PASSWORD)
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    assert SignInEvent.objects.get().reason == "disabled"
    assert log_in(client, "li.ming", "ldap-pass-li").status_code == 302
