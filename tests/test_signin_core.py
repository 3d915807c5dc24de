"""The rules every sign-in method shares: exact matching to one active employee, the sign-in log,
refusals that say whom to ask, the session key cycled and redirects kept on this site."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from conftest import PASSWORD
from learntrace.accounts import signin
from learntrace.accounts.models import LinkedIdentity, Method, SignInEvent
from learntrace.org.models import Employee


def test_match_by_field_links_the_account_and_follows_the_link_afterwards(org):
    Employee.objects.filter(pk=org.learner.pk).update(dingtalk_user_id="ding-1")
    employee = signin.match_employee(Method.DINGTALK, "ding-1", field="dingtalk_user_id", value="ding-1")
    assert employee.pk == org.learner.pk
    link = LinkedIdentity.objects.get()
    assert (link.employee_id, link.method, link.subject) == (org.learner.pk, "dingtalk", "ding-1")
    # The organisation's field changes later; the link still stands for the same person.
    Employee.objects.filter(pk=org.learner.pk).update(dingtalk_user_id="")
    assert signin.match_employee(Method.DINGTALK, "ding-1", field="dingtalk_user_id", value="").pk == org.learner.pk


@pytest.mark.parametrize("value, reason", [("nobody", "unknown"), ("", "unknown")])
def test_no_match_is_refused_and_nobody_is_created(org, value, reason):
    before = Employee.objects.count()
    with pytest.raises(signin.Refusal) as refusal:
        signin.match_employee(Method.OIDC, "sub-9", field="employee_no", value=value)
    assert refusal.value.reason == reason
    assert Employee.objects.count() == before
    assert not LinkedIdentity.objects.exists()


def test_two_matches_are_refused_as_ambiguous(org):
    Employee.objects.filter(pk__in=[org.learner.pk, org.outsider.pk]).update(email="shared@example.com")
    with pytest.raises(signin.Refusal) as refusal:
        signin.match_employee(Method.OIDC, "sub-1", field="email", value="SHARED@example.com")
    assert refusal.value.reason == "ambiguous"


def test_deactivated_employees_are_refused_by_field_and_by_link(org):
    signin.match_employee(Method.CAS, "E001", field="employee_no", value="E001")
    Employee.objects.filter(pk=org.learner.pk).update(is_active=False)
    for value in ("E001", ""):
        with pytest.raises(signin.Refusal) as refusal:
            signin.match_employee(Method.CAS, "E001", field="employee_no", value=value)
        assert refusal.value.reason == "inactive"
    with pytest.raises(signin.Refusal) as refusal:
        signin.match_employee(Method.LDAP, "E001", field="employee_no", value="E001")
    assert refusal.value.reason == "inactive"


def test_complete_logs_in_with_a_new_session_and_stays_on_this_site(org):
    from django.contrib.sessions.middleware import SessionMiddleware

    request = RequestFactory().get("/", HTTP_HOST="testserver", REMOTE_ADDR="10.0.0.5")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session["before"] = "x"
    request.session.save()
    old_key = request.session.session_key
    response = signin.complete(request, org.learner, method=Method.DINGTALK, identifier="ding-1",
                               next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == reverse("home:home")
    assert request.session.session_key != old_key
    assert request.session["_auth_user_id"] == str(org.learner.user_id)
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.employee_id, event.ip_address) == (
        "dingtalk", "success", org.learner.pk, "10.0.0.5")
    assert signin.safe_next(request, "//evil.example/x") == reverse("home:home")
    assert signin.safe_next(request, "/plans/my/") == "/plans/my/"


def test_an_employee_without_an_account_gets_one_without_a_password(org):
    org.learner.user = None
    org.learner.save(update_fields=["user"])
    Employee.objects.get(pk=org.learner.pk)
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="E001").delete()
    user = signin.account_of(Employee.objects.get(pk=org.learner.pk))
    assert user.username == "E001"
    assert not user.has_usable_password()
    assert Employee.objects.get(pk=org.learner.pk).user_id == user.pk


def test_password_sign_ins_are_logged_with_their_outcome(org, client):
    client.post(reverse("accounts:login"), {"username": "learner", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "learner", "password": PASSWORD})
    events = list(SignInEvent.objects.order_by("id").values_list("method", "outcome", "reason", "employee_id"))
    assert events == [("password", "refused", "credentials", None), ("password", "success", "", org.learner.pk)]


def test_refusal_page_names_whom_to_ask_in_both_languages(org, client):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9")
    response = signin.refuse(request, method=Method.OIDC, reason="unknown", identifier="sub-7")
    assert response.status_code == 403
    assert b"training administrator" in response.content
    event = SignInEvent.objects.get()
    assert (event.method, event.outcome, event.reason, event.identifier, event.ip_address) == (
        "oidc", "refused", "unknown", "sub-7", "10.0.0.9")


def test_refusals_from_one_address_are_throttled(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.8")
    for _ in range(2):
        signin.refuse(request, method=Method.OIDC, reason="unknown")
    assert not signin.throttled(request)
    signin.refuse(request, method=Method.OIDC, reason="unknown")
    assert signin.throttled(request)
    assert not signin.throttled(RequestFactory().get("/", REMOTE_ADDR="10.0.0.7"))


def test_login_page_says_the_username_is_the_employee_number(db, client):
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("accounts:login")).content.decode()
    assert "工号" in page


def test_password_form_is_refused_when_password_sign_in_is_off(org, client, settings):
    settings.SIGNIN_METHODS = ["oidc"]
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'name="password"' not in page
    response = client.post(reverse("accounts:login"), {"username": "learner", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
