"""`learntrace restore FOLDER`: a backup made by `learntrace backup`, into this node's empty database.

It checks every file against the manifest first, refuses a database that already holds learntrace, puts
the backup's keys where this node reads them (a key given in the environment must be the backup's), and
copies the media into the shared storage (the folder, or the S3 bucket this node is configured with).
Then `learntrace migrate` and `learntrace verify` (docs/operations.md)."""

import json
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from learntrace.core import backups
from learntrace.core.node_keys import fingerprint
from learntrace.env import env


class Command(BaseCommand):
    help = "Restore a backup folder into this node's empty database, with its keys and media."
    requires_system_checks: list[str] = []  # the keys are about to be replaced by the backup's

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)

    def handle(self, *args, folder: Path, **options):
        manifest = self._checked_manifest(folder)
        if manifest["database"] != connection.vendor:
            raise CommandError(f"The backup is of a {manifest['database']} database; "
                               f"this node uses {connection.vendor}.")
        if "django_migrations" in connection.introspection.table_names():
            raise CommandError("This node's database already holds learntrace: restore into an empty database.")
        self._keys(folder / "keys")
        if connection.vendor == "sqlite":
            self._sqlite(folder / backups.SQLITE_FILE)
        else:
            self._postgres(folder / backups.POSTGRES_FILE)
        if (folder / backups.MEDIA_FOLDER).exists():
            backups.copy_media_in(folder / backups.MEDIA_FOLDER)  # into the shared folder or the bucket
        self.stdout.write(self.style.SUCCESS(
            f"Restored the backup of {manifest['made_at']}. Now run `learntrace migrate` and `learntrace verify`."))

    @staticmethod
    def _checked_manifest(folder: Path) -> dict:
        try:
            manifest = json.loads((folder / backups.MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{folder} is not a learntrace backup: {backups.MANIFEST} cannot be read.") from exc
        found = backups.checksums(folder)
        for name, digest in manifest["files"].items():
            if found.get(name) != digest:
                raise CommandError(f"{name} is missing or changed since the backup was made: not restored.")
        return manifest

    def _keys(self, keys: Path) -> None:
        """The backup's keys replace the ones this node generated; one set in the environment must match."""
        data = Path(settings.DATA_DIR)
        wanted = [("SECRET_KEY", keys / backups.SECRET_KEY_FILE, data / backups.SECRET_KEY_FILE,
                   lambda text: fingerprint(text) == fingerprint(settings.SECRET_KEY)),
                  ("FIELD_ENCRYPTION_KEY", keys / backups.FIELD_KEY_FILE, data / backups.FIELD_KEY_FILE,
                   lambda text: text.split(",")[0].strip() == settings.FIELD_ENCRYPTION_KEYS[0])]
        for setting, source, target, same in wanted:
            text = source.read_text().strip()
            if env(setting):  # given to this node (directly or as a file), not generated into DATA_DIR
                if not same(text):
                    raise CommandError(f"{setting} is set in this node's environment and is not the backup's: "
                                       f"unset it or give the backup's {setting}.")
                continue
            self._replace(target, text)
        signing = keys / backups.SIGNING_KEY_FILE
        if signing.exists():
            self._replace(Path(settings.EVIDENCE_SIGNING_KEY_FILE), signing.read_text())

    def _replace(self, target: Path, text: str) -> None:
        if target.exists():
            if target.read_text().strip() == text.strip():
                return
            target.replace(target.with_name(target.name + ".before-restore"))
        target.parent.mkdir(parents=True, exist_ok=True)
        backups.write_secret(target, text)
        self.stdout.write(f"Key written to {target}.")

    @staticmethod
    def _sqlite(source: Path) -> None:
        connection.ensure_connection()
        backup = sqlite3.connect(source)
        try:
            backup.backup(connection.connection)
        finally:
            backup.close()

    @staticmethod
    def _postgres(source: Path) -> None:
        run = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname",
                              backups.postgres_dsn(connection.settings_dict), str(source)],
                             capture_output=True, text=True, env=backups.postgres_environment(connection.settings_dict))
        if run.returncode != 0:
            raise CommandError(f"pg_restore failed: {run.stderr.strip()}")
