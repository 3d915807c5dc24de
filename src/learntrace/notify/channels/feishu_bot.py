"""Feishu (飞书) custom group bot: a signed card with a Markdown element."""

import time
from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import Message, Outcome, json_answer, request
from learntrace.notify.channels.signing import feishu_sign

FREQUENCY_LIMITED = 11232


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_FEISHU_BOT_URL}/{quote(channel.token, safe='')}"
    text = message.text
    if message.recipient.feishu_user_id:
        text += f"\n<at id={message.recipient.feishu_user_id}></at>"
    body = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": message.subject}},
            "elements": [{"tag": "markdown", "content": text}],
        },
    }
    if channel.secret:
        timestamp = int(time.time())
        body = {"timestamp": str(timestamp), "sign": feishu_sign(timestamp, channel.secret), **body}
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "code", retry_codes=(FREQUENCY_LIMITED,))
