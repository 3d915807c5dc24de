"""Locks that keep two runs of a background job apart and never outlive the process holding them.

A lock kept in the task queue's storage stays behind when its worker is killed (an OOM kill,
a SIGKILL, a host reboot), and the job then never runs again. Here the lock belongs to
something the operating system or the database ends together with the process:

- PostgreSQL: a session-level advisory lock on a connection of its own (to the server itself
  when the pages' connections go through PgBouncer: DATABASE_DIRECT_URL); the server releases
  it as soon as that connection ends, cleanly or because the process died.
- SQLite (one machine by nature): an exclusive flock() on a file in a folder beside the
  database file; the kernel releases it when the file is closed or its process dies.

Either way a lock belongs to one database, as the work it guards does.

Nothing is ever cleared at start-up, so a restarting worker cannot take a lock from a live
holder on another machine.
"""

import fcntl
import functools
import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

# The first half of every advisory lock key of learntrace's jobs; the second is the lock's name hashed
# (two names with the same hash would only take turns, never run together).
ADVISORY_NAMESPACE = 0x4C54  # "LT"


def advisory_key(name: str) -> tuple[int, int]:
    crc = zlib.crc32(name.encode())
    return ADVISORY_NAMESPACE, crc - 2**32 if crc >= 2**31 else crc  # PostgreSQL's int4 is signed


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Yields True when this process now holds the lock `name`, False when another holds it."""
    if connection.vendor == "postgresql":
        with _advisory_lock(name) as held:
            yield held
    else:
        with _file_lock(name) as held:
            yield held


@contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    # A session of its own: the job's queries may close or reset the job's connection. Through a pooler
    # in transaction mode a session is not the client's: then it connects to the server directly.
    if settings.DATABASE_DIRECT_URL:
        session = psycopg.connect(settings.DATABASE_DIRECT_URL, connect_timeout=settings.DATABASE_CONNECT_TIMEOUT)
    else:
        session = connection.get_new_connection(connection.get_connection_params())
    try:
        session.autocommit = True
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", advisory_key(name))
            held = cursor.fetchone()[0]
        yield held
    finally:
        session.close()  # ends the session, which releases the lock


def _lock_file(name: str) -> Path:
    database = Path(connection.settings_dict["NAME"])
    folder = database.with_name(f"{database.name}-locks")
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.lock"


@contextmanager
def _file_lock(name: str) -> Iterator[bool]:
    descriptor = os.open(_lock_file(name), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        yield held
    finally:
        os.close(descriptor)  # releases the lock


def forget(name: str) -> None:
    """Remove the file of a one-off lock (one per export job) once its work is finished. Call it
    only after holding the lock yourself: whoever opens the name afterwards gets a new file, so
    a holder that is still working would no longer exclude anyone."""
    if connection.vendor != "postgresql":
        _lock_file(name).unlink(missing_ok=True)


def one_at_a_time(name: str):
    """Runs the decorated job only when no other run holds the lock `name`; otherwise skips it
    (the next scheduled run catches up)."""

    def decorate(job):
        @functools.wraps(job)
        def run(*args, **kwargs):
            with exclusive(name) as held:
                if not held:
                    logger.info("%s skipped: another run holds the lock %s", job.__name__, name)
                    return None
                return job(*args, **kwargs)

        return run

    return decorate
