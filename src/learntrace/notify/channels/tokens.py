"""The app access token of a corp channel (DingTalk, WeCom, Feishu), kept on the channel row until shortly
before it expires so that every worker process shares it."""

import datetime as dt
import json

from django.utils import timezone

from learntrace.notify.channels.base import FAILED, Outcome, excerpt, json_answer, request

EXPIRY_MARGIN = dt.timedelta(minutes=5)


def fetch_gettoken(url: str, params: dict):
    """DingTalk's and WeCom's `gettoken`: (token, lifetime in seconds, response) or (None, 0, failure outcome)."""
    response, failure = request("GET", url, params=params)
    if failure:
        return None, 0, failure
    outcome = json_answer(response, "errcode")
    if outcome.result != "ok":
        outcome.error = f"gettoken: {outcome.error}"
        return None, 0, outcome
    answer = json.loads(response.text)
    return answer.get("access_token", ""), int(answer.get("expires_in", 7200)), response


def cached_token(channel, fetch) -> tuple[str | None, Outcome | None]:
    """`fetch(channel)` answers (token, lifetime in seconds, response) or (None, 0, failure outcome)."""
    now = timezone.now()
    if channel.cached_access_token and channel.cached_access_token_expires_at \
            and channel.cached_access_token_expires_at > now + EXPIRY_MARGIN:
        return channel.cached_access_token, None
    token, lifetime, answer = fetch(channel)
    if token is None:
        return None, answer
    if not token:
        return None, Outcome(FAILED, answer.status_code, excerpt(answer), "no access token in the answer")
    channel.cached_access_token = token
    channel.cached_access_token_expires_at = now + dt.timedelta(seconds=lifetime)
    channel.save(update_fields=["cached_access_token", "cached_access_token_expires_at"])
    return token, None


def forget_token(channel) -> None:
    channel.cached_access_token = ""
    channel.cached_access_token_expires_at = None
    channel.save(update_fields=["cached_access_token", "cached_access_token_expires_at"])


def answer_code(response, code_field: str):
    """The platform's own error code, whatever the HTTP status (Feishu answers 400 with one)."""
    try:
        return json.loads(response.text).get(code_field)
    except (ValueError, AttributeError):
        return None


def send_with_token(channel, fetch, post, *, code_field: str, invalid_token_codes):
    """`post(token)` makes the call; when the platform says the cached token is no longer valid
    (revoked, or expired early), it is fetched again and the call made once more."""
    for _attempt in range(2):
        token, failure = cached_token(channel, fetch)
        if failure:
            return None, failure
        response, failure = post(token)
        if failure:
            return None, failure
        if answer_code(response, code_field) not in invalid_token_codes:
            return response, None
        forget_token(channel)
    return response, None
