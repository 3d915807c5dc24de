"""Sign-in with OpenID Connect (Authing, Casdoor, Keycloak, Azure AD and the like): the authorization
code flow with PKCE (S256).

Authlib's Django client does the protocol: it reads the provider's discovery document, keeps the
state, the nonce and the PKCE verifier in the session (each sign-in's taken once), exchanges the code,
and checks the ID token's signature against the provider's JWKS and its iss, aud, exp, iat and nonce.
This module configures it and turns the checked claims into an `Identity`. Nothing here logs a token,
a code or the client secret.
"""

import logging
import time
from contextlib import contextmanager

import requests
from django.conf import settings
from django.utils.translation import get_language

from learntrace.accounts import methods
from learntrace.accounts.models import Method
from learntrace.accounts.signin import MAX_OPEN_STATES, STATE_LIFETIME_SECONDS, Refusal
from learntrace.sso.identity import Identity, text

log = logging.getLogger(__name__)

FIELDS = ("employee_no", "email")  # the Employee fields a claim may be matched against
TIMEOUT_SECONDS = 10  # someone is waiting on the sign-in page

_clients = {}


def configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def available() -> bool:
    return methods.enabled(Method.OIDC) and configured()


def client():
    """The Authlib client of the configured provider. Its discovery document is read once per process
    (again after a failure), its keys again when an ID token names a key it does not know (rotation)."""
    key = (settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET, settings.OIDC_SCOPES)
    if key not in _clients:
        from authlib.integrations.django_client import OAuth  # here: only a sign-in needs it (memory per process)

        # Without a secret Authlib authenticates as a public client ("none"): PKCE alone proves the client.
        app = OAuth().register(
            "oidc", client_id=settings.OIDC_CLIENT_ID, client_secret=settings.OIDC_CLIENT_SECRET or None,
            server_metadata_url=f"{settings.OIDC_ISSUER.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.OIDC_SCOPES, "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS})
        app.framework.expires_in = STATE_LIFETIME_SECONDS
        _clients.clear()
        _clients[key] = app
    return _clients[key]


def authorize_url(request, *, redirect_uri: str, next_url: str) -> str:
    """The provider's authorisation page for a new sign-in, whose state, nonce, PKCE verifier and
    `next` wait in the session for the callback."""
    app = client()
    with _provider_errors("discovery"):
        _metadata(app)
        found = app.create_authorization_url(redirect_uri, ui_locales=_ui_locale())
    app.save_authorize_data(request, redirect_uri=redirect_uri, next=next_url, at=time.time(), **found)
    _keep_newest_states(request.session, app.name)
    return found["url"]


def _keep_newest_states(session, name: str) -> None:
    """At most MAX_OPEN_STATES sign-ins open per browser, as for the platforms (Authlib keeps every
    one started, under `_state_<name>_<state>`, until one is finished)."""
    prefix = f"_state_{name}_"
    started = sorted((key for key in session.keys() if key.startswith(prefix)),
                     key=lambda key: session[key].get("exp", 0))
    for key in started[:-MAX_OPEN_STATES]:
        del session[key]


def identify(request) -> Identity:
    """The person the provider's answer at the callback stands for; raises Refusal."""
    app = client()
    state = request.GET.get("state", "")
    started = app.framework.get_state_data(request.session, state) if state else None
    if not started:
        raise Refusal("expired")  # unknown, used, or started in another browser
    if not time.time() - started.get("at", 0) < STATE_LIFETIME_SECONDS:
        app.framework.clear_state_data(request.session, state)  # (Authlib reads expired states all the same)
        raise Refusal("expired")
    if request.GET.get("error") or not request.GET.get("code"):
        app.framework.clear_state_data(request.session, state)
        log.info("OIDC sign-in: the provider answered %s", text(request.GET.get("error"))[:64] or "without a code")
        raise Refusal("provider")
    with _provider_errors("token"):
        token = app.authorize_access_token(request)  # takes the state; checks the ID token
    claims = token.get("userinfo")
    if not claims:
        log.warning("OIDC sign-in: the token answer has no ID token")
        raise Refusal("provider")
    subject = text(claims.get("sub"))
    value = claims.get(settings.OIDC_EMPLOYEE_CLAIM)
    if value is None and _metadata(app).get("userinfo_endpoint"):
        # Many providers put profile claims only in the UserInfo answer, not in the ID token.
        with _provider_errors("userinfo"):
            answer = app.userinfo(token=token)
        if text(answer.get("sub")) != subject:  # OpenID Connect Core 5.3.2: another person's answer
            log.warning("OIDC sign-in: the UserInfo answer is about another subject")
            raise Refusal("provider")
        value = answer.get(settings.OIDC_EMPLOYEE_CLAIM)
    return Identity(subject=subject, value=text(value), field=settings.OIDC_EMPLOYEE_FIELD,
                    next_url=started.get("next", ""))


def _metadata(app) -> dict:
    metadata = app.load_server_metadata()
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched from (ID tokens
        # are then checked against the document's spelling, trailing slash or not).
        log.warning("OIDC sign-in: the discovery document names another issuer")
        raise Refusal("provider")
    return metadata


def _ui_locale() -> str:
    return "zh-CN" if (get_language() or "").startswith("zh") else "en"


@contextmanager
def _provider_errors(step: str):
    """Turns the provider's failures into refusals: no answer is `unreachable`, a refused or
    unacceptable answer (a bad code, an ID token that fails a check) is `provider`."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    try:
        yield
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else 599
        log.warning("OIDC sign-in: %s answered HTTP %s", step, status)
        raise Refusal("unreachable" if status >= 500 else "provider") from None
    except requests.RequestException as error:
        log.warning("OIDC sign-in: %s did not answer: %s", step, type(error).__name__)
        raise Refusal("unreachable") from None
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as error:
        log.warning("OIDC sign-in: %s refused: %s %s", step, type(error).__name__,
                    str(getattr(error, "error", "") or error)[:120])
        raise Refusal("provider") from None
