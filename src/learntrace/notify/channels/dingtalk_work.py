"""DingTalk work notification (工作通知) to one person, sent by the corp's internal app.

The app's access token is fetched with AppKey and AppSecret and kept on the channel row
until shortly before it expires, so every worker process shares it; the message itself is
sent asynchronously by DingTalk (the answer carries a task id)."""

from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import (
    FAILED,
    SYSTEM_BUSY,
    Message,
    Outcome,
    json_answer,
    left_out_line,
    request,
)
from learntrace.notify.channels.tokens import fetch_gettoken, send_with_token
from learntrace.notify.markup import fit, mentionable, one_line, platform_markdown

# The cached token was revoked (40014), expired (42001), or is otherwise not accepted (88).
INVALID_TOKEN = (40014, 42001, 88)
# DingTalk documents no byte limit for a work notification's Markdown, only "about 500
# characters" as advice: longer reminders are kept within what its robots accept.
MARKDOWN_BYTES = 4096


def _fetch_token(channel):
    return fetch_gettoken(f"{settings.NOTIFY_DINGTALK_API_URL}/gettoken",
                          {"appkey": channel.app_key, "appsecret": channel.secret})


def send(channel, message: Message) -> Outcome:
    user_id = message.recipient.dingtalk_user_id
    if not user_id:
        return Outcome(FAILED, error="the person has no DingTalk user id")
    if not mentionable(user_id):  # userid_list is comma-separated: one id must not name others
        return Outcome(FAILED, error="the person's DingTalk user id is not a single user id")
    text = platform_markdown(fit(message.text, MARKDOWN_BYTES, platform_markdown, left_out_line(message)))
    body = {
        "agent_id": int(channel.agent_id),
        "userid_list": user_id,
        "msg": {"msgtype": "markdown", "markdown": {"title": one_line(message.subject), "text": text}},
    }

    def post(token):
        url = (f"{settings.NOTIFY_DINGTALK_API_URL}/topapi/message/corpconversation/asyncsend_v2"
               f"?access_token={quote(token, safe='')}")
        return request("POST", url, json=body)

    # A token error drops the cached token and sends once more with a fresh one.
    response, failure = send_with_token(channel, _fetch_token, post, code_field="errcode",
                                        invalid_token_codes=INVALID_TOKEN)
    if failure:
        return failure
    return json_answer(response, "errcode", retry_codes=(SYSTEM_BUSY,), token_codes=INVALID_TOKEN)
