"""What the DingTalk, WeCom and Feishu adapters share: the shape of an adapter, JSON calls that turn
every failure into `PlatformError`, and the app's access token, kept in the cache until shortly before
the platform expires it.

No maintained library covers the sign-in of these three platforms, so each adapter is a few calls with
httpx. Nothing here logs a token, a secret or an authorisation code.
"""

import functools
import hashlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from django.core.cache import cache

from learntrace.accounts import methods

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10  # someone is waiting on the sign-in page
TOKEN_MARGIN_SECONDS = 300  # an app token is renewed this long before the platform's expiry


class PlatformError(Exception):
    """The platform did not confirm who this is. `reason` is the sign-in refusal's reason; `detail`
    the platform's error code and message, for the server log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


class StaleToken(Exception):
    """The platform no longer accepts the cached app token (revoked, or expired early)."""


class Platform(ABC):
    """One platform's sign-in: where its authorisation page is and how a code becomes its user id."""

    method: str  # accounts.models.Method
    field: str  # the Employee field that holds this platform's user id
    user_agent: str  # how the platform's app names itself in its user agent (a regular expression)
    code_parameter = "code"  # the query parameter that carries the code back to the callback
    in_app_url_name: str  # where a visitor inside the app starts

    @abstractmethod
    def configured(self) -> bool:
        """Whether the settings this source needs are all given."""

    @abstractmethod
    def authorize_url(self, *, state: str, redirect_uri: str, in_app: bool) -> str:
        """The platform's page that asks the person (or the app, silently) to authorise this site."""

    @abstractmethod
    def user_id(self, *, code: str, redirect_uri: str) -> str:
        """The platform's user id of whoever the code was issued to; raises PlatformError or Refusal."""

    def available(self) -> bool:
        return methods.enabled(self.method) and self.configured()

    def in_app(self, request) -> bool:
        return bool(re.search(self.user_agent, request.META.get("HTTP_USER_AGENT", ""), re.IGNORECASE))


@functools.cache
def _client() -> httpx.Client:
    """One client per process (thread-safe): its TLS context and connections are reused, which a
    directory sync's thousands of calls need (a new client per call costs tens of milliseconds)."""
    return httpx.Client(follow_redirects=False)


def call(platform: str, step: str, method: str, url: str, **kwargs) -> dict:
    """The platform's JSON answer; a network failure or a server error is `unreachable`."""
    try:
        response = _client().request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except httpx.HTTPError as error:
        log.warning("%s sign-in: %s (%s) did not answer: %s", platform, step, urlsplit(url).netloc,
                    type(error).__name__)
        raise PlatformError("unreachable", f"{step}: {type(error).__name__}") from None
    if response.status_code >= 500:
        log.warning("%s sign-in: %s answered HTTP %s", platform, step, response.status_code)
        raise PlatformError("unreachable", f"{step}: HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise rejected(platform, step, f"HTTP {response.status_code}, not a JSON object")
    return answer


def seconds(value, default: int = 7200) -> int:
    """A lifetime the platform announced; its documented default when the answer is odd."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return default


def text(value, longest: int = 2048) -> str:
    """An id or token from an answer: a non-empty string (or number) of sane length, else ""."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    value = str(value).strip()
    return value if len(value) <= longest else ""


def part(answer: dict, key: str) -> dict:
    """A nested object of an answer, or an empty one when the platform sent something else."""
    value = answer.get(key)
    return value if isinstance(value, dict) else {}


def rejected(platform: str, step: str, detail) -> PlatformError:
    """The platform refused a step (a bad or used code, wrong app credentials): logged for the admin."""
    detail = str(detail)[:200]
    log.warning("%s sign-in: %s refused: %s", platform, step, detail)
    return PlatformError("provider", f"{step}: {detail}")


def _token_key(platform: str, identity: tuple[str, ...]) -> str:
    # The secret is part of the identity so that a rotated secret gets a new token; only its hash is stored.
    return f"platforms:app-token:{platform}:" + hashlib.sha256("\n".join(identity).encode()).hexdigest()


def with_app_token(platform: str, identity: tuple[str, ...], fetch: Callable[[], tuple[str, int]],
                   use: Callable[[str], str]) -> str:
    """`use(token)` with the app's access token: cached (the platforms limit how often one is fetched),
    fetched again once when the platform answers that the cached one is stale."""
    key = _token_key(platform, identity)
    try:
        return use(_app_token(key, fetch))
    except StaleToken:
        cache.delete(key)
    try:
        return use(_app_token(key, fetch))
    except StaleToken:
        cache.delete(key)
        raise rejected(platform, "app access token", "a freshly fetched token was refused") from None


def _app_token(key: str, fetch: Callable[[], tuple[str, int]]) -> str:
    token = cache.get(key)
    if not token:
        token, expires_in = fetch()
        cache.set(key, token, max(expires_in - TOKEN_MARGIN_SECONDS, 60))
    return token
