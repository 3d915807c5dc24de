from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    name = "learntrace.checkin"
    label = "checkin"
    verbose_name = _("Meeting check-in")
