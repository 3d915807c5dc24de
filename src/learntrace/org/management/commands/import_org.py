"""`learntrace import_org FILE`: import departments and employees with a progress bar."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from learntrace.org.importing import ImportFileError, OrgImport


class Command(BaseCommand):
    help = "Import departments and employees from an XLSX or CSV file (dry run first, then all-or-nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--deactivate-missing", action="store_true",
                            help="The file is the whole organisation: deactivate active employees not in it.")
        parser.add_argument("--as", dest="actor", default=None, help="Username recorded in the audit trail.")
        parser.add_argument("--max-errors", type=int, default=50,
                            help="How many row errors (and changed rows) to print.")

    def handle(self, *args, file, dry_run, deactivate_missing, actor, max_errors, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        actor_user = None
        if actor:
            actor_user = get_user_model().objects.filter(username=actor).first()
            if actor_user is None:
                raise CommandError(f"No such user: {actor}")

        for phase in (["check"] if dry_run else ["check", "import"]):
            with tqdm(total=0, unit="rows", desc=phase, disable=options["verbosity"] == 0,
                      file=self.stderr._out) as bar:
                def progress(done, total, bar=bar):
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                run = OrgImport(path, path.name, deactivate_missing=deactivate_missing, progress=progress)
                try:
                    result = run.dry_run() if phase == "check" else run.apply(actor=actor_user)
                except ImportFileError as exc:
                    raise CommandError(str(exc)) from exc
            self._report(result, max_errors)
            if not result.ok:
                raise CommandError(f"{result.error_count} row error(s); nothing was written.")
        self.stdout.write(self.style.SUCCESS("Dry run: nothing was written." if dry_run else "Imported."))

    def _report(self, result, max_errors):
        for key, value in result.counts.items():
            self.stdout.write(f"  {key.replace('_', ' ')}: {value}")
        for change in result.changed_rows[:max_errors]:
            fields = "; ".join(f"{column}: {old!r} -> {new!r}" for column, old, new in change["fields"])
            self.stdout.write(f"  {change['kind']} {change['key']}: {fields}")
        if result.changed_row_count > max_errors:
            self.stdout.write(f"  … and {result.changed_row_count - max_errors} more changed row(s)")
        for error in result.errors[:max_errors]:
            where = f"{error['sheet']} row {error['row']}" if error["row"] else error["sheet"]
            self.stdout.write(f"  {where}, {error['column']}: {error['message']}")
        if result.error_count > max_errors:
            self.stdout.write(f"  … and {result.error_count - max_errors} more error(s)")
