"""A real local SMTP server (aiosmtpd) that enforces RFC 6152: it offers 8BITMIME or not, and
refuses a message with 8-bit bytes unless the server offered 8BITMIME and the client declared
`BODY=8BITMIME`. Accepted messages are kept as bytes, with the envelope's MAIL options."""

import socket

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self, *, eight_bit: bool):
        self.eight_bit = eight_bit
        self.messages = []  # (mail options, raw bytes)
        self.refused = []
        server = self

        class Handler:
            async def handle_EHLO(self, smtp, session, envelope, hostname, responses):
                session.host_name = hostname
                if not server.eight_bit:
                    responses = [line for line in responses if "8BITMIME" not in line.upper()]
                return responses

            async def handle_DATA(self, smtp, session, envelope):
                raw = envelope.original_content or envelope.content
                declared = "BODY=8BITMIME" in [option.upper() for option in envelope.mail_options]
                if any(byte > 127 for byte in raw) and not (server.eight_bit and declared):
                    server.refused.append(raw)
                    return "554 5.6.0 8-bit data without BODY=8BITMIME"
                server.messages.append((list(envelope.mail_options), raw))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()
