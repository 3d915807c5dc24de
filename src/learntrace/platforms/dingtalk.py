"""DingTalk: QR-scan sign-in on a desktop browser (OAuth2 of the new open platform) and the in-app
sign-in (免登, a JSAPI auth code). Both end in the organisation's DingTalk userid."""

from urllib.parse import urlencode

from django.conf import settings

from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal
from learntrace.platforms.base import Platform, StaleToken, call, part, rejected, seconds, text, with_app_token

STALE_TOKEN = (40014, 42001, 88)  # invalid or expired access_token
USER_NOT_IN_CORP = 60121  # the unionId belongs to nobody in this organisation


def _error(answer: dict) -> str:
    # The new API answers {"code", "message"}, the corp API {"errcode", "errmsg"}.
    return f"{answer.get('code', answer.get('errcode'))} {answer.get('message', answer.get('errmsg', ''))}"


class DingTalk(Platform):
    method = Method.DINGTALK.value
    field = "dingtalk_user_id"
    user_agent = r"\bDingTalk[/(]"
    code_parameter = "authCode"
    in_app_url_name = "platforms:dingtalk_in_app"

    def configured(self) -> bool:
        return bool(settings.DINGTALK_APP_KEY and settings.DINGTALK_APP_SECRET)

    def authorize_url(self, *, state: str, redirect_uri: str, in_app: bool) -> str:
        query = urlencode({"redirect_uri": redirect_uri, "response_type": "code",
                           "client_id": settings.DINGTALK_APP_KEY, "scope": "openid", "state": state,
                           "prompt": "consent"})
        return f"{settings.DINGTALK_LOGIN_URL}/oauth2/auth?{query}"

    def user_id(self, *, code: str, redirect_uri: str) -> str:
        """The code → the person's access token → their unionId → this organisation's userid."""
        answer = call("dingtalk", "user access token", "POST",
                      f"{settings.DINGTALK_API_URL}/v1.0/oauth2/userAccessToken",
                      json={"clientId": settings.DINGTALK_APP_KEY, "clientSecret": settings.DINGTALK_APP_SECRET,
                            "code": code, "grantType": "authorization_code"})
        user_token = text(answer.get("accessToken"))
        if not user_token:
            raise rejected("dingtalk", "user access token", _error(answer))
        me = call("dingtalk", "user profile", "GET", f"{settings.DINGTALK_API_URL}/v1.0/contact/users/me",
                  headers={"x-acs-dingtalk-access-token": user_token})
        union_id = text(me.get("unionId"), longest=128)
        if not union_id:
            raise rejected("dingtalk", "user profile", _error(me))
        return self._corp_user_id("userid by unionId", "/topapi/user/getbyunionid", {"unionid": union_id},
                                  union_id=union_id)

    def user_id_in_app(self, code: str) -> str:
        """The JSAPI's auth code (requestAuthCode inside the app) → this organisation's userid."""
        return self._corp_user_id("in-app user info", "/topapi/v2/user/getuserinfo", {"code": code})

    def _corp_user_id(self, step: str, path: str, body: dict, union_id: str = "") -> str:
        def use(token: str) -> str:
            answer = call("dingtalk", step, "POST", f"{settings.DINGTALK_OAPI_URL}{path}",
                          params={"access_token": token}, json=body)
            errcode = answer.get("errcode")
            if errcode in STALE_TOKEN:
                raise StaleToken
            result = part(answer, "result")
            if union_id and (errcode == USER_NOT_IN_CORP or (errcode == 0 and result.get("contact_type") == 1)):
                raise Refusal("unknown", union_id)  # not a member of this organisation (or an external contact)
            user_id = text(result.get("userid"), longest=128)
            if errcode != 0 or not user_id:
                raise rejected("dingtalk", step, _error(answer))
            return user_id

        identity = (settings.DINGTALK_OAPI_URL, settings.DINGTALK_APP_KEY, settings.DINGTALK_APP_SECRET)
        return with_app_token("dingtalk", identity, self._app_token, use)

    def _app_token(self) -> tuple[str, int]:
        answer = call("dingtalk", "app access token", "GET", f"{settings.DINGTALK_OAPI_URL}/gettoken",
                      params={"appkey": settings.DINGTALK_APP_KEY, "appsecret": settings.DINGTALK_APP_SECRET})
        token = text(answer.get("access_token"))
        if answer.get("errcode") != 0 or not token:
            raise rejected("dingtalk", "app access token", _error(answer))
        return token, seconds(answer.get("expires_in"))
