"""The pages of an OpenID Connect or CAS sign-in: start (to the provider's login page) and the
callback it returns to. Both end in accounts.signin: `complete()` or a logged `refuse()`."""

from collections.abc import Callable

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from learntrace.accounts import signin
from learntrace.accounts.models import Method
from learntrace.accounts.signin import Refusal
from learntrace.sso import cas, oidc
from learntrace.sso.identity import Identity


@require_GET
def oidc_start(request):
    return _start(request, Method.OIDC, oidc.available, lambda next_url: oidc.authorize_url(
        request, redirect_uri=request.build_absolute_uri(reverse("sso:oidc_callback")), next_url=next_url))


@require_GET
def oidc_callback(request):
    return _finish(request, Method.OIDC, oidc.available, lambda: oidc.identify(request))


@require_GET
def cas_start(request):
    callback = request.build_absolute_uri(reverse("sso:cas_callback"))
    return _start(request, Method.CAS, cas.available, lambda next_url: cas.login_url(
        callback=callback, state=signin.open_state(request, Method.CAS, next_url)))


@csrf_exempt  # the CAS server's single sign-out posts here; a GET signs in, and carries no form
@require_http_methods(["GET", "POST"])
def cas_callback(request):
    if request.method == "POST":
        if cas.available():
            cas.sign_out(request.POST.get("logoutRequest", ""))
        return HttpResponse(status=204)
    callback = request.build_absolute_uri(reverse("sso:cas_callback"))
    state = request.GET.get("state", "")
    ticket = request.GET.get("ticket", "")

    def identify():
        next_url = signin.take_state(request, Method.CAS, state)
        return cas.identify(callback=callback, state=state, ticket=ticket, next_url=next_url)

    response = _finish(request, Method.CAS, cas.available, identify)
    if response.status_code == 302 and request.user.is_authenticated and request.session.session_key:
        cas.remember_session(ticket, request.session.session_key)
    return response


def _start(request, method: str, available: Callable[[], bool], provider_url: Callable[[str], str]) -> HttpResponse:
    next_url = request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect(signin.safe_next(request, next_url))
    if not available():
        return _refused(request, method, "disabled")
    if signin.throttled(request):
        return _refused(request, method, "throttled")
    try:
        return redirect(provider_url(next_url))
    except Refusal as refusal:
        return _refused(request, method, refusal.reason, refusal.identifier)


def _finish(request, method: str, available: Callable[[], bool], identify: Callable[[], Identity]) -> HttpResponse:
    if not available():
        return _refused(request, method, "disabled")
    if signin.throttled(request):
        return _refused(request, method, "throttled")
    try:
        identity = identify()
        employee = signin.match_employee(method, identity.subject, field=identity.field, value=identity.value)
    except Refusal as refusal:
        return _refused(request, method, refusal.reason, refusal.identifier)
    return signin.complete(request, employee, method=method, identifier=identity.value or identity.subject,
                           subject=identity.subject, next_url=identity.next_url)


def _refused(request, method: str, reason: str, identifier: str = "") -> HttpResponse:
    return signin.refuse(request, method=method, reason=reason, identifier=identifier,
                         status=429 if reason == "throttled" else 403)
