"""A local DingTalk-like contacts server, for the directory sync's benchmark and for keeping the demo
organisation current without DingTalk.

It answers the calls the directory sync makes (the app token, a department, the sub-departments of
one, its members page by page with a cursor, one member) for an organisation kept in a JSON file:

    {"departments": [{"id": "1", "name": "…", "parent": ""}, …],
     "people": [{"userid": "…", "name": "…", "department": "…", "job_number": "…", "title": "…",
                 "mobile": "…", "email": "…"}, …]}

The file is read again whenever it changes, so editing it and syncing shows the change.

    python -m bench.dingtalk_server --export org.json   # the current database's organisation, as DingTalk
    python -m bench.dingtalk_server --org org.json      # serve it on 127.0.0.1:8765
"""

import argparse
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

APP_KEY, APP_SECRET = "demo-app-key", "demo-app-secret"
ROOT = "1"
PAGE_MAX = 100


class Organisation:
    """Departments and people, indexed for the calls; from a file (reloaded when it changes) or given."""

    def __init__(self, path: Path | None = None, data: dict | None = None):
        self.path, self.mtime = path, None
        self.lock = threading.Lock()
        self._load(data if data is not None else json.loads(path.read_text(encoding="utf-8")))

    def _load(self, data: dict) -> None:
        self.departments = {str(d["id"]): d for d in data["departments"]}
        self.children, self.members, self.people = {}, {}, {}
        for department in self.departments.values():
            self.children.setdefault(str(department.get("parent", "")), []).append(department)
        for person in data["people"]:
            self.people[person["userid"]] = person
            self.members.setdefault(str(person["department"]), []).append(person)
        if self.path is not None:
            self.mtime = self.path.stat().st_mtime

    def fresh(self) -> "Organisation":
        if self.path is not None and self.path.stat().st_mtime != self.mtime:
            with self.lock:
                self._load(json.loads(self.path.read_text(encoding="utf-8")))
        return self


def _user(person: dict) -> dict:
    user = {"userid": person["userid"], "name": person["name"], "dept_id_list": [_number(person["department"])],
            "active": True}
    for key in ("job_number", "title", "mobile", "email"):
        if person.get(key):
            user[key] = person[key]
    return user


def _number(department_id: str):
    return int(department_id) if str(department_id).isdigit() else department_id


def serve(organisation: Organisation, host: str = "127.0.0.1", port: int = 0, app_key=APP_KEY,
          app_secret=APP_SECRET) -> ThreadingHTTPServer:
    """Start the server in a thread; returns it (its address in `server_address`)."""
    tokens: set[str] = set()

    def answer(path: str, query: dict, body: dict) -> dict:
        if path == "/gettoken":
            if query.get("appkey") != app_key or query.get("appsecret") != app_secret:
                return {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
            token = secrets.token_hex(16)
            tokens.add(token)
            return {"errcode": 0, "access_token": token, "expires_in": 7200}
        if query.get("access_token") not in tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        org = organisation.fresh()
        department_id = str(body.get("dept_id", ""))
        if path == "/topapi/v2/department/get":
            department = org.departments.get(department_id)
            if department is None:
                return {"errcode": 60003, "errmsg": "no such department"}
            result = {"dept_id": _number(department_id), "name": department["name"]}
            if department.get("parent"):
                result["parent_id"] = _number(department["parent"])
            return {"errcode": 0, "result": result}
        if path == "/topapi/v2/department/listsub":
            return {"errcode": 0, "result": [{"dept_id": _number(d["id"]), "name": d["name"],
                                             "parent_id": _number(department_id)}
                                            for d in org.children.get(department_id, [])]}
        if path == "/topapi/v2/user/list":
            cursor, size = body.get("cursor", 0), body.get("size", 0)
            if not isinstance(size, int) or not 1 <= size <= PAGE_MAX:
                return {"errcode": 400002, "errmsg": "invalid size"}
            members = org.members.get(department_id, [])
            more = cursor + size < len(members)
            return {"errcode": 0, "result": {"has_more": more, **({"next_cursor": cursor + size} if more else {}),
                                             "list": [_user(p) for p in members[cursor:cursor + size]]}}
        if path == "/topapi/v2/user/get":
            person = org.people.get(body.get("userid"))
            return {"errcode": 0, "result": _user(person)} if person else {"errcode": 60121, "errmsg": "no such user"}
        return {"errcode": 404, "errmsg": "not a DingTalk call this server plays"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _handle(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length", 0) or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            data = json.dumps(answer(parts.path, query, body), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def export_database(path: Path) -> None:
    """The organisation in the current database, as DingTalk would hold it: its department codes as
    ids (sync with DIRECTORY_DEPARTMENT_PREFIX empty), its top departments under a root "1"."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learntrace.settings")
    django.setup()
    from learntrace.org.models import Department, Employee

    departments = [{"id": ROOT, "name": "演示组织", "parent": ""}]
    for department in Department.objects.filter(is_active=True).select_related("parent"):
        departments.append({"id": department.code, "name": department.name,
                            "parent": department.parent.code if department.parent_id else ROOT})
    people = [{"userid": e.dingtalk_user_id or e.employee_no, "name": e.name, "department": e.department.code,
               "job_number": e.employee_no, "title": e.position, "mobile": e.mobile, "email": e.email}
              for e in Employee.objects.filter(is_active=True).select_related("department")]
    path.write_text(json.dumps({"departments": departments, "people": people}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    print(f"{len(departments)} departments and {len(people)} people written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--org", type=Path, help="the organisation to serve (JSON)")
    parser.add_argument("--export", type=Path, help="write the database's organisation to this file and stop")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.export:
        export_database(args.export)
        return
    if not args.org:
        parser.error("--org FILE or --export FILE")
    server = serve(Organisation(args.org), port=args.port)
    print(f"DingTalk-like contacts on http://127.0.0.1:{server.server_address[1]} "
          f"(app key {APP_KEY}, app secret {APP_SECRET}); Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
