"""What `learntrace backup` writes and `learntrace restore` reads (docs/operations.md)."""

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.core.files.storage import default_storage

from learntrace.core.files import COPY_CHUNK, store
from learntrace.env import child_environment

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
SECRET_KEY_FILE = "secret.key"
FIELD_KEY_FILE = "field-encryption.key"
SIGNING_KEY_FILE = "evidence-signing.pem"
MEDIA_FOLDER = "media"
# Uploaded imports and finished exports: personal data deleted within a day, never part of a backup.
PASSING_FOLDERS = ("uploads", "exports")


def write_secret(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): sha256(path)
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST}


def postgres_dsn(database: dict) -> str:
    """A libpq address of Django's database settings, for pg_dump and pg_restore; the password goes in
    their environment (postgres_environment), never on a command line others can read."""
    user = quote(database.get("USER") or "")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{quote(database['NAME'])}"


def postgres_environment(database: dict) -> dict[str, str]:
    return child_environment(**({"PGPASSWORD": database["PASSWORD"]} if database.get("PASSWORD") else {}))


def stored_names(folder: str = "") -> Iterator[str]:
    """Every file name in the shared storage (the folder or the bucket), below `folder`."""
    folders, files = default_storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for child in sorted(folders):
        yield from stored_names(f"{folder}/{child}" if folder else child)


def copy_media_out(target: Path) -> int:
    """Copy the course media and certificates of the shared storage into `target`; the number of files."""
    copied = 0
    try:
        names = list(stored_names())
    except FileNotFoundError:  # a shared folder never written to
        return 0
    for name in names:
        if name.split("/", 1)[0] in PASSING_FOLDERS:
            continue
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as stored, path.open("wb") as handle:
            shutil.copyfileobj(stored, handle, COPY_CHUNK)
        copied += 1
    return copied


def copy_media_in(source: Path) -> int:
    """Put the files of a backup's media folder back into the shared storage under their names."""
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.is_file():
            name = path.relative_to(source).as_posix()
            default_storage.delete(name)  # the backup's file wins, under its own name
            with path.open("rb") as handle:
                kept = store(name, handle)
            if kept != name:
                raise OSError(f"{name} could not be restored under its own name")
            copied += 1
    return copied
