"""`learntrace backup FOLDER`: everything a restore needs, in one new folder (docs/operations.md).

The database (SQLite: its online backup, consistent while learntrace runs; PostgreSQL: `pg_dump`), the
three keys (without them the copy is unreadable: sessions, encrypted fields and seals depend on them) and
the course media and certificates, read through the shared storage: the folder, or the S3 bucket. A
manifest lists each file with its SHA-256. Keep the folder somewhere safe: it holds the keys."""

import json
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from learntrace.core import backups


class Command(BaseCommand):
    help = "Back up the database, the keys and the course media into a new folder."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)

    def handle(self, *args, folder: Path, **options):
        if folder.exists() and any(folder.iterdir()):
            raise CommandError(f"{folder} is not empty: a backup goes into a new folder.")
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)  # it holds the keys
        if connection.vendor == "sqlite":
            self._sqlite(folder / backups.SQLITE_FILE)
        else:
            self._postgres(folder / backups.POSTGRES_FILE)
        keys = folder / "keys"
        keys.mkdir(mode=0o700)
        backups.write_secret(keys / backups.SECRET_KEY_FILE, settings.SECRET_KEY)
        backups.write_secret(keys / backups.FIELD_KEY_FILE, ",".join(settings.FIELD_ENCRYPTION_KEYS))
        signing = Path(settings.EVIDENCE_SIGNING_KEY_FILE)
        if signing.exists():
            backups.write_secret(keys / backups.SIGNING_KEY_FILE, signing.read_text())
        backups.copy_media_out(folder / backups.MEDIA_FOLDER)  # from the shared folder or the bucket
        manifest = {"made_at": timezone.now().isoformat(), "database": connection.vendor,
                    "files": backups.checksums(folder)}
        (folder / backups.MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        self.stdout.write(self.style.SUCCESS(f"Backed up into {folder} ({len(manifest['files'])} files)."))

    @staticmethod
    def _sqlite(target: Path) -> None:
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            connection.connection.backup(copy)  # pages copied under SQLite's own locking: a consistent copy
        finally:
            copy.close()

    @staticmethod
    def _postgres(target: Path) -> None:
        run = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target),
                              backups.postgres_dsn(connection.settings_dict)], capture_output=True, text=True,
                             env=backups.postgres_environment(connection.settings_dict))
        if run.returncode != 0:
            raise CommandError(f"pg_dump failed: {run.stderr.strip()}")
