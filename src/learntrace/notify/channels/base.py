"""What every channel adapter receives and returns, and the HTTP call they share.

An outcome is one of: ok (the platform accepted the message), retry (it certainly did not,
try again later), failed (it will not, e.g. a wrong secret), unknown (the request left and
no answer came back: it may have been delivered, so it is not sent again automatically)."""

import json
import logging
from dataclasses import dataclass, field
from functools import cache

import httpx
from django.conf import settings
from django.utils import translation
from django.utils.translation import ngettext

from learntrace.notify.messages import language_of

logger = logging.getLogger("learntrace.notify")

OK, RETRY, FAILED, UNKNOWN = "ok", "retry", "failed", "unknown"
ANSWER_CHARS = 500
SYSTEM_BUSY = -1  # DingTalk and WeCom: "系统繁忙", documented as "try again later"


@dataclass
class Message:
    subject: str
    text: str  # Markdown, data escaped (see notify/markup.py)
    link: str  # absolute URL
    recipient: object  # org.Employee
    key: str = ""  # the delivery's unique key, for receivers that deduplicate
    extra: dict = field(default_factory=dict)


@dataclass
class Outcome:
    result: str
    status_code: int | None = None
    answer: str = ""
    error: str = ""


@cache
def _client() -> httpx.Client:
    """One client per process (thread-safe): its TLS context and connections are reused."""
    return httpx.Client(follow_redirects=False)


def left_out_line(message: Message):
    """`left_out(n)` for markup.fit: the line that says n lines were left out, in the person's language."""
    def left_out(count: int) -> str:
        with translation.override(language_of(message.recipient)):
            return ngettext("… %(count)d more line: open learntrace for all of it.",
                            "… %(count)d more lines: open learntrace for all of them.", count) % {"count": count}
    return left_out


def excerpt(response: httpx.Response) -> str:
    return response.text[:ANSWER_CHARS]


def request(method: str, url: str, **kwargs) -> tuple[httpx.Response | None, Outcome | None]:
    """Makes one HTTP call. Returns the response, or the outcome when there is none: a
    connection that never opened may be retried, a request that left without an answer may not."""
    try:
        return _client().request(method, url, timeout=settings.NOTIFY_HTTP_TIMEOUT_SECONDS, **kwargs), None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        return None, Outcome(RETRY, error=f"{type(exc).__name__}: the platform could not be reached")
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError,
            httpx.WriteError) as exc:
        return None, Outcome(UNKNOWN, error=f"{type(exc).__name__}: no answer after the request was sent")
    except httpx.HTTPError as exc:
        return None, Outcome(UNKNOWN, error=f"{type(exc).__name__}")


def json_answer(response: httpx.Response, code_field: str, *, ok_codes=(0,), retry_codes=(),
                token_codes=()) -> Outcome:
    """Reads a platform's JSON answer: HTTP 5xx and 429 are retried, other HTTP errors fail,
    then the platform's own error code decides."""
    answer = excerpt(response)
    if response.status_code >= 500 or response.status_code == 429:
        return Outcome(RETRY, response.status_code, answer, f"HTTP {response.status_code}")
    if response.status_code >= 400:
        return Outcome(FAILED, response.status_code, answer, f"HTTP {response.status_code}")
    try:
        code = json.loads(response.text).get(code_field)
    except (ValueError, AttributeError):
        return Outcome(FAILED, response.status_code, answer, "the answer is not JSON")
    if code in ok_codes:
        return Outcome(OK, response.status_code, answer)
    if code in retry_codes or code in token_codes:
        return Outcome(RETRY, response.status_code, answer, f"{code_field} {code}")
    return Outcome(FAILED, response.status_code, answer, f"{code_field} {code}")
