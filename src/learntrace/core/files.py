"""Files served from this server's disk (course media, finished exports) and the page that
says one is missing here: a missing file answers 404 with its reason, never a server error."""

import mimetypes
import re
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

# What a downloaded file's name keeps of data (an employee number): letters, digits, "_.-".
UNSAFE_IN_NAME = re.compile(r"[^\w.-]+")


class FileMissing(Http404):
    """A file the database names that this server cannot read; its message is shown to the person."""


def open_served(path: str | Path, *, missing: str) -> BinaryIO:
    """The file opened for reading (the caller, or Django's response, closes it); `missing`
    is the message when it cannot be opened: not here, a folder, or not readable."""
    try:
        return open(path, "rb")  # noqa: SIM115 - handed to the response, which closes it
    except OSError as exc:
        raise FileMissing(missing) from exc


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


def not_found(request, exception=None):
    """Django's 404 page, with the reason when it is a missing file."""
    message = str(exception) if isinstance(exception, FileMissing) else ""
    return render(request, "404.html", {"message": message}, status=404)
