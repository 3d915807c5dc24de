"""`learntrace sync_directory SOURCE [--dry-run] [--deactivate-missing]`: read the organisation from
DingTalk, WeCom, Feishu or LDAP and import it like a file (checked first, all or nothing)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from learntrace.directory.services import sync_begin, sync_run
from learntrace.directory.sources import DirectoryError
from learntrace.org.models import ImportBatch


class Command(BaseCommand):
    help = "Sync departments and employees from dingtalk, wecom, feishu or ldap (dry run first, all-or-nothing)."

    def add_arguments(self, parser):
        parser.add_argument("source", help="dingtalk, wecom, feishu or ldap")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--deactivate-missing", action="store_true",
                            help="Deactivate active employees the directory does not list.")
        parser.add_argument("--as", dest="actor", default=None, help="Username recorded in the audit trail.")
        parser.add_argument("--max-errors", type=int, default=50, help="How many errors and changes to print.")

    def handle(self, *args, source, dry_run, deactivate_missing, actor, max_errors, **options):
        actor_user = None
        if actor:
            actor_user = get_user_model().objects.filter(username=actor).first()
            if actor_user is None:
                raise CommandError(f"No such user: {actor}")
        try:
            batch = sync_begin(source=source.lower(), actor=actor_user, deactivate_missing=deactivate_missing)
        except DirectoryError as exc:
            raise CommandError(str(exc)) from exc
        batch = sync_run(batch, apply=not dry_run)
        for key, value in batch.summary.items():
            self.stdout.write(f"  {key.replace('_', ' ')}: {value}")
        for change in batch.changed_rows[:max_errors]:
            fields = "; ".join(f"{column}: {old!r} -> {new!r}" for column, old, new in change["fields"])
            self.stdout.write(f"  {change['kind']} {change['key']}: {fields}")
        for error in batch.errors[:max_errors]:
            where = f"{error['sheet']} row {error['row']}" if error["row"] else error["sheet"] or "directory"
            self.stdout.write(f"  {where}, {error['column']}: {error['message']}")
        if batch.error_count > max_errors:
            self.stdout.write(f"  … and {batch.error_count - max_errors} more error(s)")
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.errors[0]["message"] if batch.errors else "The sync failed.")
        if batch.status == ImportBatch.Status.INVALID:
            raise CommandError(f"{batch.error_count} row error(s); nothing was written.")
        self.stdout.write(self.style.SUCCESS("Dry run: nothing was written." if dry_run else "Synced."))
