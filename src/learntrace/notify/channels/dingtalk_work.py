"""DingTalk work notification (工作通知) to one person, sent by the corp's internal app.

The app's access token is fetched with AppKey and AppSecret and kept on the channel row
until shortly before it expires, so every worker process shares it; the message itself is
sent asynchronously by DingTalk (the answer carries a task id)."""

import datetime as dt
import json
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from learntrace.notify.channels.base import FAILED, Message, Outcome, excerpt, json_answer, request
from learntrace.notify.markup import mentionable, one_line, platform_markdown

INVALID_TOKEN = (40014, 88)  # the cached token was revoked or expired early
EXPIRY_MARGIN = dt.timedelta(minutes=5)


def access_token(channel) -> tuple[str | None, Outcome | None]:
    now = timezone.now()
    if channel.cached_access_token and channel.cached_access_token_expires_at \
            and channel.cached_access_token_expires_at > now + EXPIRY_MARGIN:
        return channel.cached_access_token, None
    response, failure = request("GET", f"{settings.NOTIFY_DINGTALK_API_URL}/gettoken",
                                params={"appkey": channel.app_key, "appsecret": channel.secret})
    if failure:
        return None, failure
    outcome = json_answer(response, "errcode")
    if outcome.result != "ok":
        outcome.error = f"gettoken: {outcome.error}"
        return None, outcome
    answer = json.loads(response.text)
    token = answer.get("access_token", "")
    if not token:
        return None, Outcome(FAILED, response.status_code, excerpt(response), "gettoken: no access_token")
    channel.cached_access_token = token
    channel.cached_access_token_expires_at = now + dt.timedelta(seconds=int(answer.get("expires_in", 7200)))
    channel.save(update_fields=["cached_access_token", "cached_access_token_expires_at"])
    return token, None


def forget_token(channel) -> None:
    channel.cached_access_token = ""
    channel.cached_access_token_expires_at = None
    channel.save(update_fields=["cached_access_token", "cached_access_token_expires_at"])


def send(channel, message: Message) -> Outcome:
    user_id = message.recipient.dingtalk_user_id
    if not user_id:
        return Outcome(FAILED, error="the person has no DingTalk user id")
    if not mentionable(user_id):  # userid_list is comma-separated: one id must not name others
        return Outcome(FAILED, error="the person's DingTalk user id is not a single user id")
    token, failure = access_token(channel)
    if failure:
        return failure
    url = (f"{settings.NOTIFY_DINGTALK_API_URL}/topapi/message/corpconversation/asyncsend_v2"
           f"?access_token={quote(token, safe='')}")
    body = {
        "agent_id": int(channel.agent_id),
        "userid_list": user_id,
        "msg": {"msgtype": "markdown", "markdown": {"title": one_line(message.subject),
                                                    "text": platform_markdown(message.text)}},
    }
    response, failure = request("POST", url, json=body)
    if failure:
        return failure
    outcome = json_answer(response, "errcode", token_codes=INVALID_TOKEN)
    if outcome.result == "retry" and outcome.error in {f"errcode {code}" for code in INVALID_TOKEN}:
        forget_token(channel)
    return outcome
