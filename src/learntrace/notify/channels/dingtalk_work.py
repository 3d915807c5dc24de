"""DingTalk work notification (工作通知) to one person, sent by the corp's internal app.

The app's access token is fetched with AppKey and AppSecret and kept on the channel row
until shortly before it expires, so every worker process shares it; the message itself is
sent asynchronously by DingTalk (the answer carries a task id)."""

from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import FAILED, Message, Outcome, json_answer, request
from learntrace.notify.channels.tokens import cached_token, fetch_gettoken, forget_token
from learntrace.notify.markup import mentionable, one_line, platform_markdown

INVALID_TOKEN = (40014, 88)  # the cached token was revoked or expired early


def _fetch_token(channel):
    return fetch_gettoken(f"{settings.NOTIFY_DINGTALK_API_URL}/gettoken",
                          {"appkey": channel.app_key, "appsecret": channel.secret})


def send(channel, message: Message) -> Outcome:
    user_id = message.recipient.dingtalk_user_id
    if not user_id:
        return Outcome(FAILED, error="the person has no DingTalk user id")
    if not mentionable(user_id):  # userid_list is comma-separated: one id must not name others
        return Outcome(FAILED, error="the person's DingTalk user id is not a single user id")
    token, failure = cached_token(channel, _fetch_token)
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
