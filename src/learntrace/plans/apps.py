from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "learntrace.plans"
    label = "plans"
    verbose_name = _("Learning plans")

    def ready(self):
        from learntrace.org.signals import employees_changed
        from learntrace.plans import tasks

        employees_changed.connect(tasks.on_employees_changed, dispatch_uid="plans-follow-employees")
