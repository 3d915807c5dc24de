"""A local HTTP server that plays the contact APIs of DingTalk, WeCom and Feishu as their documents
describe them: an app token from the app's key and secret (refused when wrong or expired), the
department lists, the people of a department in pages (DingTalk's cursor, Feishu's page token),
one person or department by id, and each platform's "not found" codes.

An organisation is described once (`departments`, `people`) and each platform answers it in its own
shape. `DirectoryEvents` signs and encrypts change events as each platform does, for the tests to post.
"""

import base64
import hashlib
import json
import os
import secrets
import struct
import threading
import time
from collections import Counter
from contextlib import contextmanager

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fake_signin_platforms import DINGTALK_KEY, DINGTALK_SECRET, FEISHU_APP, FEISHU_SECRET, WECOM_CORP
from local_server import JsonHandler, LocalServer

WECOM_CONTACT_SECRET = "wecom-contact-secret"
TOKEN_SECONDS = 7200
DINGTALK_PAGE_MAX = 100
FEISHU_PAGE_MAX = 50


class FakeDirectory(LocalServer):
    def __init__(self):
        # id -> {"name", "parent"} ("" for the root); DingTalk's root is "1", WeCom's "1", Feishu's "0".
        self.departments = {}
        # userid -> {"name", "department", "number", "title", "mobile", "email", "status"}
        self.people = {}
        self.tokens = {}  # token -> (platform, expires)
        self.calls = Counter()
        self.page_sizes = []  # page sizes asked for (DingTalk and Feishu)
        self.odd = {}  # path -> a function that turns the real answer into an odd one
        self.lock = threading.RLock()
        super().__init__(self._handler())

    def expire_tokens(self):
        with self.lock:
            self.tokens = {token: (platform, 0) for token, (platform, _expires) in self.tokens.items()}

    # -- the organisation --
    def add_department(self, department_id, name, parent=""):
        self.departments[str(department_id)] = {"name": name, "parent": str(parent)}

    def add_person(self, userid, name, department, **fields):
        self.people[userid] = {"name": name, "department": str(department), **fields}

    def _members(self, department_id):
        return [uid for uid, p in sorted(self.people.items()) if p["department"] == str(department_id)]

    # -- tokens --
    def _issue(self, platform):
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens[token] = (platform, time.time() + TOKEN_SECONDS)
        return token

    def _valid(self, token, platform):
        entry = self.tokens.get(token or "")
        if entry is None or entry[0] != platform:
            return "invalid"
        return "expired" if entry[1] <= time.time() else ""

    # -- DingTalk --
    def dingtalk(self, path, q, body):
        if path == "/gettoken":
            if q.get("appkey") != DINGTALK_KEY or q.get("appsecret") != DINGTALK_SECRET:
                return {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
            return {"errcode": 0, "access_token": self._issue("dingtalk"), "expires_in": TOKEN_SECONDS}
        problem = self._valid(q.get("access_token"), "dingtalk")
        if problem:
            return {"errcode": 40014 if problem == "invalid" else 42001, "errmsg": "不合法的access_token"}
        if path == "/topapi/v2/department/get":
            department = self.departments.get(str(body.get("dept_id")))
            if department is None:
                return {"errcode": 60003, "errmsg": "部门不存在"}
            result = {"dept_id": int(body["dept_id"]), "name": department["name"]}
            if department["parent"]:
                result["parent_id"] = int(department["parent"])
            return {"errcode": 0, "result": result}
        if path == "/topapi/v2/department/listsub":
            parent = str(body.get("dept_id"))
            if parent not in self.departments:
                return {"errcode": 60003, "errmsg": "部门不存在"}
            return {"errcode": 0, "result": [{"dept_id": int(i), "name": d["name"], "parent_id": int(parent)}
                                             for i, d in self.departments.items() if d["parent"] == parent]}
        if path == "/topapi/v2/user/list":
            size, cursor = body.get("size"), body.get("cursor")
            if not isinstance(size, int) or not 1 <= size <= DINGTALK_PAGE_MAX or not isinstance(cursor, int):
                return {"errcode": 400002, "errmsg": "size或cursor不合法"}
            self.page_sizes.append(size)
            members = self._members(body.get("dept_id"))
            page = members[cursor:cursor + size]
            more = cursor + size < len(members)
            return {"errcode": 0, "result": {"has_more": more, **({"next_cursor": cursor + size} if more else {}),
                                             "list": [self._dingtalk_user(uid) for uid in page]}}
        if path == "/topapi/v2/user/get":
            if body.get("userid") not in self.people:
                return {"errcode": 60121, "errmsg": "找不到该用户"}
            return {"errcode": 0, "result": self._dingtalk_user(body["userid"])}
        return None

    def _dingtalk_user(self, uid):
        p = self.people[uid]
        user = {"userid": uid, "name": p["name"], "dept_id_list": [int(p["department"])], "active": True}
        for ours, theirs in (("number", "job_number"), ("title", "title"), ("mobile", "mobile"),
                             ("email", "email"), ("hired", "hired_date")):
            if ours in p:
                user[theirs] = p[ours]
        return user

    # -- WeCom --
    def wecom(self, path, q):
        if path == "/cgi-bin/gettoken":
            if q.get("corpid") != WECOM_CORP or q.get("corpsecret") != WECOM_CONTACT_SECRET:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            return {"errcode": 0, "access_token": self._issue("wecom"), "expires_in": TOKEN_SECONDS}
        problem = self._valid(q.get("access_token"), "wecom")
        if problem:
            return {"errcode": 40014 if problem == "invalid" else 42001, "errmsg": "invalid access_token"}
        if path == "/cgi-bin/department/list":
            return {"errcode": 0, "department": [{"id": int(i), "name": d["name"],
                                                  "parentid": int(d["parent"] or 0), "order": 1}
                                                 for i, d in reversed(list(self.departments.items()))]}
        if path == "/cgi-bin/department/get":
            department = self.departments.get(q.get("id", ""))
            if department is None:
                return {"errcode": 60123, "errmsg": "invalid party id"}
            return {"errcode": 0, "department": {"id": int(q["id"]), "name": department["name"],
                                                 "parentid": int(department["parent"] or 0)}}
        if path == "/cgi-bin/user/list":
            if q.get("department_id") not in self.departments:
                return {"errcode": 60123, "errmsg": "invalid party id"}
            return {"errcode": 0, "userlist": [self._wecom_user(uid) for uid in self._members(q["department_id"])]}
        if path == "/cgi-bin/user/get":
            if q.get("userid") not in self.people:
                return {"errcode": 60111, "errmsg": "userid not found"}
            return {"errcode": 0, **self._wecom_user(q["userid"])}
        return None

    def _wecom_user(self, uid):
        p = self.people[uid]
        # WeCom answers every field, empty where the app may not read it (mobile, e-mail).
        return {"userid": uid, "name": p["name"], "department": [int(p["department"])],
                "main_department": int(p["department"]), "position": p.get("title", ""),
                "mobile": p.get("mobile", ""), "email": p.get("email", ""), "status": p.get("status", 1)}

    # -- Feishu --
    def feishu(self, method, path, q, body, headers):
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            if body.get("app_id") != FEISHU_APP or body.get("app_secret") != FEISHU_SECRET:
                return {"code": 10014, "msg": "app secret invalid"}
            return {"code": 0, "msg": "ok", "tenant_access_token": self._issue("feishu"), "expire": TOKEN_SECONDS}
        bearer = headers.get("Authorization", "")
        problem = self._valid(bearer[7:] if bearer.startswith("Bearer ") else "", "feishu")
        if problem:
            return {"code": 99991663 if problem == "invalid" else 99991677, "msg": "Invalid access token"}
        if q.get("department_id_type") != "department_id" or q.get("user_id_type", "user_id") != "user_id":
            return {"code": 99992402, "msg": "field validation failed"}
        parts = path.split("/")
        if path.startswith("/open-apis/contact/v3/departments/") and path.endswith("/children"):
            parent = parts[5]
            everything = q.get("fetch_child") == "true"
            found = [i for i in self.departments if self.departments[i]["parent"] == parent]
            if everything:
                waiting = list(found)
                while waiting:
                    above = waiting.pop(0)
                    below = [i for i in self.departments if self.departments[i]["parent"] == above]
                    found += below
                    waiting += below
            return self._feishu_page(q, [{"department_id": i, "name": self.departments[i]["name"],
                                          "parent_department_id": self.departments[i]["parent"],
                                          "status": {"is_deleted": False}} for i in found])
        if path.startswith("/open-apis/contact/v3/departments/"):
            department = self.departments.get(parts[5])
            if department is None:
                return {"code": 40003, "msg": "department not found"}
            return {"code": 0, "data": {"department": {"department_id": parts[5], "name": department["name"],
                                                       "parent_department_id": department["parent"]}}}
        if path == "/open-apis/contact/v3/users/find_by_department":
            return self._feishu_page(q, [self._feishu_user(uid) for uid in self._members(q.get("department_id"))])
        if path.startswith("/open-apis/contact/v3/users/"):
            if parts[5] not in self.people:
                return {"code": 41050, "msg": "no user authority error"}
            return {"code": 0, "data": {"user": self._feishu_user(parts[5])}}
        return None

    def _feishu_page(self, q, items):
        size = int(q.get("page_size", "20"))
        if not 1 <= size <= FEISHU_PAGE_MAX:
            return {"code": 99992402, "msg": "page_size"}
        self.page_sizes.append(size)
        start = int(q.get("page_token") or 0)
        more = start + size < len(items)
        return {"code": 0, "data": {"has_more": more, **({"page_token": str(start + size)} if more else {}),
                                    "items": items[start:start + size]}}

    def _feishu_user(self, uid):
        p = self.people[uid]
        user = {"user_id": uid, "open_id": "ou_" + uid, "name": p["name"], "department_ids": [p["department"]],
                "status": {"is_resigned": p.get("status") == 5, "is_frozen": False, "is_activated": True}}
        for ours, theirs in (("number", "employee_no"), ("title", "job_title"), ("mobile", "mobile"),
                             ("email", "email")):
            if ours in p:
                user[theirs] = p[ours]
        return user

    # -- HTTP --
    def _handler(self):
        directory = self

        class Handler(JsonHandler):
            def answer(self, method):
                path, query, body = self.read_request(method)
                with directory.lock:
                    directory.calls[path] += 1
                    if path.startswith("/open-apis/"):
                        answer = directory.feishu(method, path, query, body, self.headers)
                    elif path.startswith("/cgi-bin/"):
                        answer = directory.wecom(path, query)
                    else:
                        answer = directory.dingtalk(path, query, body)
                    if path in directory.odd and answer is not None:
                        answer = directory.odd[path](answer)
                status = 200 if answer is not None else 404
                self.send_json(answer if answer is not None else {"errcode": 404}, status, ensure_ascii=False)

        return Handler


@contextmanager
def running(settings):
    """The fake directory, started, with the app's settings pointing at it; stopped afterwards."""
    directory = FakeDirectory().start()
    settings.DINGTALK_APP_KEY, settings.DINGTALK_APP_SECRET = DINGTALK_KEY, DINGTALK_SECRET
    settings.DINGTALK_OAPI_URL = directory.url
    settings.WECOM_CORP_ID, settings.WECOM_CONTACT_SECRET = WECOM_CORP, WECOM_CONTACT_SECRET
    settings.WECOM_API_URL = directory.url
    settings.FEISHU_APP_ID, settings.FEISHU_APP_SECRET = FEISHU_APP, FEISHU_SECRET
    settings.FEISHU_API_URL = directory.url
    try:
        yield directory
    finally:
        directory.stop()


class PlatformEvents:
    """The platforms' side of change events, written from their documents (not with the app's code):
    DingTalk's and WeCom's SHA-1 signature and AES frame, Feishu's SHA-256 signature and AES."""

    def __init__(self):
        self.token = "event-token-" + secrets.token_hex(4)
        self.aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")  # 43 characters
        self.feishu_key = "feishu-encrypt-" + secrets.token_hex(4)

    def configure(self, settings):
        settings.DINGTALK_EVENT_TOKEN, settings.DINGTALK_EVENT_AES_KEY = self.token, self.aes_key
        settings.WECOM_CONTACT_EVENT_TOKEN, settings.WECOM_CONTACT_EVENT_AES_KEY = self.token, self.aes_key
        settings.FEISHU_EVENT_VERIFICATION_TOKEN, settings.FEISHU_EVENT_ENCRYPT_KEY = self.token, self.feishu_key

    # -- DingTalk and WeCom --
    def _key(self):
        return base64.b64decode(self.aes_key + "=")

    def seal(self, message: bytes, receiver: str) -> str:
        plain = os.urandom(16) + struct.pack(">I", len(message)) + message + receiver.encode()
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        key = self._key()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def open(self, sealed: str, receiver: str) -> bytes:
        key = self._key()
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(sealed)) + decryptor.finalize()
        plain = plain[:-plain[-1]]
        (length,) = struct.unpack(">I", plain[16:20])
        assert plain[20 + length:] == receiver.encode()
        return plain[20:20 + length]

    def sign(self, timestamp: str, nonce: str, sealed: str, token: str | None = None) -> str:
        return hashlib.sha1("".join(sorted([token or self.token, timestamp, nonce, sealed])).encode()).hexdigest()

    # -- Feishu --
    def feishu_seal(self, event: dict, key: str | None = None) -> str:
        plain = json.dumps(event).encode()
        pad = 16 - len(plain) % 16
        plain += bytes([pad]) * pad
        iv = os.urandom(16)
        aes = hashlib.sha256((key or self.feishu_key).encode()).digest()
        encryptor = Cipher(algorithms.AES(aes), modes.CBC(iv)).encryptor()
        return base64.b64encode(iv + encryptor.update(plain) + encryptor.finalize()).decode()

    def feishu_headers(self, body: bytes, key: str | None = None) -> dict:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = hashlib.sha256((timestamp + nonce + (key or self.feishu_key)).encode() + body).hexdigest()
        return {"HTTP_X_LARK_REQUEST_TIMESTAMP": timestamp, "HTTP_X_LARK_REQUEST_NONCE": nonce,
                "HTTP_X_LARK_SIGNATURE": signature}
