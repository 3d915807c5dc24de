"""`learntrace verify_bundle FILE --public-key PEM`: verify an evidence bundle; no database is used."""

from django.core.management.base import BaseCommand

from learntrace.evidence import offline


class Command(BaseCommand):
    help = ("Verify an evidence bundle or an archive of beats offline against the organisation's public key "
            "(exit status 0 when it verifies).")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--public-key", required=True,
                            help="the organisation's public key (PEM), obtained independently")

    def handle(self, *args, bundle, public_key, **options):
        status = offline.main([bundle, "--public-key", public_key])
        if status:
            raise SystemExit(status)
