"""WeCom (企业微信) group robot: a Markdown message that mentions the person by mobile."""

from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import Message, Outcome, json_answer, request

FREQUENCY_LIMIT = 45009


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_WECOM_ROBOT_URL}?key={quote(channel.token, safe='')}"
    mobile = message.recipient.mobile
    body = {
        "msgtype": "markdown",
        "markdown": {"content": f"**{message.subject}**\n{message.text}",
                     "mentioned_mobile_list": [mobile] if mobile else []},
    }
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "errcode", retry_codes=(FREQUENCY_LIMIT,))
