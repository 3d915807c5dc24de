"""WeCom (企业微信) group robot. Markdown mentions a member only by WeCom user id (`<@userid>`
in the content); a person known only by mobile gets a text message with
`mentioned_mobile_list`, the one message type that mentions by mobile."""

from urllib.parse import quote

from django.conf import settings

from learntrace.notify.channels.base import Message, Outcome, json_answer, plain_text, request

FREQUENCY_LIMIT = 45009


def send(channel, message: Message) -> Outcome:
    url = f"{settings.NOTIFY_WECOM_ROBOT_URL}?key={quote(channel.token, safe='')}"
    person = message.recipient
    if person.mobile and not person.wecom_user_id:
        body = {"msgtype": "text", "text": {"content": f"{message.subject}\n{plain_text(message.text)}",
                                            "mentioned_mobile_list": [person.mobile]}}
    else:
        mention = f"\n<@{person.wecom_user_id}>" if person.wecom_user_id else ""
        body = {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.text}{mention}"}}
    response, failure = request("POST", url, json=body)
    return failure or json_answer(response, "errcode", retry_codes=(FREQUENCY_LIMIT,))
