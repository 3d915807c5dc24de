"""`learntrace verify`: recompute every seal; exit status 0 when all is intact, 1 otherwise. Facts not
sealed yet are counted and named as such: they are not evidence until a seal covers them."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from learntrace.core.numbers import whole_number
from learntrace.evidence import services
from learntrace.evidence.sources import NAMES


class Command(BaseCommand):
    help = "Verify the sealed evidence (or one fact with --fact SOURCE:ID)."

    def add_arguments(self, parser):
        parser.add_argument("--fact", help=f"verify one fact's inclusion proof, e.g. creditedtime:42 "
                                           f"(sources: {', '.join(NAMES.values())})")
        parser.add_argument("--seal-first", action="store_true", help="seal pending facts before verifying")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="connections that check seals at once (PostgreSQL)")

    def handle(self, *args, fact, seal_first, workers, **options):
        if seal_first:
            services.seal_pending(via="verify --seal-first")
        if fact:
            name, _sep, fact_id = fact.partition(":")
            codes = {v: k for k, v in NAMES.items()}
            if name not in codes or whole_number(fact_id) is None:
                raise CommandError(f"--fact takes SOURCE:ID, SOURCE one of {', '.join(codes)}")
            if not services.verify_fact(codes[name], int(fact_id)):
                self.stdout.write(f"{fact}: NOT verified (changed, unsealed or unknown)")
                raise SystemExit(1)
            self.stdout.write(f"{fact}: verified against seal {services.prove(codes[name], int(fact_id))['seal']}")
            return
        started = timezone.now()
        report = services.verify(workers=max(workers, 1))
        services.record_verification(report=report, started_at=started)
        for problem in report.problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"{report.seals} seals, {report.facts} facts: "
                          f"{'intact' if report.ok else f'{len(report.problems)} problem(s)'}")
        if report.archived:
            self.stdout.write(f"{report.archived} of those facts were archived: their seals and the archives' links "
                              f"were verified here, the facts themselves are checked in their archive files "
                              f"(`learntrace verify_bundle FILE --public-key KEY`).")
        if report.unsealed:
            self.stdout.write(f"{report.unsealed} facts are not sealed yet, so not covered by this verification; "
                              f"the worker seals them within 5 minutes, `learntrace seal` seals them now.")
        if not report.ok:
            raise SystemExit(1)
