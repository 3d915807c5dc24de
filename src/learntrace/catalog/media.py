"""Serving course media with HTTP range requests, so that players can seek: from the shared folder by
learntrace itself when nothing else sends it (the bucket and a web server in front answer ranges
themselves, see core/files.py)."""

import mimetypes
import os
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from learntrace.core.files import hand_over, open_served

# ASCII digits only (`\d` takes any Unicode digit), and few enough that int() cannot refuse them.
RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")
CHUNK = 64 * 1024


def _read(handle, start: int, length: int):
    with handle:
        handle.seek(start)
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data


def media_response(request, name: str, *, missing: str) -> HttpResponse:
    """The stored file `name` for a player, after the caller's permission check; `missing` is the 404's
    message when it is not stored."""
    handed = hand_over(name, missing=missing)
    return handed if isinstance(handed, HttpResponse) else ranged_file_response(request, handed, missing=missing)


def ranged_file_response(request, path: Path, *, missing: str) -> HttpResponse:
    """The file, whole or the asked range; `missing` is the 404's message when this server lacks it.
    The file is opened once, so its size and its bytes come from the same file."""
    handle = open_served(path, missing=missing)
    size = os.fstat(handle.fileno()).st_size
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or match.groups() == ("", ""):
        # No (or an unparsable, or a multi-part) range: the whole file, as RFC 9110 allows.
        response = FileResponse(handle, content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    response = StreamingHttpResponse(_read(handle, start, end - start + 1), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response
