"""A platform sign-in from start to finish: a state kept in the session and accepted once, the code
exchanged for the platform's user id, that id matched to one active employee, and every refusal
logged. A refusal inside the app is remembered in the session, so the login page is then shown
instead of the silent sign-in being tried again."""

import secrets
from collections.abc import Callable

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from learntrace.accounts import methods, signin
from learntrace.accounts.signin import Refusal
from learntrace.platforms.base import Platform, PlatformError

STATES_KEY = "platform_signin_states"
STATE_LIFETIME_SECONDS = 10 * 60  # time enough to find the phone and scan; codes themselves live 5 minutes
MAX_OPEN_STATES = 5  # sign-ins started in other tabs; the oldest is dropped beyond this


def callback_uri(request, platform: Platform) -> str:
    return request.build_absolute_uri(reverse(f"platforms:{platform.method}_callback"))


def begin(request, platform: Platform, next_url: str) -> str:
    """A new state for this browser's session: letters and digits only, as WeCom requires."""
    now = timezone.now().timestamp()
    states = {key: entry for key, entry in request.session.get(STATES_KEY, {}).items()
              if now - entry["at"] < STATE_LIFETIME_SECONDS}
    for key in sorted(states, key=lambda key: states[key]["at"])[:-(MAX_OPEN_STATES - 1)]:
        del states[key]
    state = secrets.token_hex(16)
    states[state] = {"method": platform.method, "next": next_url, "at": now}
    request.session[STATES_KEY] = states
    return state


def take_state(request, platform: Platform, state: str) -> str:
    """The `next` of the sign-in this state started; the state cannot be used again."""
    states = request.session.get(STATES_KEY, {})
    entry = states.pop(state, None) if state else None
    request.session[STATES_KEY] = states
    if entry is None or entry["method"] != platform.method \
            or timezone.now().timestamp() - entry["at"] >= STATE_LIFETIME_SECONDS:
        raise Refusal("expired")
    return entry["next"]


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
