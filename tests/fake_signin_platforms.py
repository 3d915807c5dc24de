"""A local HTTP server that plays DingTalk, WeCom and Feishu for sign-in, with the checks the real
platforms make: the app's key and secret for its access token, tokens that expire, authorisation
codes that work once and expire after five minutes, the redirect_uri within the app's registered
address (and, for Feishu, the same one when the code is exchanged), and the state passed back.

Its authorisation pages play the QR scan (or the in-app confirmation): they redirect straight back
with a code for whoever `scanner` names, or with an error when `scanner` is None.
"""

import json
import secrets
import threading
import time
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlencode

from local_server import JsonHandler, LocalServer

CODE_SECONDS = 5 * 60
TOKEN_SECONDS = 2 * 3600

DINGTALK_KEY, DINGTALK_SECRET, DINGTALK_CORP = "dingappkey01", "dingtalk-app-secret", "dingcorp01"
WECOM_CORP, WECOM_AGENT, WECOM_SECRET = "wwcorp01", "1000002", "wecom-app-secret"
FEISHU_APP, FEISHU_SECRET = "cli_app01", "feishu-app-secret"


class Denied(Exception):
    """Answer with this status and JSON body instead of going on."""

    def __init__(self, status: int, body: dict):
        super().__init__(body)
        self.status = status
        self.body = body


class SignInPlatforms(LocalServer):
    def __init__(self, trusted_redirect: str):
        self.trusted_redirect = trusted_redirect  # the app's registered address: redirect_uri must start with it
        self.dingtalk_members = {}  # unionId -> userid in the organisation
        self.dingtalk_external = set()  # unionIds of external contacts
        self.scanner = {"dingtalk": None, "wecom": None, "feishu": None}  # who confirms the next sign-in
        self.offset = 0.0  # seconds the platforms' clock is ahead (advance())
        self.codes = {}  # code -> {"platform", "user", "redirect_uri", "expires", "used"}
        self.tokens = {}  # token -> {"kind", "user", "expires"}
        self.calls = Counter()  # path -> requests
        self.down = set()  # paths that answer 502
        self.odd_answers = {}  # path -> a JSON body answered (status 200) instead of the real one
        self.lock = threading.RLock()
        super().__init__(self._handler())

    # -- the test's controls --
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def issue_code(self, platform: str, user: str, redirect_uri: str = "") -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = {"platform": platform, "user": user, "redirect_uri": redirect_uri,
                                "expires": self.now() + CODE_SECONDS, "used": False}
        return code

    def dingtalk_in_app_code(self, userid: str) -> str:
        """What DingTalk's JSAPI requestAuthCode hands the page inside the app."""
        return self.issue_code("dingtalk-in-app", userid)

    def secrets_seen(self) -> list[str]:
        """Everything that must never be logged: codes, tokens and the apps' secrets."""
        return [*self.codes, *self.tokens, DINGTALK_SECRET, WECOM_SECRET, FEISHU_SECRET]

    def scan(self, authorize_url: str) -> str:
        """Open the platform's authorisation page as the browser would; return where it sends back."""
        import httpx

        response = httpx.get(authorize_url, follow_redirects=False)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    # -- checks shared by the platforms --
    def _take_code(self, code: str, platform: str) -> dict | None:
        with self.lock:
            entry = self.codes.get(code)
            if entry is None or entry["platform"] != platform or entry["used"] or entry["expires"] <= self.now():
                return None
            entry["used"] = True
            return entry

    def _issue_token(self, kind: str, user: str = "") -> str:
        token = secrets.token_hex(20)
        with self.lock:
            self.tokens[token] = {"kind": kind, "user": user, "expires": self.now() + TOKEN_SECONDS}
        return token

    def _token(self, token: str, kind: str) -> tuple[dict | None, bool]:
        """(the token's entry, whether it expired)."""
        entry = self.tokens.get(token or "")
        if entry is None or entry["kind"] != kind:
            return None, False
        return entry, entry["expires"] <= self.now()

    def _redirect_ok(self, redirect_uri: str) -> bool:
        return bool(redirect_uri) and redirect_uri.startswith(self.trusted_redirect)

    def _back(self, redirect_uri: str, **params) -> str:
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(params)}"

    # -- DingTalk --
    def dingtalk_authorize(self, q):
        if q.get("client_id") != DINGTALK_KEY or q.get("response_type") != "code" \
                or "openid" not in q.get("scope", "").split() or not self._redirect_ok(q.get("redirect_uri", "")):
            raise Denied(400, {"code": "invalidRequest", "message": "client_id, scope or redirect_uri"})
        unionid = self.scanner["dingtalk"]
        if unionid is None:
            return self._back(q["redirect_uri"], error="access_denied", state=q.get("state", ""))
        code = self.issue_code("dingtalk", unionid)
        return self._back(q["redirect_uri"], authCode=code, code=code, state=q.get("state", ""))

    def dingtalk_user_token(self, body):
        if body.get("clientId") != DINGTALK_KEY or body.get("clientSecret") != DINGTALK_SECRET:
            raise Denied(400, {"code": "invalidClientIdOrSecret", "message": "无效的clientId或clientSecret"})
        if body.get("grantType") != "authorization_code":
            raise Denied(400, {"code": "invalidGrantType", "message": "grantType"})
        entry = self._take_code(body.get("code", ""), "dingtalk")
        if entry is None:
            raise Denied(400, {"code": "invalidAuthCode", "message": "不合法的临时授权码"})
        return {"accessToken": self._issue_token("dingtalk-user", entry["user"]), "refreshToken": secrets.token_hex(8),
                "expireIn": TOKEN_SECONDS, "corpId": DINGTALK_CORP}

    def dingtalk_me(self, headers):
        entry, expired = self._token(headers.get("x-acs-dingtalk-access-token", ""), "dingtalk-user")
        if entry is None or expired:
            raise Denied(401, {"code": "InvalidAuthentication", "message": "不合法的access_token"})
        return {"nick": "someone", "unionId": entry["user"], "openId": "open-" + entry["user"]}

    def dingtalk_gettoken(self, q):
        if q.get("appkey") != DINGTALK_KEY or q.get("appsecret") != DINGTALK_SECRET:
            return {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
        return {"errcode": 0, "errmsg": "ok", "access_token": self._issue_token("dingtalk-app"),
                "expires_in": TOKEN_SECONDS}

    def _dingtalk_app_token(self, q):
        entry, expired = self._token(q.get("access_token", ""), "dingtalk-app")
        if entry is None:
            raise Denied(200, {"errcode": 40014, "errmsg": "不合法的access_token"})
        if expired:
            raise Denied(200, {"errcode": 42001, "errmsg": "access_token超时"})

    def dingtalk_by_unionid(self, q, body):
        self._dingtalk_app_token(q)
        unionid = body.get("unionid", "")
        if unionid in self.dingtalk_external:
            return {"errcode": 0, "errmsg": "ok", "result": {"contact_type": 1, "userid": "ext-" + unionid}}
        if unionid not in self.dingtalk_members:
            return {"errcode": 60121, "errmsg": "找不到该用户"}
        return {"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": self.dingtalk_members[unionid]}}

    def dingtalk_in_app_user(self, q, body):
        self._dingtalk_app_token(q)
        entry = self._take_code(body.get("code", ""), "dingtalk-in-app")
        if entry is None:
            return {"errcode": 40078, "errmsg": "不存在的临时授权码"}
        return {"errcode": 0, "errmsg": "ok", "result": {"userid": entry["user"], "unionid": "u-" + entry["user"],
                                                        "name": "someone"}}

    # -- WeCom --
    def wecom_authorize(self, q, *, in_app):
        if q.get("appid") != WECOM_CORP or q.get("agentid") != WECOM_AGENT \
                or not self._redirect_ok(q.get("redirect_uri", "")):
            raise Denied(400, {"errcode": 50001, "errmsg": "redirect_uri 与配置的授权完成回调域名不一致"})
        if in_app and (q.get("response_type") != "code" or q.get("scope") != "snsapi_base"):
            raise Denied(400, {"errcode": 40001, "errmsg": "response_type or scope"})
        if not in_app and q.get("login_type") != "CorpApp":
            raise Denied(400, {"errcode": 40001, "errmsg": "login_type"})
        user = self.scanner["wecom"]
        if user is None:  # WeCom sends the person back without a code when they cancel
            return self._back(q["redirect_uri"], state=q.get("state", ""))
        return self._back(q["redirect_uri"], code=self.issue_code("wecom", user), state=q.get("state", ""))

    def wecom_gettoken(self, q):
        if q.get("corpid") != WECOM_CORP:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if q.get("corpsecret") != WECOM_SECRET:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        return {"errcode": 0, "errmsg": "ok", "access_token": self._issue_token("wecom-app"),
                "expires_in": TOKEN_SECONDS}

    def wecom_user(self, q):
        entry, expired = self._token(q.get("access_token", ""), "wecom-app")
        if entry is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if expired:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        code = self._take_code(q.get("code", ""), "wecom")
        if code is None:
            return {"errcode": 40029, "errmsg": "invalid code"}
        if code["user"].startswith("openid:"):  # not a member of the organisation
            return {"errcode": 0, "errmsg": "ok", "openid": code["user"][7:]}
        return {"errcode": 0, "errmsg": "ok", "userid": code["user"], "user_ticket": secrets.token_hex(8)}

    # -- Feishu --
    def feishu_authorize(self, q):
        if q.get("client_id") != FEISHU_APP or q.get("response_type") != "code" \
                or not self._redirect_ok(q.get("redirect_uri", "")):
            raise Denied(400, {"code": 20029, "msg": "redirect_uri 请求不合法"})
        user = self.scanner["feishu"]
        if user is None:
            return self._back(q["redirect_uri"], error="access_denied", state=q.get("state", ""))
        return self._back(q["redirect_uri"], code=self.issue_code("feishu", user, q["redirect_uri"]),
                          state=q.get("state", ""))

    def feishu_token(self, body):
        if body.get("client_id") != FEISHU_APP or body.get("client_secret") != FEISHU_SECRET:
            raise Denied(400, {"code": 20002, "error": "invalid_client", "error_description": "client secret"})
        if body.get("grant_type") != "authorization_code":
            raise Denied(400, {"code": 20001, "error": "invalid_request", "error_description": "grant_type"})
        entry = self._take_code(body.get("code", ""), "feishu")
        if entry is None:
            raise Denied(400, {"code": 20003, "error": "invalid_grant", "error_description": "code"})
        if body.get("redirect_uri") != entry["redirect_uri"]:
            raise Denied(400, {"code": 20071, "error": "invalid_grant", "error_description": "redirect_uri"})
        return {"code": 0, "access_token": self._issue_token("feishu-user", entry["user"]),
                "expires_in": TOKEN_SECONDS, "token_type": "Bearer", "scope": ""}

    def feishu_user(self, headers):
        bearer = headers.get("Authorization", "")
        entry, expired = self._token(bearer[7:] if bearer.startswith("Bearer ") else "", "feishu-user")
        if entry is None:
            raise Denied(401, {"code": 99991668, "msg": "Invalid access token for authorization"})
        if expired:
            raise Denied(401, {"code": 99991677, "msg": "user access token expired"})
        return {"code": 0, "msg": "success", "data": {"name": "someone", "open_id": "ou_" + entry["user"],
                                                       "union_id": "on_" + entry["user"], "user_id": entry["user"]}}

    # -- the HTTP side --
    def _handler(self):
        platforms = self
        pages = {  # GET pages that redirect back to the app
            "/oauth2/auth": platforms.dingtalk_authorize,
            "/wwlogin/sso/login": lambda q: platforms.wecom_authorize(q, in_app=False),
            "/connect/oauth2/authorize": lambda q: platforms.wecom_authorize(q, in_app=True),
            "/open-apis/authen/v1/authorize": platforms.feishu_authorize,
        }
        apis = {  # (method, path) -> handler(query, body, headers)
            ("POST", "/v1.0/oauth2/userAccessToken"): lambda q, b, h: platforms.dingtalk_user_token(b),
            ("GET", "/v1.0/contact/users/me"): lambda q, b, h: platforms.dingtalk_me(h),
            ("GET", "/gettoken"): lambda q, b, h: platforms.dingtalk_gettoken(q),
            ("POST", "/topapi/user/getbyunionid"): lambda q, b, h: platforms.dingtalk_by_unionid(q, b),
            ("POST", "/topapi/v2/user/getuserinfo"): lambda q, b, h: platforms.dingtalk_in_app_user(q, b),
            ("GET", "/cgi-bin/gettoken"): lambda q, b, h: platforms.wecom_gettoken(q),
            ("GET", "/cgi-bin/auth/getuserinfo"): lambda q, b, h: platforms.wecom_user(q),
            ("POST", "/open-apis/authen/v2/oauth/token"): lambda q, b, h: platforms.feishu_token(b),
            ("GET", "/open-apis/authen/v1/user_info"): lambda q, b, h: platforms.feishu_user(h),
        }

        class Handler(JsonHandler):
            def _json(self, status, answer):
                self.send_json(answer, status, ensure_ascii=False)

            def answer(self, method):
                path, query = self.path_and_query()
                with platforms.lock:
                    platforms.calls[path] += 1
                if path in platforms.down:
                    return self._json(502, {"errcode": -1, "errmsg": "系统繁忙"})
                if path in platforms.odd_answers:
                    return self._json(200, platforms.odd_answers[path])
                try:
                    if method == "GET" and path in pages:
                        location = pages[path](query)
                        self.send_response(302)
                        self.send_header("Location", location)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    handler = apis.get((method, path))
                    if handler is None:
                        return self._json(404, {"errcode": 404, "errmsg": "no such API"})
                    body = {}
                    if method == "POST":
                        raw = self.raw_body()
                        if not self.headers.get("Content-Type", "").startswith("application/json"):
                            return self._json(400, {"errcode": 43004, "errmsg": "需要 JSON"})
                        body = json.loads(raw or b"{}")
                    return self._json(200, handler(query, body, self.headers))
                except Denied as denied:
                    return self._json(denied.status, denied.body)

        return Handler


@contextmanager
def running(settings, trusted_redirect: str, methods=("password", "dingtalk", "wecom", "feishu")):
    """The fake platforms, started, with the app's settings pointing at them; stopped afterwards."""
    platforms = SignInPlatforms(trusted_redirect).start()
    settings.SIGNIN_METHODS = list(methods)
    settings.DINGTALK_APP_KEY, settings.DINGTALK_APP_SECRET = DINGTALK_KEY, DINGTALK_SECRET
    settings.DINGTALK_CORP_ID = DINGTALK_CORP
    settings.DINGTALK_API_URL = settings.DINGTALK_OAPI_URL = settings.DINGTALK_LOGIN_URL = platforms.url
    settings.DINGTALK_JSAPI_URL = ""  # no internet here: the browser tests put a stand-in `dd` in the page
    settings.WECOM_CORP_ID, settings.WECOM_AGENT_ID, settings.WECOM_SECRET = WECOM_CORP, WECOM_AGENT, WECOM_SECRET
    settings.WECOM_API_URL = settings.WECOM_LOGIN_URL = settings.WECOM_OAUTH_URL = platforms.url
    settings.FEISHU_APP_ID, settings.FEISHU_APP_SECRET = FEISHU_APP, FEISHU_SECRET
    settings.FEISHU_API_URL = settings.FEISHU_LOGIN_URL = platforms.url
    try:
        yield platforms
    finally:
        platforms.stop()
