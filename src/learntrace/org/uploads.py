"""Keeping uploaded files in the shared folder under a name of our choosing."""

import hashlib
import uuid
from pathlib import Path

from django.conf import settings


def store_upload(upload) -> tuple[Path, str]:
    folder = Path(settings.SHARED_DIR) / "uploads"  # the worker, maybe on another node, reads it
    folder.mkdir(parents=True, exist_ok=True)
    # Never trust the browser's file name for the path: keep only the suffix we allow.
    target = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    digest = hashlib.sha256()
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return target, digest.hexdigest()
