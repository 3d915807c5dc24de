"""`learntrace verify_bundle FILE [--public-key PEM]`: verify an evidence bundle; no database is used."""

from django.core.management.base import BaseCommand

from learntrace.evidence import offline


class Command(BaseCommand):
    help = "Verify an evidence bundle offline (exit status 0 when it verifies)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--public-key")

    def handle(self, *args, bundle, public_key, **options):
        status = offline.main([bundle] + (["--public-key", public_key] if public_key else []))
        if status:
            raise SystemExit(status)
