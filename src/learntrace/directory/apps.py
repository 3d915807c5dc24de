from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "learntrace.directory"
    label = "directory"
    verbose_name = _("Directory sync")

    def ready(self):
        from learntrace.directory import checks  # noqa: F401  (registers the configuration check)
