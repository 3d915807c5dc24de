from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "learntrace.sso"
    label = "sso"
    verbose_name = _("Sign-in with OpenID Connect and CAS")

    def ready(self):
        from django.conf import settings

        from learntrace.accounts import methods
        from learntrace.accounts.models import Method
        from learntrace.sso import checks  # noqa: F401  (registers the configuration checks)

        methods.START_URL_NAMES[Method.OIDC] = "sso:oidc_start"
        methods.START_URL_NAMES[Method.CAS] = "sso:cas_start"
        methods.START_LABELS[Method.OIDC] = lambda: settings.OIDC_LABEL
        methods.START_LABELS[Method.CAS] = lambda: settings.CAS_LABEL
