"""Keeps sign-in link tokens out of the logs: Django logs the path of every refused request, and a
link's path carries its token."""

import logging
import re

LINK_TOKEN = re.compile(r"(/accounts/link/)(?!password/)[^/\s]+")


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = LINK_TOKEN.sub(r"\1…", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
