from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "learntrace.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from learntrace.checkin.signals import attendance_recorded
        from learntrace.compliance.signals import period_judged
        from learntrace.exams.signals import result_recorded
        from learntrace.records.signals import (
            completion_recorded,
            completion_voided,
            completions_imported,
            outside_credit_recorded,
            time_corrected,
        )
        from learntrace.webhooks import events
        from learntrace.webhooks.models import Subscription

        completion_recorded.connect(events.on_completion_recorded, dispatch_uid="webhooks-completion-recorded")
        completion_voided.connect(events.on_completion_voided, dispatch_uid="webhooks-completion-voided")
        completions_imported.connect(events.on_completions_imported, dispatch_uid="webhooks-completions-imported")
        time_corrected.connect(events.on_time_corrected, dispatch_uid="webhooks-time-corrected")
        outside_credit_recorded.connect(events.on_outside_credit_recorded, dispatch_uid="webhooks-outside-credit")
        result_recorded.connect(events.on_exam_result_recorded, dispatch_uid="webhooks-exam-result")
        attendance_recorded.connect(events.on_attendance_recorded, dispatch_uid="webhooks-attendance")
        period_judged.connect(events.on_period_judged, dispatch_uid="webhooks-period-judged")
        # Whatever changes a subscription (a page, the shell, a test) drops the cached event list.
        post_save.connect(events.on_subscription_changed, sender=Subscription, dispatch_uid="webhooks-saved")
        post_delete.connect(events.on_subscription_changed, sender=Subscription, dispatch_uid="webhooks-deleted")
