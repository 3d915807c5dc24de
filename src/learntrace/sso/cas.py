"""Sign-in with a CAS 2.0 or 3.0 server (the portal of many hospitals).

python-cas (the client under django-cas-ng) builds the CAS login address and validates the service
ticket at /serviceValidate (2.0) or /p3/serviceValidate (3.0, with attributes). django-cas-ng itself is
not used: it is an authentication backend that finds or creates a Django user by the CAS name, while
learntrace matches exactly one active employee, links the identity, logs every attempt and never
creates anyone (accounts.signin).

CAS has no state parameter of its own: the state travels inside the service address (our callback),
which the server sends back with the ticket and against which the ticket is validated. A ticket
issued for a sign-in started in another browser therefore fails here. Nothing here logs a ticket.
"""

import logging
from urllib.parse import urlencode
from xml.etree.ElementTree import ParseError

import requests
from cas import CASClient
from django.conf import settings
from lxml.etree import LxmlError

from learntrace.accounts import methods
from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal
from learntrace.sso.identity import Identity, text

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "email")  # the Employee fields the CAS user or attribute may be matched against
VERSIONS = ("2", "3")
TIMEOUT_SECONDS = 10  # someone is waiting on the sign-in page


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


def _client(service: str) -> CASClient:
    return CASClient(version=settings.CAS_VERSION, server_url=f"{settings.CAS_SERVER_URL}/",
                     service_url=service, session=_Session())


def login_url(*, callback: str, state: str) -> str:
    return _client(service_url(callback, state)).get_login_url()


def identify(*, callback: str, state: str, ticket: str, next_url: str) -> Identity:
    """The person the ticket was issued to, asked of the CAS server for exactly this service address."""
    if not ticket:
        raise Refusal("provider")
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
