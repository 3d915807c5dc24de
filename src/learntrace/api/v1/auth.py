"""Who is calling: a bearer token (acting as its owner, within its scopes and rate limit)
or a logged-in browser (session cookie, with the CSRF check on every unsafe method)."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from learntrace.api import tokens
from learntrace.api.challenges import www_authenticate
from learntrace.api.models import ApiToken
from learntrace.api.v1.errors import ApiError
from learntrace.org.access import may_change, roles_of


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        if "Accept-Language" in request.headers:  # systems ask for their language; pages use the cookie
            translation.activate(translation.get_language_from_request(request))
        row = tokens.find_token(token)
        if row is None:
            raise ApiError(401, "invalid_token", _("This API token is not valid."))
        request.api_token = row  # every use is logged, refused ones too
        if row.revoked_at is not None:
            raise ApiError(401, "token_revoked", _("This API token has been revoked."))
        if row.expires_at <= timezone.now():
            raise ApiError(401, "token_expired", _("This API token has expired."))
        if not row.user.is_active:
            raise ApiError(401, "invalid_token", _("The user of this API token is deactivated."))
        allowed, retry_after = tokens.within_rate_limit(row)
        if not allowed:
            raise ApiError(429, "rate_limited", _("Too many requests with this token: wait %(seconds)d s.")
                           % {"seconds": retry_after}, headers={"Retry-After": str(retry_after)})
        request.user = row.user
        return row


class BrowserSession(SessionAuth):
    """Django's session, CSRF-checked (SessionAuth's default)."""


bearer = BearerToken()
session = BrowserSession()


def need(request, *scopes: str):
    """The roles of the caller, once a token holds one of `scopes` (a browser session holds all)."""
    if isinstance(request.auth, ApiToken) and not set(scopes) & set(request.auth.scopes):
        raise ApiError(403, "insufficient_scope", _("This token lacks the scope %(scope)s.")
                       % {"scope": " or ".join(scopes)},
                       headers={"WWW-Authenticate": www_authenticate("insufficient_scope", " ".join(scopes))})
    return roles_of(request.user)


def need_admin(request, *scopes: str):
    roles = need(request, *scopes)
    if not may_change(roles):
        raise ApiError(403, "forbidden", _("Only training admins may change this."))
    return roles
