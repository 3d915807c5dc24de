"""Feishu (飞书, Lark): OAuth sign-in, the same on a desktop browser (the authorisation page shows a QR
code) and inside the Feishu app (the page confirms by itself). The code becomes a user access token
(checked against the redirect_uri it was issued for), and that token the person's user_id."""

from urllib.parse import urlencode

from django.conf import settings

from learntrace.accounts.models import Method
from learntrace.platforms.base import Platform, call, part, rejected, text


class Feishu(Platform):
    method = Method.FEISHU.value
    field = "feishu_user_id"
    user_agent = r"\bLark/|\bFeishu"
    in_app_url_name = "platforms:feishu_start"

    def configured(self) -> bool:
        return bool(settings.FEISHU_APP_ID and settings.FEISHU_APP_SECRET)

    def authorize_url(self, *, state: str, redirect_uri: str, in_app: bool) -> str:
        query = urlencode({"client_id": settings.FEISHU_APP_ID, "response_type": "code",
                           "redirect_uri": redirect_uri, "state": state})
        return f"{settings.FEISHU_LOGIN_URL}/open-apis/authen/v1/authorize?{query}"

    def user_id(self, *, code: str, redirect_uri: str) -> str:
        answer = call("feishu", "user access token", "POST",
                      f"{settings.FEISHU_API_URL}/open-apis/authen/v2/oauth/token",
                      json={"grant_type": "authorization_code", "client_id": settings.FEISHU_APP_ID,
                            "client_secret": settings.FEISHU_APP_SECRET, "code": code, "redirect_uri": redirect_uri})
        user_token = text(answer.get("access_token"), longest=4096)  # Feishu's v2 tokens are JWTs
        if answer.get("code") != 0 or not user_token:
            raise rejected("feishu", "user access token",
                           f"{answer.get('code')} {answer.get('error', '')} {answer.get('error_description', '')}")
        info = call("feishu", "user info", "GET", f"{settings.FEISHU_API_URL}/open-apis/authen/v1/user_info",
                    headers={"Authorization": f"Bearer {user_token}"})
        if info.get("code") != 0:
            raise rejected("feishu", "user info", f"{info.get('code')} {info.get('msg', '')}")
        user_id = text(part(info, "data").get("user_id"), longest=128)
        if not user_id:
            # Feishu leaves user_id out unless the app may read it (contact:user.employee_id:readonly).
            raise rejected("feishu", "user info", "no user_id: the app lacks the permission to read user ids")
        return user_id
