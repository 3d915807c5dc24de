"""A platform sign-in from start to finish: a state kept in the session and accepted once, the code
exchanged for the platform's user id, that id matched to one active employee, and every refusal
logged. A refusal inside the app is remembered in the session, so the login page is then shown
instead of the silent sign-in being tried again."""

from collections.abc import Callable

from django.http import HttpResponse
from django.urls import reverse

from learntrace.accounts import methods, signin
from learntrace.accounts.signin import Refusal
from learntrace.platforms.base import Platform, PlatformError


def callback_uri(request, platform: Platform) -> str:
    return request.build_absolute_uri(reverse(f"platforms:{platform.method}_callback"))


def begin(request, platform: Platform, next_url: str) -> str:
    return signin.open_state(request, platform.method, next_url)


def take_state(request, platform: Platform, state: str) -> str:
    return signin.take_state(request, platform.method, state)


def finish(request, platform: Platform, *, state: str, code: str,
           exchange: Callable[[str], str]) -> HttpResponse:
    """Check the state, turn the code into the platform's user id, and let that employee in."""
    if signin.throttled(request):
        return refused(request, platform, "throttled")
    try:
        next_url = take_state(request, platform, state)
        if not code:
            raise Refusal("provider")  # the person declined, or the platform answered with an error
        user_id = exchange(code)
        employee = signin.match_employee(platform.method, user_id, field=platform.field, value=user_id)
    except Refusal as refusal:
        return refused(request, platform, refusal.reason, refusal.identifier)
    except PlatformError as error:
        return refused(request, platform, error.reason)
    return signin.complete(request, employee, method=platform.method, identifier=user_id, subject=user_id,
                           next_url=next_url)


def refused(request, platform: Platform, reason: str, identifier: str = "") -> HttpResponse:
    if platform.in_app(request):
        request.session[methods.IN_APP_REFUSED_KEY] = True
    return signin.refuse(request, method=platform.method, reason=reason, identifier=identifier,
                         status=429 if reason == "throttled" else 403)
