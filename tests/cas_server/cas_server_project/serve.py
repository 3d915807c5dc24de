"""Serves the CAS server on 127.0.0.1 at the port given, printing one line once it listens."""

import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application(), server_class=ThreadingServer,
                     handler_class=QuietHandler)
print("listening", flush=True)
server.serve_forever()
