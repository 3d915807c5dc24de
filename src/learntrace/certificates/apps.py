from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "learntrace.certificates"
    label = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from learntrace.certificates import tasks
        from learntrace.exams.signals import result_recorded

        result_recorded.connect(tasks.on_result_recorded, dispatch_uid="certificates-follow-exam-results")
