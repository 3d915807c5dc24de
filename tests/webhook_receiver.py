"""A real HTTP server on 127.0.0.1 that receives webhooks as a subscriber's endpoint would: it keeps
each request's headers and raw body (the tests verify the signature with the standardwebhooks
library), and answers the statuses queued in `next_statuses` (then 204), or sleeps first."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.next_statuses: list[int] = []
        self.sleep_next = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.received.append(Received(self.path, headers, body))
                    status = receiver.next_statuses.pop(0) if receiver.next_statuses else 204
                    sleep, receiver.sleep_next = receiver.sleep_next, 0.0
                if sleep:
                    time.sleep(sleep)
                answer = b"" if status == 204 else f"status {status}".encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the sender gave up waiting
                    pass

        return Handler
