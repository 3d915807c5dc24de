"""What the CAS and the OpenID Connect sign-in tests check alike, on this site's side: the start, who
is signed in, how a refusal shows (status, no session, the sign-in log), and the refusals both
protocols owe the same answer."""

from django.test import Client
from django.urls import reverse

from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee


def start(client, method: str, next_url: str | None = "/plans/my/") -> str:
    """Start a sign-in with `method` ("cas", "oidc"): the address of the server's login page."""
    response = client.get(reverse(f"sso:{method}_start"), {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content
    return response["Location"]


def signed_in(client):
    return client.session.get("_auth_user_id")


def assert_refused(client, response, method: str, reason: str, status: int = 403) -> None:
    assert response.status_code == status
    assert signed_in(client) is None
    event = SignInEvent.objects.order_by("-id").first()
    assert (event.method, event.outcome, event.reason) == (method, "refused", reason)


def assert_a_stranger_is_refused(client, method: str, sign_in, reason: str, identifier: str) -> None:
    """`sign_in()` signs in someone the organisation does not have: refused, logged, nobody created."""
    employees = Employee.objects.count()
    response = sign_in()
    assert_refused(client, response, method, reason)
    assert "ask your training administrator" in response.content.decode()
    assert SignInEvent.objects.get().identifier == identifier
    assert Employee.objects.count() == employees
    assert not LinkedIdentity.objects.exists()


def assert_the_callback_works_once_in_its_browser(client, method: str, callback: str, employee):
    """The server's answer (`callback`) signs in only the browser that started, and only once."""
    other_browser = Client()
    assert_refused(other_browser, other_browser.get(callback), method, "expired")
    response = client.get(callback)
    assert signed_in(client) == str(employee.user_id)
    client.logout()
    assert_refused(client, client.get(callback), method, "expired")  # replayed
    return response


def assert_refusals_throttle(client, method: str, settings, sign_in_stranger, callback_query: dict) -> None:
    """Two refusals from one address close the method to it for a while, start and callback alike."""
    settings.AXES_FAILURE_LIMIT = 2
    sign_in_stranger()
    sign_in_stranger()
    assert_refused(client, client.get(reverse(f"sso:{method}_start")), method, "throttled", status=429)
    assert_refused(client, client.get(reverse(f"sso:{method}_callback"), callback_query), method, "throttled",
                   status=429)
