"""WeCom (企业微信) group robot. Markdown mentions a member only by WeCom user id (`<@userid>`
in the content); a person known only by mobile gets a text message with
`mentioned_mobile_list`, the one message type that mentions by mobile. Only a plain user id or
a real mobile number is ever mentioned ("@all" in either list, or `<@all>`, would call the whole
group), and data in the Markdown is rendered so that it cannot add links or mentions."""

from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import SYSTEM_BUSY, Message, Outcome, json_answer, left_out_line, request
from learntrace.notify.markup import (
    fit,
    is_mobile,
    mentionable,
    one_line,
    plain_text,
    platform_literal,
    platform_markdown,
)

FREQUENCY_LIMIT = 45009
# Documented: text content at most 2048 bytes, Markdown content at most 4096 bytes (UTF-8).
TEXT_BYTES, MARKDOWN_BYTES = 2048, 4096


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_WECOM_ROBOT_URL}?key={quote(channel.token, safe='')}"
    person = message.recipient
    user_id = person.wecom_user_id if mentionable(person.wecom_user_id) else ""
    mobile = person.mobile if is_mobile(person.mobile) else ""
    left_out = left_out_line(message)
    if mobile and not user_id:
        def text(markdown):
            return f"{one_line(message.subject)}\n{plain_text(markdown)}"

        body = {"msgtype": "text", "text": {"content": text(fit(message.text, TEXT_BYTES, text, left_out)),
                                            "mentioned_mobile_list": [mobile]}}
    else:
        mention = f"\n<@{user_id}>" if user_id else ""

        def markdown(source):
            return f"**{platform_literal(message.subject)}**\n{platform_markdown(source)}{mention}"

        body = {"msgtype": "markdown", "markdown": {"content": markdown(fit(message.text, MARKDOWN_BYTES, markdown,
                                                                            left_out))}}
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "errcode", retry_codes=(FREQUENCY_LIMIT, SYSTEM_BUSY))
