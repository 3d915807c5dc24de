"""DingTalk custom group robot (自定义机器人): a signed Markdown message that @mentions the person.

Only `at.atMobiles` mentions anyone, and only a real mobile number goes there; the text is
rendered so that data cannot add links or formatting (see notify/markup.py)."""

import time
from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import SYSTEM_BUSY, Message, Outcome, json_answer, left_out_line, request
from learntrace.notify.channels.signing import dingtalk_sign
from learntrace.notify.markup import fit, is_mobile, one_line, platform_markdown

SEND_TOO_FAST = 130101  # more than 20 messages a minute
MARKDOWN_BYTES = 4096  # no documented byte limit: kept as small as WeCom's robot Markdown


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_DINGTALK_ROBOT_URL}?access_token={quote(channel.token, safe='')}"
    if channel.secret:
        timestamp = int(time.time() * 1000)
        url += f"&timestamp={timestamp}&sign={dingtalk_sign(timestamp, channel.secret)}"
    mobile = message.recipient.mobile if is_mobile(message.recipient.mobile) else ""
    text = platform_markdown(fit(message.text, MARKDOWN_BYTES, platform_markdown, left_out_line(message)))
    if mobile:
        text += f"\n\n@{mobile}"
    body = {
        "msgtype": "markdown",
        "markdown": {"title": one_line(message.subject), "text": text},
        "at": {"atMobiles": [mobile] if mobile else [], "isAtAll": False},
    }
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "errcode", retry_codes=(SEND_TOO_FAST, SYSTEM_BUSY))
