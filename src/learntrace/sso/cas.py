"""Sign-in with a CAS 2.0 or 3.0 server (the portal of many hospitals).

python-cas (the client under django-cas-ng) builds the CAS login address and validates the service
ticket at /serviceValidate (2.0) or /p3/serviceValidate (3.0, with attributes). django-cas-ng itself is
not used: it is an authentication backend that finds or creates a Django user by the CAS name, while
learntrace matches exactly one active employee, links the identity, logs every attempt and never
creates anyone (accounts.signin).

CAS has no state parameter of its own: the state travels inside the service address (our callback),
which the server sends back with the ticket and against which the ticket is validated. A ticket
issued for a sign-in started in another browser therefore fails here. Nothing here logs a ticket.

Single sign-out: when the person logs out at the CAS server, it posts a SAML logout request naming
the ticket to the service address; the session that ticket opened is then ended. Which session that
is stays in the cache (under the ticket's hash) for as long as a session lives.
"""

import hashlib
import logging
import re
from importlib import import_module
from urllib.parse import urlencode
from xml.etree.ElementTree import ParseError

import requests
from django.conf import settings
from django.core.cache import cache

from learntrace.accounts import methods
from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal
from learntrace.sso.identity import Identity, text

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "email")  # the Employee fields the CAS user or attribute may be matched against
VERSIONS = ("2", "3")
TIMEOUT_SECONDS = 10  # someone is waiting on the sign-in page
# The ticket in a logout request. Read with a pattern rather than an XML parser: anyone can post one,
# and all that is needed is the ticket, which then has to match a session opened here.
SESSION_INDEX = re.compile(r"<(?:[\w-]+:)?SessionIndex>\s*([\w.-]{1,256})\s*</(?:[\w-]+:)?SessionIndex>")


class _Session(requests.Session):
    """Every call with a timeout; a server error is an error, not a page to parse."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        response = super().request(*args, **kwargs)
        if response.status_code >= 500:
            response.close()
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        return response


def configured() -> bool:
    return bool(settings.CAS_SERVER_URL)


def available() -> bool:
    return methods.enabled(Method.CAS) and configured()


def service_url(callback: str, state: str) -> str:
    return f"{callback}?{urlencode({'state': state})}"


def _client(service: str):
    from cas import CASClient  # here: only a sign-in needs it and the XML parser it loads (memory per process)

    return CASClient(version=settings.CAS_VERSION, server_url=f"{settings.CAS_SERVER_URL}/",
                     service_url=service, session=_Session())


def login_url(*, callback: str, state: str) -> str:
    return _client(service_url(callback, state)).get_login_url()


def identify(*, callback: str, state: str, ticket: str, next_url: str) -> Identity:
    """The person the ticket was issued to, asked of the CAS server for exactly this service address."""
    if not ticket:
        raise Refusal("provider")
    from lxml.etree import LxmlError  # python-cas's parser, loaded with it: only for a sign-in

    try:
        user, attributes, _proxy = _client(service_url(callback, state)).verify_ticket(ticket)
    except requests.RequestException as error:
        log.warning("CAS sign-in: the ticket validation did not answer: %s", type(error).__name__)
        raise Refusal("unreachable") from None
    except (ParseError, LxmlError, ValueError, KeyError, AttributeError) as error:
        log.warning("CAS sign-in: the ticket validation answer is not CAS XML: %s", type(error).__name__)
        raise Refusal("provider") from None
    subject = text(user)
    if not subject:
        log.info("CAS sign-in: the server did not accept the ticket")
        raise Refusal("provider")
    attributes = attributes if isinstance(attributes, dict) else {}
    attribute = settings.CAS_EMPLOYEE_ATTRIBUTE
    value = text(attributes.get(attribute)) if attribute else subject
    return Identity(subject=subject, value=value, field=settings.CAS_EMPLOYEE_FIELD, next_url=next_url)


def _sign_out_key(ticket: str) -> str:
    return "sso:cas-session:" + hashlib.sha256(ticket.encode()).hexdigest()


def remember_session(ticket: str, session_key: str) -> None:
    """The session this ticket opened, for the server's single sign-out."""
    cache.set(_sign_out_key(ticket), session_key, settings.SESSION_COOKIE_AGE)


def sign_out(logout_request: str) -> bool:
    """End the session opened with the ticket a CAS logout request names; False if there is none."""
    found = SESSION_INDEX.search(logout_request[:10_000])
    session_key = cache.get(_sign_out_key(found.group(1))) if found else None
    if not session_key:
        return False
    cache.delete(_sign_out_key(found.group(1)))
    import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()
    log.info("CAS sign-in: the server's single sign-out ended a session")
    return True
