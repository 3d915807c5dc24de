"""A generic webhook: the message as JSON, signed with the shared secret so the receiver can
check where it came from, and keyed so it can drop a message it has seen."""

import json
import time

from learntrace.notify.channels.base import FAILED, OK, RETRY, Message, Outcome, excerpt, request
from learntrace.notify.channels.signing import webhook_signature


def send(channel, message: Message) -> Outcome:
    person = message.recipient
    payload = {
        "event": "learntrace.reminder",
        "key": message.key,
        "subject": message.subject,
        "text": message.text,
        "link": message.link,
        "recipient": {"employee_no": person.employee_no, "name": person.name, "email": person.email,
                      "mobile": person.mobile, "dingtalk_user_id": person.dingtalk_user_id,
                      "wecom_user_id": person.wecom_user_id, "feishu_user_id": person.feishu_user_id},
    }
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Learntrace-Timestamp": str(timestamp),
        "X-Learntrace-Signature": webhook_signature(timestamp, body, channel.secret),
        "Idempotency-Key": message.key,
    }
    response, failure = request("POST", channel.token, content=body, headers=headers)
    if failure:
        return failure
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(OK, code, excerpt(response))
    result = RETRY if code >= 500 or code == 429 else FAILED
    return Outcome(result, code, excerpt(response), f"HTTP {code}")
