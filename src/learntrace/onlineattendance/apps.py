from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnlineAttendanceConfig(AppConfig):
    name = "learntrace.onlineattendance"
    label = "onlineattendance"
    verbose_name = _("Online meeting attendance")
