"""WeCom (企业微信): QR-scan sign-in on a desktop browser (the web login page) and silent OAuth2 inside
the WeCom app (snsapi_base). Both codes are turned into the member's userid by the same call."""

from urllib.parse import urlencode

from django.conf import settings

from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal
from learntrace.platforms.base import Platform, StaleToken, call, rejected, seconds, text, with_app_token

STALE_TOKEN = (40014, 42001)  # invalid or expired access_token


def _error(answer: dict) -> str:
    return f"{answer.get('errcode')} {answer.get('errmsg', '')}"


class WeCom(Platform):
    method = Method.WECOM.value
    field = "wecom_user_id"
    user_agent = r"\bwxwork/"
    in_app_url_name = "platforms:wecom_start"

    def configured(self) -> bool:
        return bool(settings.WECOM_CORP_ID and settings.WECOM_AGENT_ID and settings.WECOM_SECRET)

    def authorize_url(self, *, state: str, redirect_uri: str, in_app: bool) -> str:
        if in_app:
            query = urlencode({"appid": settings.WECOM_CORP_ID, "redirect_uri": redirect_uri, "response_type": "code",
                               "scope": "snsapi_base", "state": state, "agentid": settings.WECOM_AGENT_ID})
            return f"{settings.WECOM_OAUTH_URL}/connect/oauth2/authorize?{query}#wechat_redirect"
        query = urlencode({"login_type": "CorpApp", "appid": settings.WECOM_CORP_ID,
                           "agentid": settings.WECOM_AGENT_ID, "redirect_uri": redirect_uri, "state": state})
        return f"{settings.WECOM_LOGIN_URL}/wwlogin/sso/login?{query}"

    def user_id(self, *, code: str, redirect_uri: str) -> str:
        def use(token: str) -> str:
            answer = call("wecom", "user info", "GET", f"{settings.WECOM_API_URL}/cgi-bin/auth/getuserinfo",
                          params={"access_token": token, "code": code})
            errcode = answer.get("errcode")
            if errcode in STALE_TOKEN:
                raise StaleToken
            if errcode != 0:
                raise rejected("wecom", "user info", _error(answer))
            if not (answer.get("userid") or answer.get("UserId")):
                raise Refusal("unknown")  # not a member of this organisation (WeCom gives an openid only)
            user_id = text(answer.get("userid") or answer.get("UserId"), longest=128)
            if not user_id:
                raise rejected("wecom", "user info", "an odd userid")
            return user_id

        identity = (settings.WECOM_API_URL, settings.WECOM_CORP_ID, settings.WECOM_SECRET)
        return with_app_token("wecom", identity, self._app_token, use)

    def _app_token(self) -> tuple[str, int]:
        answer = call("wecom", "app access token", "GET", f"{settings.WECOM_API_URL}/cgi-bin/gettoken",
                      params={"corpid": settings.WECOM_CORP_ID, "corpsecret": settings.WECOM_SECRET})
        token = text(answer.get("access_token"))
        if answer.get("errcode") != 0 or not token:
            raise rejected("wecom", "app access token", _error(answer))
        return token, seconds(answer.get("expires_in"))
