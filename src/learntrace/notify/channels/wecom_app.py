"""WeCom app message (应用消息) to one person, sent by the corp's self-built app.

The corp access token is fetched with the CorpID and the app's Secret and kept on the channel row
until shortly before it expires, shared by every worker. WeCom answers errcode 0 even when the
person is outside the app's visible range; it names them in `invaliduser`, which is a failure here."""

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
from learntrace.notify.channels.tokens import answer_code, fetch_gettoken, send_with_token
from learntrace.notify.markup import fit, platform_literal, platform_markdown

INVALID_TOKEN = (40014, 42001, 40001)  # invalid or expired access_token, invalid credential
MARKDOWN_BYTES = 2048  # documented: an app message's Markdown content, at most 2048 bytes (UTF-8)


def _fetch_token(channel):
    return fetch_gettoken(f"{settings.NOTIFY_WECOM_API_URL}/cgi-bin/gettoken",
                          {"corpid": channel.app_key, "corpsecret": channel.secret})


def send(channel, message: Message) -> Outcome:
    user_id = message.recipient.wecom_user_id
    if not user_id:
        return Outcome(FAILED, error="the person has no WeCom user id")

    def markdown(source):
        return f"**{platform_literal(message.subject)}**\n{platform_markdown(source)}"

    content = markdown(fit(message.text, MARKDOWN_BYTES, markdown, left_out_line(message)))
    body = {"touser": user_id, "msgtype": "markdown", "agentid": int(channel.agent_id),
            "markdown": {"content": content}}

    def post(token):
        url = f"{settings.NOTIFY_WECOM_API_URL}/cgi-bin/message/send?access_token={quote(token, safe='')}"
        return request("POST", url, json=body)

    response, failure = send_with_token(channel, _fetch_token, post, code_field="errcode",
                                        invalid_token_codes=INVALID_TOKEN)
    if failure:
        return failure
    outcome = json_answer(response, "errcode", retry_codes=(SYSTEM_BUSY,), token_codes=INVALID_TOKEN)
    if outcome.result == "ok" and answer_code(response, "invaliduser"):
        return Outcome(FAILED, response.status_code, outcome.answer, "the person is outside the app's range")
    return outcome
