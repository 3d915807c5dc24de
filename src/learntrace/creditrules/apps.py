from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditRulesConfig(AppConfig):
    name = "learntrace.creditrules"
    label = "creditrules"
    verbose_name = _("Credit rules")
