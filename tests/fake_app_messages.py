"""A local HTTP server that answers like WeCom's and Feishu's app-message APIs, with their checks:
the access token issued by the token endpoint for the right credentials (and expiring when told),
the app's AgentId, the message's shape, and whether the person is in the app's range."""

import json
import threading

from local_server import JsonHandler, LocalServer


class AppMessages(LocalServer):
    def __init__(self):
        self.wecom_apps = {}  # corpid -> (corpsecret, agentid)
        self.wecom_users = set()  # user ids in the app's visible range
        self.feishu_apps = {}  # app_id -> app_secret
        self.feishu_users = set()
        self.tokens = {}  # access token -> ("wecom" | "feishu", app)
        self.token_calls = 0
        self.sent = []  # (platform, body) accepted
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def accepted(self, platform):
        return [body for name, body in self.sent if name == platform]

    def _issue(self, platform, app) -> str:
        with self.lock:
            self.token_calls += 1
            token = f"{platform}-token-{self.token_calls}"
            self.tokens[token] = (platform, app)
        return token

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_GET(self):
                path, query = self.path_and_query()
                if path == "/cgi-bin/gettoken":
                    app = fake.wecom_apps.get(query.get("corpid"))
                    if app is None:
                        return self.send_json({"errcode": 40013, "errmsg": "invalid corpid"})
                    if app[0] != query.get("corpsecret"):
                        return self.send_json({"errcode": 40001, "errmsg": "invalid credential"})
                    return self.send_json({"errcode": 0, "errmsg": "ok", "expires_in": 7200,
                                         "access_token": fake._issue("wecom", query["corpid"])})
                self.send_json({"error": "not found"}, 404)

            def do_POST(self):
                path, query = self.path_and_query()
                body = self.json_body()
                if path == "/cgi-bin/message/send":
                    return self.wecom_send(query, body)
                if path == "/open-apis/auth/v3/tenant_access_token/internal":
                    return self.feishu_token(body)
                if path == "/open-apis/im/v1/messages":
                    return self.feishu_send(query, body)
                self.send_json({"error": "not found"}, 404)

            def wecom_send(self, query, body):
                issued = fake.tokens.get(query.get("access_token", ""))
                if issued is None or issued[0] != "wecom":
                    return self.send_json({"errcode": 42001, "errmsg": "access_token expired"})
                _secret, agent_id = fake.wecom_apps[issued[1]]
                if body is None or body.get("agentid") != agent_id or not isinstance(body.get("agentid"), int):
                    return self.send_json({"errcode": 40056, "errmsg": "invalid agentid"})
                kind = body.get("msgtype")
                content = (body.get(kind) or {}).get("content", "") if kind in {"text", "markdown"} else ""
                if not content or len(content.encode()) > 2048 or not body.get("touser"):
                    return self.send_json({"errcode": 44004, "errmsg": "empty content or invalid parameter"})
                users = body["touser"].split("|")
                invalid = [user for user in users if user not in fake.wecom_users]
                if len(invalid) == len(users):
                    return self.send_json({"errcode": 81013, "errmsg": "user & party & tag all invalid"})
                with fake.lock:
                    fake.sent.append(("wecom", body))
                self.send_json({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": "m1"})

            def feishu_token(self, body):
                body = body or {}
                if fake.feishu_apps.get(body.get("app_id")) != body.get("app_secret") or not body.get("app_secret"):
                    return self.send_json({"code": 10014, "msg": "app secret invalid"})
                self.send_json({"code": 0, "msg": "ok", "expire": 7200,
                              "tenant_access_token": fake._issue("feishu", body["app_id"])})

            def feishu_send(self, query, body):
                header = self.headers.get("Authorization", "")
                issued = fake.tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
                if issued is None or issued[0] != "feishu":
                    return self.send_json({"code": 99991663, "msg": "Invalid access token for authorization."}, 400)
                if query.get("receive_id_type") != "user_id" or body is None or body.get("msg_type") != "text":
                    return self.send_json({"code": 230001, "msg": "invalid message content"}, 400)
                try:
                    text = json.loads(body.get("content", "")).get("text", "")
                except (ValueError, AttributeError):
                    text = ""
                if not text:
                    return self.send_json({"code": 230001, "msg": "invalid message content"}, 400)
                if body.get("receive_id") not in fake.feishu_users:
                    return self.send_json({"code": 230013, "msg": "Bot has NO availability to this user."}, 400)
                with fake.lock:
                    fake.sent.append(("feishu", body))
                self.send_json({"code": 0, "msg": "success", "data": {"message_id": "om_1"}})

        return Handler
