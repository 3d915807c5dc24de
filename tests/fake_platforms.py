"""A local HTTP server that answers like DingTalk, WeCom, Feishu and a webhook receiver,
checking each request the way the platform does: the signature recomputed from the
platforms' documented formulas, the timestamp within an hour, the body's shape and headers,
per-robot rate limits (DingTalk and WeCom robots 20 messages a minute; Feishu bots 100 a
minute and 5 a second), DingTalk's "system busy" (errcode -1) when told, and expired access
tokens (errcode 42001) when told."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque

from local_server import JsonHandler, LocalServer

HOUR_MS = 3600 * 1000


class Platforms(LocalServer):
    def __init__(self):
        self.dingtalk_robots = {}  # access_token -> secret ("" = no signing)
        self.wecom_keys = set()
        self.feishu_hooks = {}  # hook id -> secret
        self.corp_apps = {}  # appkey -> appsecret
        self.webhook_secret = ""
        self.issued_tokens = {}  # access token -> appkey
        self.gettoken_calls = 0
        self.requests = []  # (platform, body) accepted
        self.answers = []  # (platform, answer) of every request
        self.next_statuses = deque()  # HTTP statuses to answer next instead of handling
        self.sleep_next = 0.0  # seconds to sleep before answering the next request
        self.robot_sends = defaultdict(deque)  # robot -> times of recent messages
        self.busy_next = 0  # how many of the next DingTalk calls answer errcode -1 (system busy)
        self.expired_tokens = set()  # issued DingTalk tokens that now answer 42001
        self.lock = threading.RLock()
        super().__init__(self._handler())

    def accepted(self, platform):
        return [body for name, body in self.requests if name == platform]

    # -- rate limit shared by all robots of one platform's rules --
    def _too_fast(self, robot, limit=20, per_second=None) -> bool:
        now = time.time()
        sends = self.robot_sends[robot]
        while sends and sends[0] <= now - 60:
            sends.popleft()
        if len(sends) >= limit or (per_second and sum(1 for at in sends if at > now - 1) >= per_second):
            return True
        sends.append(now)
        return False

    def _busy(self) -> bool:
        with self.lock:
            if self.busy_next:
                self.busy_next -= 1
                return True
        return False

    def _handler(self):
        platforms = self

        class Handler(JsonHandler):
            def _answer(self, platform, answer, status=200):
                with platforms.lock:
                    platforms.answers.append((platform, answer))
                self.send_json(answer, status, content_type="application/json")

            def _body(self):
                raw = self.raw_body()
                return raw, (json.loads(raw) if raw else None)

            def _interfere(self) -> bool:
                with platforms.lock:
                    sleep, platforms.sleep_next = platforms.sleep_next, 0.0
                    status = platforms.next_statuses.popleft() if platforms.next_statuses else None
                if sleep:
                    time.sleep(sleep)
                if status:
                    self._answer("interfered", {"error": "server error"}, status)
                    return True
                return False

            def do_GET(self):
                path, query = self.path_and_query()
                if path == "/dingtalk/gettoken":
                    with platforms.lock:
                        platforms.gettoken_calls += 1
                    key, secret = query.get("appkey"), query.get("appsecret")
                    if key not in platforms.corp_apps or platforms.corp_apps[key] != secret:
                        return self._answer("gettoken", {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
                    token = f"token-{platforms.gettoken_calls}"
                    platforms.issued_tokens[token] = key
                    return self._answer("gettoken", {"errcode": 0, "errmsg": "ok", "access_token": token,
                                                     "expires_in": 7200})
                self._answer("unknown", {"error": "not found"}, 404)

            def do_POST(self):
                if self._interfere():
                    return
                path, query = self.path_and_query()
                raw, body = self._body()
                if path == "/robot/send":
                    return self.dingtalk_robot(query, body)
                if path == "/dingtalk/topapi/message/corpconversation/asyncsend_v2":
                    return self.dingtalk_work(query, body)
                if path == "/cgi-bin/webhook/send":
                    return self.wecom(query, body)
                if path.startswith("/open-apis/bot/v2/hook/"):
                    return self.feishu(path.rsplit("/", 1)[1], body)
                if path == "/receiver":
                    return self.webhook(raw, body)
                self._answer("unknown", {"error": "not found"}, 404)

            def dingtalk_robot(self, query, body):
                if platforms._busy():
                    return self._answer("dingtalk_robot", {"errcode": -1, "errmsg": "系统繁忙"})
                token = query.get("access_token")
                if token not in platforms.dingtalk_robots:
                    return self._answer("dingtalk_robot", {"errcode": 300001, "errmsg": "token is not exist"})
                secret = platforms.dingtalk_robots[token]
                if secret:
                    timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
                    if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > HOUR_MS:
                        return self._answer("dingtalk_robot", {"errcode": 310000, "errmsg": "invalid timestamp"})
                    expected = base64.b64encode(hmac.new(secret.encode("utf-8"),
                                                         f"{timestamp}\n{secret}".encode(),
                                                         digestmod=hashlib.sha256).digest()).decode()
                    if not hmac.compare_digest(expected, sign):
                        return self._answer("dingtalk_robot", {"errcode": 310000, "errmsg": "sign not match"})
                if not self.headers.get("Content-Type", "").startswith("application/json") or body is None \
                        or body.get("msgtype") != "markdown" or not body["markdown"].get("title") \
                        or not body["markdown"].get("text") \
                        or not isinstance(body.get("at", {}).get("atMobiles"), list):
                    return self._answer("dingtalk_robot", {"errcode": 40035, "errmsg": "缺少参数 json"})
                with platforms.lock:
                    if platforms._too_fast(("dingtalk", token)):
                        return self._answer("dingtalk_robot", {
                            "errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
                    platforms.requests.append(("dingtalk_robot", body))
                self._answer("dingtalk_robot", {"errcode": 0, "errmsg": "ok"})

            def dingtalk_work(self, query, body):
                if platforms._busy():
                    return self._answer("dingtalk_work", {"errcode": -1, "errmsg": "系统繁忙"})
                if query.get("access_token") in platforms.expired_tokens:
                    return self._answer("dingtalk_work", {"errcode": 42001, "errmsg": "access_token超时"})
                if query.get("access_token") not in platforms.issued_tokens:
                    return self._answer("dingtalk_work", {"errcode": 40014, "errmsg": "不合法的access_token"})
                if body is None or not isinstance(body.get("agent_id"), int) or not body.get("userid_list") \
                        or body.get("msg", {}).get("msgtype") != "markdown" \
                        or not body["msg"].get("markdown", {}).get("text"):
                    return self._answer("dingtalk_work", {"errcode": 40035, "errmsg": "缺少参数"})
                with platforms.lock:
                    platforms.requests.append(("dingtalk_work", body))
                self._answer("dingtalk_work", {"errcode": 0, "task_id": 256271667526, "request_id": "4jzllmte0wau"})

            def wecom(self, query, body):
                if query.get("key") not in platforms.wecom_keys:
                    return self._answer("wecom_robot", {"errcode": 93000, "errmsg": "invalid webhook url"})
                kind = (body or {}).get("msgtype")
                if kind not in {"text", "markdown"} or not body.get(kind, {}).get("content"):
                    return self._answer("wecom_robot", {"errcode": 40008, "errmsg": "invalid message type"})
                limit = 2048 if kind == "text" else 4096  # bytes of UTF-8
                mobiles = body[kind].get("mentioned_mobile_list", [])
                if len(body[kind]["content"].encode()) > limit or not isinstance(mobiles, list) \
                        or (kind == "markdown" and "mentioned_mobile_list" in body[kind]):
                    return self._answer("wecom_robot", {"errcode": 40058, "errmsg": "invalid parameter"})
                with platforms.lock:
                    if platforms._too_fast(("wecom", query["key"])):
                        return self._answer("wecom_robot", {"errcode": 45009, "errmsg": "api freq out of limit"})
                    platforms.requests.append(("wecom_robot", body))
                self._answer("wecom_robot", {"errcode": 0, "errmsg": "ok"})

            def feishu(self, hook, body):
                if hook not in platforms.feishu_hooks:
                    return self._answer("feishu_bot", {
                        "code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}})
                secret = platforms.feishu_hooks[hook]
                if secret:
                    timestamp = str(body.get("timestamp", ""))
                    key = f"{timestamp}\n{secret}".encode()
                    expected = base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode("utf-8")
                    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 3600 \
                            or not hmac.compare_digest(expected, str(body.get("sign", ""))):
                        return self._answer("feishu_bot", {"code": 19021, "data": {}, "msg": (
                            "sign match fail or timestamp is not within one hour from current time")})
                card = body.get("card", {})
                if body.get("msg_type") != "interactive" or not card.get("elements"):
                    return self._answer("feishu_bot", {"code": 9499, "data": {}, "msg": "Bad Request"}, 400)
                with platforms.lock:
                    if platforms._too_fast(("feishu", hook), limit=100, per_second=5):
                        return self._answer("feishu_bot", {"code": 11232, "data": {}, "msg": "frequency limited"})
                    platforms.requests.append(("feishu_bot", body))
                self._answer("feishu_bot", {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {},
                                            "msg": "success"})

            def webhook(self, raw, body):
                timestamp = self.headers.get("X-Learntrace-Timestamp", "")
                signature = self.headers.get("X-Learntrace-Signature", "")
                expected = "sha256=" + hmac.new(platforms.webhook_secret.encode(), timestamp.encode() + b"." + raw,
                                                hashlib.sha256).hexdigest()
                if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 3600 \
                        or not hmac.compare_digest(expected, signature):
                    return self._answer("webhook", {"error": "bad signature"}, 401)
                if not self.headers.get("Idempotency-Key") or body.get("key") != self.headers["Idempotency-Key"]:
                    return self._answer("webhook", {"error": "missing key"}, 400)
                with platforms.lock:
                    platforms.requests.append(("webhook", body))
                self._answer("webhook", {"received": True})

        return Handler
