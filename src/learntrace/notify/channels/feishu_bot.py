"""Feishu (飞书) custom group bot: a signed card with a Markdown element. Only a plain user id
is mentioned (`<at id=all>` would call the whole group); data in the Markdown is rendered so
that it cannot add links, tags or mentions."""

import json
import time
from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import Message, Outcome, json_answer, left_out_line, request
from learntrace.notify.channels.signing import feishu_sign
from learntrace.notify.markup import fit, mentionable, one_line, platform_markdown

FREQUENCY_LIMITED = 11232
BODY_BYTES = 20 * 1024  # documented: a bot's request body, at most 20 KB


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_FEISHU_BOT_URL}/{quote(channel.token, safe='')}"
    mention = f"\n<at id={message.recipient.feishu_user_id}></at>" if mentionable(
        message.recipient.feishu_user_id) else ""

    def card(source):
        return {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": one_line(message.subject)}},
            "elements": [{"tag": "markdown", "content": platform_markdown(source) + mention}]}}

    def size(source):  # the whole body counts; room is kept for the signature fields
        return json.dumps(card(source)) + " " * 120

    body = card(fit(message.text, BODY_BYTES, size, left_out_line(message)))
    if channel.secret:
        timestamp = int(time.time())
        body = {"timestamp": str(timestamp), "sign": feishu_sign(timestamp, channel.secret), **body}
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "code", retry_codes=(FREQUENCY_LIMITED,))
