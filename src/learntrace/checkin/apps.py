from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "learntrace.checkin"
    label = "checkin"
    verbose_name = _("Meeting check-in")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import counts

        post_migrate.connect(counts.after_migrate, sender=self)
