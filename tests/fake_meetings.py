"""A local HTTP server that plays Feishu's open API for a meeting's participants, as its document
describes it: a tenant access token from the app's id and secret, then GET
/open-apis/vc/v1/participant_list with the 9-digit meeting number and the meeting's start and end
as Unix seconds, answered in pages (page_size, page_token, has_more), one entry per join."""

import secrets
import threading
from contextlib import contextmanager

from local_server import JsonHandler, LocalServer

APP_ID, APP_SECRET = "cli_meetings_app", "meetings-secret"


class FakeFeishuMeetings(LocalServer):
    def __init__(self):
        self.meetings: dict[str, list[dict]] = {}  # meeting number -> participants (one per join)
        self.tokens: set[str] = set()
        self.requests: list[dict] = []  # the participant list queries, as sent
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def answer(self, method: str, path: str, query: dict, body: dict, headers) -> tuple[int, dict]:
        if method == "POST" and path == "/open-apis/auth/v3/tenant_access_token/internal":
            if body.get("app_id") != APP_ID or body.get("app_secret") != APP_SECRET:
                return 200, {"code": 10014, "msg": "app secret invalid"}
            token = "t-" + secrets.token_hex(8)
            self.tokens.add(token)
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}
        if method == "GET" and path == "/open-apis/vc/v1/participant_list":
            bearer = headers.get("Authorization", "")
            if bearer[7:] not in self.tokens:
                return 200, {"code": 99991663, "msg": "invalid access token"}
            self.requests.append(query)
            missing = [k for k in ("meeting_start_time", "meeting_end_time", "meeting_no") if not query.get(k)]
            if missing:
                return 400, {"code": 99992402, "msg": f"field validation failed: {missing}"}
            size = int(query.get("page_size", "20"))
            if not 20 <= size <= 100:
                return 400, {"code": 99992402, "msg": "page_size out of range"}
            everyone = self.meetings.get(query["meeting_no"], [])
            start = int(query.get("page_token") or 0)
            page = everyone[start:start + size]
            more = start + size < len(everyone)
            return 200, {"code": 0, "msg": "success", "data": {
                "participants": page, "page_token": str(start + size) if more else "", "has_more": more}}
        return 404, {"code": 404, "msg": "not found"}

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def answer(self, method):
                path, query, body = self.read_request(method)
                with fake.lock:
                    status, answer = fake.answer(method, path, query, body, self.headers)
                self.send_json(answer, status, ensure_ascii=False)

        return Handler


@contextmanager
def running(settings):
    fake = FakeFeishuMeetings().start()
    settings.FEISHU_APP_ID, settings.FEISHU_APP_SECRET, settings.FEISHU_API_URL = APP_ID, APP_SECRET, fake.url
    try:
        yield fake
    finally:
        fake.stop()
