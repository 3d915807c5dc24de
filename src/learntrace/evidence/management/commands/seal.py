"""`learntrace seal`: seal the facts not sealed yet now, as the worker does every 5 minutes."""

from django.core.management.base import BaseCommand

from learntrace.evidence import services


class Command(BaseCommand):
    help = "Seal every learning fact not sealed yet (the worker does this every 5 minutes)."

    def handle(self, *args, **options):
        seals = services.seal_pending(via="seal command")
        if not seals:
            self.stdout.write("Nothing to seal: every fact is sealed.")
            return
        facts = sum(seal.fact_count for seal in seals)
        numbers = f"#{seals[0].number}" + (f"–#{seals[-1].number}" if len(seals) > 1 else "")
        self.stdout.write(f"Sealed {facts} facts in seal {numbers}.")
