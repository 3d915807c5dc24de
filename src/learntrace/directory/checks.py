"""A deployment whose directory sync settings cannot work is told at start."""

from django.conf import settings
from django.core import checks


@checks.register()
def directory_sync_configured(app_configs, **kwargs):
    from learntrace.directory.services import sources

    found = []
    source = settings.DIRECTORY_SYNC_SOURCE
    if source and source not in sources():
        found.append(checks.Error(f"DIRECTORY_SYNC_SOURCE is {source!r}; use dingtalk, wecom, feishu or ldap.",
                                  id="learntrace.directory.E001"))
    elif source and not sources()[source].configured():
        found.append(checks.Warning(f"DIRECTORY_SYNC_SOURCE is {source}, but it is not configured: every sync fails.",
                                    hint="See the README, \"Keeping the organisation in sync\".",
                                    id="learntrace.directory.W001"))
    if settings.DIRECTORY_EMPLOYEE_NO not in ("number", "userid"):
        found.append(checks.Error(f"DIRECTORY_EMPLOYEE_NO is {settings.DIRECTORY_EMPLOYEE_NO!r}; use number or userid.",
                                  id="learntrace.directory.E002"))
    return found
