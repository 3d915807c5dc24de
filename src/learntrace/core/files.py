"""Files every node shares (course media, declarations' certificates, uploaded imports, finished exports),
kept in Django's default storage: the shared folder, or an S3-compatible bucket (core/object_storage.py).

They are named by their storage name ("uploads/….csv"); code that needs a path on this machine (a
spreadsheet reader, a video's length) reads a temporary local copy. After its permission check, a view
hands the file over: from the bucket by a redirect to a short-lived presigned link (ranges are then
answered by the bucket), from the folder by X-Accel-Redirect to a web server in front or by learntrace
itself. A missing file answers 404 with its reason, never a server error."""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import content_disposition_header

from learntrace.core import unavailable
from learntrace.core.logs import log_failure

log = logging.getLogger(__name__)

# What a downloaded file's name keeps of data (an employee number): letters, digits, "_.-".
UNSAFE_IN_NAME = re.compile(r"[^\w.-]+")
COPY_CHUNK = 1024 * 1024


class FileMissing(Http404):
    """A file the database names that this server cannot read; its message is shown to the person."""


def store(name: str, content: IO[bytes] | File[bytes]) -> str:
    """Save `content` in the shared storage under `name` (or a free name beside it); returns the name kept."""
    return default_storage.save(name, File(content, name=Path(name).name))


def local_path(name: str) -> Path | None:
    """Where a stored file lies on this machine: in the shared folder; None when it is in a bucket.
    An absolute path is a file named before the storage was used (an older version's upload or export)."""
    if os.path.isabs(name):
        return Path(name)
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:  # how Django storages without local files (the bucket) answer path()
        return None


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A path on this machine to read a stored file from, while the block runs: the file itself in the
    shared folder, else a temporary copy of the object, removed afterwards. FileNotFoundError when it
    is not stored; OSError when the storage cannot be read."""
    local = local_path(name)
    if local is not None:
        if not local.is_file():
            raise FileNotFoundError(name)
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="learntrace-copy-") as folder:
        copy = Path(folder) / Path(name).name
        try:
            with default_storage.open(name, "rb") as stored, copy.open("wb") as handle:
                shutil.copyfileobj(stored, handle, COPY_CHUNK)
        except FileNotFoundError:
            raise
        except Exception as exc:  # the bucket's client raises its own errors: all mean "cannot be read"
            if not default_storage.exists(name):
                raise FileNotFoundError(name) from exc
            raise OSError(f"{name} cannot be read from the shared storage") from exc
        yield copy


def remove(name: str) -> None:
    """Delete a stored file; one already gone is no error."""
    local = local_path(name)
    if local is not None:
        local.unlink(missing_ok=True)
    else:
        default_storage.delete(name)


def open_served(path: str | Path, *, missing: str) -> BinaryIO:
    """The file opened for reading (the caller, or Django's response, closes it); `missing`
    is the message when it cannot be opened: not here, a folder, or not readable."""
    try:
        return open(path, "rb")  # noqa: SIM115 - handed to the response, which closes it
    except OSError as exc:
        raise FileMissing(missing) from exc


def hand_over(name: str, *, missing: str, filename: str = "", content_type: str = "") -> HttpResponse | Path:
    """After the caller's permission check: the answer that hands the stored file `name` to someone else to
    send (the bucket, or a web server in front of the shared folder), or the local path that learntrace
    sends itself. `filename` makes it a download under that name; `missing` is the 404's message."""
    local = local_path(name)
    if local is None:
        return redirected_to_bucket(name, missing=missing, filename=filename, content_type=content_type)
    return handed_to_web_server(local, missing=missing, filename=filename) or local


def redirected_to_bucket(name: str, *, missing: str, filename: str = "", content_type: str = "") -> HttpResponse:
    """A redirect to the object by a presigned link that works for S3_URL_SECONDS: the bucket then answers
    ranges, and no web worker streams video. `content_type` is the type the bucket answers with (else the
    one stored with the object)."""
    parameters = {}
    if filename:
        parameters["ResponseContentDisposition"] = attachment(filename)
    if content_type:
        parameters["ResponseContentType"] = content_type
    try:
        stored = default_storage.exists(name)
        # django-storages' S3 storage signs these response headers into the link (Django's base has no such
        # argument).
        link = default_storage.url(name, parameters=parameters)  # type: ignore[call-arg]
    except Exception as exc:  # the bucket's client raises its own errors: the storage is at fault, not the request
        log_failure(log, "the shared storage cannot be reached", exc)
        return unavailable.page_unavailable_response(unavailable.storage_unavailable_message())
    if not stored:
        raise FileMissing(missing)
    response = HttpResponseRedirect(link)
    response["Cache-Control"] = "private, no-store"  # a remembered link would outlive its signature
    return response


def handed_to_web_server(path: str | Path, *, missing: str, filename: str = "") -> HttpResponse | None:
    """When a web server in front sends the shared folder's files itself (FILES_ACCEL_REDIRECT), the
    answer that hands this file to it (it then serves ranges too, and no web worker streams video);
    None when learntrace sends the file. `filename` makes it a download under that name."""
    prefix = settings.FILES_ACCEL_REDIRECT
    if not prefix:
        return None
    file = Path(path).resolve()
    try:
        relative = file.relative_to(settings.SHARED_DIR)
    except ValueError:
        return None  # not in the shared folder: the web server cannot see it
    if not file.is_file():
        raise FileMissing(missing)
    response = HttpResponse(content_type=mimetypes.guess_type(file.name)[0] or "application/octet-stream")
    response["X-Accel-Redirect"] = f"{prefix}/{quote(relative.as_posix())}"
    if filename:
        response["Content-Disposition"] = attachment(filename)
    return response


def attachment(filename: str) -> str:
    """The Content-Disposition of a download whose name holds data: quotes, semicolons or line
    breaks in it can neither break the header nor fail the response."""
    return content_disposition_header(True, UNSAFE_IN_NAME.sub("_", filename))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 page, with the reason when it is a missing file."""
    message = str(exception) if isinstance(exception, FileMissing) else ""
    return render(request, "404.html", {"message": message}, status=404)
