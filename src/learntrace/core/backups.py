"""What `learntrace backup` writes and `learntrace restore` reads (docs/operations.md)."""

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

from learntrace.env import child_environment

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
SECRET_KEY_FILE = "secret.key"
FIELD_KEY_FILE = "field-encryption.key"
SIGNING_KEY_FILE = "evidence-signing.pem"


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
