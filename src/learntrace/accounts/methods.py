"""Which sign-in methods this deployment offers, and where each one starts.

An admin switches methods on with `SIGNIN_METHODS` (README, "Signing in"); the login page offers
only those, in that order. Password sign-in covers LDAP too: both use the username/password form.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from learntrace.accounts.models import Method

# Methods with a page of their own to start from (redirect flows); the others use the login form.
START_URL_NAMES: dict[str, str] = {}
# A button text a deployment configured for a method (e.g. the company portal's name); "" keeps the method's name.
START_LABELS: dict[str, Callable[[], str]] = {}

FORM_METHODS = {Method.PASSWORD, Method.LDAP}

# Methods that sign a person in silently when a page is opened inside their platform's app:
# method -> (how the app names itself in its user agent, a regular expression; the in-app start page).
IN_APP_STARTS: dict[str, tuple[str, str]] = {}
# Set in the session when an in-app sign-in was refused: the login page is then shown, not retried.
IN_APP_REFUSED_KEY = "signin_in_app_refused"


def enabled(method: str) -> bool:
    return method in settings.SIGNIN_METHODS


def uses_form() -> bool:
    return any(enabled(method) for method in FORM_METHODS)


@dataclass(frozen=True)
class Offer:
    method: str
    label: str
    url: str


def offers(next_url: str = "") -> list[Offer]:
    """The buttons of the login page: every enabled method with a start page, in the configured order."""
    result = []
    for method in settings.SIGNIN_METHODS:
        url_name = START_URL_NAMES.get(method)
        if url_name:
            url = reverse(url_name)
            if next_url:
                url = f"{url}?{urlencode({'next': next_url})}"
            label = START_LABELS[method]() if method in START_LABELS else ""
            result.append(Offer(method=method, label=label or str(Method(method).label), url=url))
    return result


def in_app_start(request, next_url: str = "") -> str | None:
    """Where an anonymous visitor inside DingTalk, WeCom or Feishu goes instead of the login page:
    that app's silent sign-in, when its method is on (None elsewhere, or after a refused attempt)."""
    if request.session.get(IN_APP_REFUSED_KEY):
        return None
    agent = request.META.get("HTTP_USER_AGENT", "")
    for method in settings.SIGNIN_METHODS:
        entry = IN_APP_STARTS.get(method)
        if entry and re.search(entry[0], agent, re.IGNORECASE):
            url = reverse(entry[1])
            return f"{url}?{urlencode({'next': next_url})}" if next_url else url
    return None
