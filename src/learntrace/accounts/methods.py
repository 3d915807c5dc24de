"""Which sign-in methods this deployment offers, and where each one starts.

An admin switches methods on with `SIGNIN_METHODS` (README, "Signing in"); the login page offers
only those, in that order. Password sign-in covers LDAP too: both use the username/password form.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from learntrace.accounts.models import Method

# Methods with a page of their own to start from (redirect flows); the others use the login form.
START_URL_NAMES: dict[str, str] = {}

FORM_METHODS = {Method.PASSWORD, Method.LDAP}


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
            result.append(Offer(method=method, label=str(Method(method).label), url=url))
    return result
