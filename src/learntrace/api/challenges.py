"""The WWW-Authenticate challenge of the API's refusals (RFC 6750 §3): a 401 says how to
authenticate; a token that was sent but is refused is an "invalid_token", a missing one gets
no error code; a token without the scope needed is told which scope it lacks."""

REALM = 'Bearer realm="learntrace"'
REFUSED_TOKEN_CODES = frozenset({"invalid_token", "token_expired", "token_revoked"})


def www_authenticate(code: str, scope: str = "") -> str | None:
    """The challenge for an error code of the API, or None where the error has none."""
    if code in REFUSED_TOKEN_CODES:
        return f'{REALM}, error="invalid_token"'
    if code == "insufficient_scope":
        return f'{REALM}, error="insufficient_scope", scope="{scope}"'
    if code == "unauthenticated":
        return REALM
    return None
