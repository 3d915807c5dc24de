"""`learntrace archive --before DATE [--to FILE]`: move the beats of the seals made before DATE out of
the database into FILE (or the shared storage), with a signed link in the seal chain (records/archive.py). `--finish`
only completes the deletions of an interrupted run; `--list` shows the archives made."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from learntrace.core import locks
from learntrace.core.months import start_of_day
from learntrace.evidence import services
from learntrace.evidence.models import Seal
from learntrace.records import archive


class Command(BaseCommand):
    help = ("Archive old beats: write those of the seals made before --before (a date, the deployment's midnight) "
            "to --to, a file that `learntrace verify_bundle` checks offline, record the archive in the seal chain "
            "and delete them from the database. Progress and reports keep their time (the running sums).")

    def add_arguments(self, parser):
        parser.add_argument("--before", help="YYYY-MM-DD: archive what was sealed before this day began")
        parser.add_argument("--to", help="the archive file to write (gzip'd JSON lines; never overwritten); "
                                         "without it, the file goes to the shared storage's archives/")
        parser.add_argument("--finish", action="store_true", help="only delete what earlier archives left")
        parser.add_argument("--list", dest="show_list", action="store_true",
                            help="list the archives recorded in the chain")

    def handle(self, *args, before, to, finish, show_list, **options):
        if show_list:
            links = Seal.objects.filter(archive__isnull=False).order_by("number")
            if not links.exists():
                self.stdout.write("no archives: every beat is in the database")
            for link in links:
                a = services.archive_of(link)
                if a is None:
                    self.stdout.write(f"link #{link.number}: its record of an archive is damaged; "
                                      f"run `learntrace verify`")
                    continue
                self.stdout.write(f"link #{link.number} {link.created_at:%Y-%m-%d %H:%M}: {a['facts']} beats of seals "
                                  f"#{a['first_seal']}–#{a['last_seal']} (sealed before {a['before']}), file SHA-256 "
                                  f"{a['file_sha256']}, {a['kept']} facts kept, file "
                                  f"{link.archive_file or 'kept by the operator'}"
                                  + ("" if link.archive_done else ", deletion not finished"))
            return
        if finish:
            with locks.exclusive(archive.LOCK) as held:
                if not held:
                    raise CommandError("another archive is running: it finishes what it deletes")
                self.stdout.write(f"{archive.finish()} archived beats deleted")
            return
        if not before:
            raise CommandError("give --before YYYY-MM-DD (and --to FILE), or --finish, or --list")
        try:
            day = dt.date.fromisoformat(before)
        except ValueError as exc:
            raise CommandError(f"--before takes a date as YYYY-MM-DD, not {before!r}") from exc
        with locks.exclusive(archive.LOCK) as held:  # the worker's nightly run, or another command
            if not held:
                raise CommandError("nothing archived: another archive is running")
            deleted = archive.finish()  # an earlier run that was interrupted is completed first
            if deleted:
                self.stdout.write(f"{deleted} beats of an earlier archive deleted")
            try:
                link = archive.archive(before=start_of_day(day), path=to)
            except archive.ArchiveRefused as exc:
                raise CommandError(f"nothing archived: {exc}") from exc
        a = link.archive
        self.stdout.write(f"{a['facts']} beats of seals #{a['first_seal']}–#{a['last_seal']} archived to "
                          f"{to or 'the shared storage as ' + link.archive_file} "
                          f"(SHA-256 {a['file_sha256']}) and deleted; recorded in the chain as link #{link.number}")
