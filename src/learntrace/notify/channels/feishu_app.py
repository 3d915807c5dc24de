"""Feishu app message to one person (by user id), sent by the tenant's self-built app with its bot.

The tenant access token is fetched with the App ID and App Secret and kept on the channel row until
shortly before it expires, shared by every worker."""

import json

from django.conf import settings

from learntrace.notify.channels.base import FAILED, RETRY, Message, Outcome, excerpt, json_answer, request
from learntrace.notify.channels.tokens import answer_code, send_with_token
from learntrace.notify.markup import literal, platform_text

INVALID_TOKEN = (99991663, 99991661, 99991668)  # invalid, missing or expired tenant_access_token


def _fetch_token(channel):
    url = f"{settings.NOTIFY_FEISHU_API_URL}/open-apis/auth/v3/tenant_access_token/internal"
    response, failure = request("POST", url, json={"app_id": channel.app_key, "app_secret": channel.secret})
    if failure:
        return None, 0, failure
    outcome = json_answer(response, "code")
    if outcome.result != "ok":
        outcome.error = f"tenant_access_token: {outcome.error}"
        return None, 0, outcome
    answer = json.loads(response.text)
    return answer.get("tenant_access_token", ""), int(answer.get("expire", 7200)), response


def send(channel, message: Message) -> Outcome:
    user_id = message.recipient.feishu_user_id
    if not user_id:
        return Outcome(FAILED, error="the person has no Feishu user id")
    text = f"{platform_text(literal(message.subject))}\n{platform_text(message.text)}"
    content = json.dumps({"text": text}, ensure_ascii=False)

    def post(token):
        return request("POST", f"{settings.NOTIFY_FEISHU_API_URL}/open-apis/im/v1/messages",
                       params={"receive_id_type": "user_id"}, headers={"Authorization": f"Bearer {token}"},
                       json={"receive_id": user_id, "msg_type": "text", "content": content})

    response, failure = send_with_token(channel, _fetch_token, post, code_field="code",
                                        invalid_token_codes=INVALID_TOKEN)
    if failure:
        return failure
    code = answer_code(response, "code")
    if code in INVALID_TOKEN:
        return Outcome(RETRY, response.status_code, excerpt(response), f"code {code}")
    if response.status_code == 400 and code is not None:
        # Feishu answers its refusals (unknown user, bad content) with HTTP 400 and a code.
        return Outcome(FAILED, response.status_code, excerpt(response), f"code {code}")
    return json_answer(response, "code")
