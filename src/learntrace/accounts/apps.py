from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "learntrace.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # The receiver that remembers each person's latest session, before any request arrives.
        from learntrace.accounts import middleware  # noqa: F401
