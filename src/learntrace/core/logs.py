"""Logging failures without the data that caused them."""

import logging
import traceback


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected exception by its type and the places it passed through. Its message,
    the values in the traceback and even the source lines are left out: they may quote a cell of
    an uploaded file (a name, a national ID number)."""
    frames = "\n".join(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
                       for frame in traceback.extract_tb(exc.__traceback__))
    log.error("%s: %s\n%s", what, type(exc).__qualname__, frames)


class OneLineRefusals(logging.Filter):
    """A refusal (403) is an answer, not a crash: Django logs it with the PermissionDenied's
    traceback, which reads as if the server failed. Keep its one line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
