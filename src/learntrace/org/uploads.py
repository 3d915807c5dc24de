"""Keeping uploaded files in the shared storage under a name of our choosing: the node that reads one
back (the worker, or the web node that confirms a checked file) may not be the one that received it."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile

from learntrace.core.files import store

SUFFIX_LENGTH = 8


def store_upload(upload: UploadedFile[bytes]) -> tuple[str, str]:
    """Save the upload; returns (its storage name, its SHA-256)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    # Never trust the browser's file name for the name: keep only the suffix we allow.
    suffix = "".join(c for c in Path(upload.name or "").suffix.lower() if c.isascii() and (c.isalnum() or c == "."))
    return store(f"uploads/{uuid.uuid4().hex}{suffix[:SUFFIX_LENGTH]}", upload), digest.hexdigest()
