from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "learntrace.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from learntrace.checkin.signals import attendance_recorded
        from learntrace.compliance.signals import period_judged
        from learntrace.records.signals import completion_recorded, completion_voided
        from learntrace.webhooks import events

        completion_recorded.connect(events.on_completion_recorded, dispatch_uid="webhooks-completion-recorded")
        completion_voided.connect(events.on_completion_voided, dispatch_uid="webhooks-completion-voided")
        attendance_recorded.connect(events.on_attendance_recorded, dispatch_uid="webhooks-attendance")
        period_judged.connect(events.on_period_judged, dispatch_uid="webhooks-period-judged")
