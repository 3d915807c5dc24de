from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "learntrace.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import node_keys  # noqa: F401  registers the check that a node shares the installation's keys
