from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformsConfig(AppConfig):
    name = "learntrace.platforms"
    label = "platforms"
    verbose_name = _("Sign-in with DingTalk, WeCom and Feishu")

    def ready(self):
        from learntrace.accounts import methods
        from learntrace.platforms import checks  # noqa: F401  (registers the configuration check)
        from learntrace.platforms.registry import PLATFORMS

        for platform in PLATFORMS.values():
            methods.START_URL_NAMES[platform.method] = f"platforms:{platform.method}_start"
            methods.IN_APP_STARTS[platform.method] = (platform.user_agent, platform.in_app_url_name)
