from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "learntrace.evidence"
    label = "evidence"
    verbose_name = _("Evidence")

    def ready(self):
        from django.db.models.signals import post_migrate

        from learntrace.core import node_keys

        from . import keys, queue

        post_migrate.connect(queue.after_migrate, sender=self)

        node_keys.register(node_keys.NodeKey("EVIDENCE_SIGNING_KEY_FILE", keys.node_fingerprint,
                                             written_with=keys.last_sealed_with))
