"""A deployment that switches a platform's sign-in on without configuring its app is told at start."""

from django.core import checks

from learntrace.accounts import methods


@checks.register()
def platforms_configured(app_configs, **kwargs):
    from learntrace.platforms.registry import PLATFORMS

    return [
        checks.Warning(f"SIGNIN_METHODS has {platform.method}, but its app is not configured: "
                       "its sign-in refuses everyone.",
                       hint="See the README, \"Signing in\".", id=f"learntrace.platforms.W00{number}")
        for number, platform in enumerate(PLATFORMS.values(), start=1)
        if methods.enabled(platform.method) and not platform.configured()
    ]
