"""Letting a person in by any method: matching an outside account to exactly one active employee,
logging every attempt, and refusing with a message that says whom to ask.

Every method ends in `complete()` or `refuse()`, so the rules hold for all of them alike: strangers
are never created, deactivated employees never get in, the session key is cycled, the redirect stays
on this site, and refused attempts from one address are throttled like wrong passwords.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, gettext_lazy
from django.utils.translation import gettext as _

from learntrace.accounts.models import LinkedIdentity, SignInEvent
from learntrace.org.models import Employee

# The reasons a sign-in is refused, as the person reads them (the admin sees the code in the log).
REASONS = {
    "unknown": gettext_lazy("No active employee in learntrace matches this account."),
    "ambiguous": gettext_lazy("More than one employee in learntrace matches this account."),
    "credentials": gettext_lazy("Wrong username or password."),
    "link": gettext_lazy("This link cannot be used: it has expired, was used already, or is not complete. Ask for "
                         "a new one with \"Forgot your password?\" on the login page, or from your training "
                         "administrator."),
    "ldap": gettext_lazy("The directory (LDAP) could not be reached. Please try again later."),
    "inactive": gettext_lazy("Your employee record in learntrace is deactivated."),
    "provider": gettext_lazy("The sign-in service did not confirm who you are. Please try again."),
    "expired": gettext_lazy("This sign-in took too long or was started elsewhere. Please start again."),
    "disabled": gettext_lazy("This sign-in method is not switched on."),
    "unreachable": gettext_lazy("The sign-in service could not be reached. Please try again in a few minutes."),
    "throttled": gettext_lazy("Too many refused sign-ins from this address. Please try again later."),
}


STATES_KEY = "platform_signin_states"  # (its name predates the other redirect methods; kept for open sessions)
STATE_LIFETIME_SECONDS = 10 * 60  # time enough to find the phone and scan; codes themselves live 5 minutes
MAX_OPEN_STATES = 5  # sign-ins started in other tabs; the oldest is dropped beyond this


class Refusal(Exception):
    """Raised inside a method's flow; its view turns it into `refuse()`."""

    def __init__(self, reason: str, identifier: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.identifier = identifier


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def throttled(request) -> bool:
    """As many refusals from this address within the lockout time as wrong passwords allowed."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    refused = SignInEvent.objects.filter(outcome=SignInEvent.Outcome.REFUSED, ip_address=client_address(request),
                                         at__gte=since)
    return refused.count() >= settings.AXES_FAILURE_LIMIT


def match_employee(method: str, subject: str, *, field: str, value: str) -> Employee:
    """The one active employee an outside account stands for.

    `subject` is the account's stable id at the provider; `field`/`value` is how the organisation
    names it the first time (e.g. `dingtalk_user_id`, `employee_no`, `email`). Exact matches only.
    """
    if not subject:
        raise Refusal("provider")
    link = LinkedIdentity.objects.select_related("employee").filter(method=method, subject=subject).first()
    if link is not None:
        if not link.employee.is_active:
            raise Refusal("inactive", subject)
        return link.employee
    value = (value or "").strip()
    if not value:
        raise Refusal("unknown", subject)
    lookup = f"{field}__iexact" if field == "email" else field
    candidates = list(Employee.objects.filter(**{lookup: value})[:3])
    active = [employee for employee in candidates if employee.is_active]
    if not active:
        raise Refusal("inactive" if candidates else "unknown", value)
    if len(active) > 1:
        raise Refusal("ambiguous", value)
    employee = active[0]
    LinkedIdentity.objects.get_or_create(method=method, subject=subject, defaults={"employee": employee})
    return employee


def open_state(request, method: str, next_url: str) -> str:
    """A new state of a redirect sign-in, kept in this browser's session: letters and digits only,
    as WeCom requires."""
    now = timezone.now().timestamp()
    states = {key: entry for key, entry in request.session.get(STATES_KEY, {}).items()
              if now - entry["at"] < STATE_LIFETIME_SECONDS}
    for key in sorted(states, key=lambda key: states[key]["at"])[:-(MAX_OPEN_STATES - 1)]:
        del states[key]
    state = secrets.token_hex(16)
    states[state] = {"method": method, "next": next_url, "at": now}
    request.session[STATES_KEY] = states
    return state


def take_state(request, method: str, state: str) -> str:
    """The `next` of the sign-in this state started; the state cannot be used again."""
    states = request.session.get(STATES_KEY, {})
    entry = states.pop(state, None) if state else None
    request.session[STATES_KEY] = states
    if entry is None or entry["method"] != method \
            or timezone.now().timestamp() - entry["at"] >= STATE_LIFETIME_SECONDS:
        raise Refusal("expired")
    return entry["next"]


def account_of(employee: Employee):
    """The login account of an employee, created (without a password) for one who has none yet."""
    if employee.user_id is not None:
        return employee.user
    user_model = get_user_model()
    with transaction.atomic():
        user, _created = user_model.objects.get_or_create(username=employee.employee_no)
        if _created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        employee.user = user
        employee.save(update_fields=["user"])
    return user


def safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def complete(request, employee: Employee, *, method: str, identifier: str = "", subject: str = "",
             next_url: str | None = None) -> HttpResponse:
    """Log the employee in (a new session key), record it, and go where they were going."""
    user = account_of(employee)
    if not employee.is_active or not user.is_active:
        return refuse(request, method=method, reason="inactive", identifier=identifier)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    SignInEvent.objects.create(method=method, outcome=SignInEvent.Outcome.SUCCESS, employee=employee,
                               identifier=identifier[:200], ip_address=client_address(request))
    if subject:
        LinkedIdentity.objects.filter(method=method, subject=subject).update(last_used_at=timezone.now())
    response = HttpResponseRedirect(safe_next(request, next_url))
    remember_language(response, employee)
    return response


def remember_language(response, employee: Employee) -> None:
    """Each person's chosen language follows them to every device."""
    if employee.language and check_for_language(employee.language):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, employee.language, max_age=365 * 24 * 3600,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)


def refuse(request, *, method: str, reason: str, identifier: str = "", status: int = 403) -> HttpResponse:
    """Record a refused sign-in and tell the person why and whom to ask."""
    SignInEvent.objects.create(method=method, outcome=SignInEvent.Outcome.REFUSED, reason=reason,
                               identifier=identifier[:200], ip_address=client_address(request))
    message = REASONS.get(reason, REASONS["provider"])
    return render(request, "accounts/refused.html", {
        "message": message,
        "advice": _("If you think this is wrong, ask your training administrator (HR) to check your employee "
                    "record, and tell them the time of this attempt."),
        "at": timezone.now(),
    }, status=status)
