"""A deployment that switches OpenID Connect or CAS on with a missing or unusable setting is told at start."""

from django.conf import settings
from django.core import checks

from learntrace.accounts import methods
from learntrace.accounts.models import Method
from learntrace.sso import cas, oidc

HINT = "See the README, \"Signing in\", \"OpenID Connect and CAS\"."


@checks.register()
def sso_configured(app_configs, **kwargs):
    problems = []
    if methods.enabled(Method.OIDC):
        if not oidc.configured():
            problems.append(checks.Warning("SIGNIN_METHODS has oidc, but OIDC_ISSUER or OIDC_CLIENT_ID is not set: "
                                           "its sign-in refuses everyone.", hint=HINT, id="learntrace.sso.W001"))
        if settings.OIDC_EMPLOYEE_FIELD not in oidc.FIELDS:
            problems.append(checks.Error(f"OIDC_EMPLOYEE_FIELD must be one of {', '.join(oidc.FIELDS)}.",
                                         hint=HINT, id="learntrace.sso.E001"))
        if "openid" not in settings.OIDC_SCOPES.split():
            problems.append(checks.Error("OIDC_SCOPES must contain openid.", hint=HINT, id="learntrace.sso.E002"))
    if methods.enabled(Method.CAS):
        if not cas.configured():
            problems.append(checks.Warning("SIGNIN_METHODS has cas, but CAS_SERVER_URL is not set: "
                                           "its sign-in refuses everyone.", hint=HINT, id="learntrace.sso.W002"))
        if settings.CAS_EMPLOYEE_FIELD not in cas.FIELDS:
            problems.append(checks.Error(f"CAS_EMPLOYEE_FIELD must be one of {', '.join(cas.FIELDS)}.",
                                         hint=HINT, id="learntrace.sso.E003"))
        if settings.CAS_VERSION not in cas.VERSIONS:
            problems.append(checks.Error(f"CAS_VERSION must be one of {', '.join(cas.VERSIONS)}.",
                                         hint=HINT, id="learntrace.sso.E004"))
    return problems
