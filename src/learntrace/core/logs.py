"""Logging failures without the data that caused them."""

import logging
import traceback


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected exception by its type and where it was raised. Its message and the
    values in the traceback are left out: they may quote a cell of an uploaded file (a name,
    a national ID number)."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error("%s: %s\n%s", what, type(exc).__qualname__, frames.rstrip())
