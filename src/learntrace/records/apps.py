from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "learntrace.records"
    label = "records"
    verbose_name = _("Learning records")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import sums

        post_migrate.connect(sums.after_migrate, sender=self)
