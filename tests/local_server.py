"""The skeleton of the tests' fake servers: a threaded HTTP server on a free port of 127.0.0.1 and a
request handler that reads and answers JSON. Each fake (fake_*.py) keeps only what its platform says."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

JSON = "application/json; charset=utf-8"


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass  # the test's output is for the test

    def send_json(self, answer, status: int = 200, content_type: str = JSON, ensure_ascii: bool = True) -> None:
        data = json.dumps(answer, ensure_ascii=ensure_ascii).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def raw_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def json_body(self, raw: bytes | None = None):
        """The body as JSON; None when it is empty or not JSON."""
        raw = self.raw_body() if raw is None else raw
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def path_and_query(self) -> tuple[str, dict]:
        """The path, and the first value of each query parameter."""
        parts = urlsplit(self.path)
        return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}

    def read_request(self, method: str) -> tuple[str, dict, dict]:
        """The path, the query's parameters and the JSON body ({} for a GET or a body that is not JSON)."""
        path, query = self.path_and_query()
        return path, query, (self.json_body() or {}) if method == "POST" else {}

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")

    def answer(self, method: str) -> None:
        """What a fake answers to `method` on self.path (unless it handles do_GET, do_POST itself)."""
        self.send_json({"error": "not found"}, 404)


class LocalServer:
    """`LocalServer(Handler)`: listening at `url` once started; `stop()` frees the port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
