"""`learntrace import_history FILE [--dry-run]`: import past training records (all or nothing)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from learntrace.org.importing import ImportFileError
from learntrace.records.history import HistoryImport


class Command(BaseCommand):
    help = "Import training records from before learntrace (XLSX/CSV), marked as imported."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--as", dest="actor", help="username recorded in the audit trail")

    def handle(self, *args, file, dry_run, actor, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        user = get_user_model().objects.filter(username=actor).first() if actor else None
        run = HistoryImport(path, path.name)
        try:
            result = run.dry_run() if dry_run else run.apply(actor=user)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for error in result.errors[:50]:
            self.stdout.write(f"  row {error['row']}, {error['column']}: {error['message']}")
        self.stdout.write(f"{result.rows} rows: {result.facts} time records, {result.completions} completions, "
                          f"{result.unchanged} already imported")
        if not result.ok:
            raise CommandError(f"{len(result.errors)} row error(s); nothing was written.")
