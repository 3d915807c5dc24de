"""Logging in and out, changing one's password, choosing a language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from learntrace.accounts import links, methods, signin
from learntrace.accounts.forms import ForgotPasswordForm
from learntrace.accounts.models import Method, SignInEvent, SignInLink
from learntrace.org.models import Employee


class LoginView(auth_views.LoginView):
    """The login page: the username/password form (password or LDAP) and a button per redirect method."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["offers"] = methods.offers(self.get_redirect_url())
        context["uses_form"] = methods.uses_form()
        context["offers_reset"] = methods.enabled(Method.PASSWORD)
        return context

    def get(self, request, *args, **kwargs):
        # Inside DingTalk, WeCom or Feishu the app already knows who this is: sign in silently.
        if not request.user.is_authenticated:
            in_app = methods.in_app_start(request, self.get_redirect_url())
            if in_app:
                return HttpResponseRedirect(in_app)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not methods.uses_form():
            return signin.refuse(request, method=Method.PASSWORD, reason="disabled")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        method = getattr(form.get_user(), "sign_in_method", Method.PASSWORD)
        if not methods.enabled(method):
            # With only LDAP switched on, a password kept in learntrace does not let anyone in.
            return signin.refuse(self.request, method=method, reason="disabled",
                                 identifier=form.get_user().get_username())
        response = super().form_valid(form)
        employee = Employee.objects.filter(user=form.get_user()).first()
        SignInEvent.objects.create(method=method,
                                   outcome=SignInEvent.Outcome.SUCCESS, employee=employee,
                                   identifier=form.get_user().get_username()[:200],
                                   ip_address=signin.client_address(self.request))
        if employee is not None:
            signin.remember_language(response, employee)
        return response

    def form_invalid(self, form):
        refusal = getattr(self.request, "ldap_refusal", None)
        if refusal is not None:
            return signin.refuse(self.request, method=Method.LDAP, reason=refusal.reason,
                                 identifier=(form.data.get("username") or "")[:200])
        method = Method.PASSWORD if methods.enabled(Method.PASSWORD) or not methods.enabled(Method.LDAP) \
            else Method.LDAP
        SignInEvent.objects.create(method=method, outcome=SignInEvent.Outcome.REFUSED,
                                   reason="credentials", identifier=(form.data.get("username") or "")[:200],
                                   ip_address=signin.client_address(self.request))
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home:home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


def locked_out(request, credentials, *args, **kwargs):
    """Shown by the login throttle (django-axes) instead of checking the password."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


@require_POST
def change_language(request):
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language) and \
            language in dict(settings.LANGUAGES):
        Employee.objects.filter(user=request.user).update(language=language)
    return set_language(request)


LINK_SESSION_KEY = "signin_link_id"


def open_link(request, token):
    """An activation or reset link: checked, then kept in the session so that the token leaves the
    address bar (and any Referer) before the person types a password."""
    if signin.throttled(request):
        return signin.refuse(request, method=Method.ACTIVATION, reason="throttled", status=429)
    try:
        link = links.open_link(token)
    except signin.Refusal as refusal:
        return signin.refuse(request, method=Method.ACTIVATION, reason=refusal.reason, identifier=refusal.identifier)
    request.session[LINK_SESSION_KEY] = link.pk
    return redirect("accounts:link_password")


def link_password(request):
    """The person chooses their password (Django's validators), which uses up the link and signs them in."""
    link_id = request.session.get(LINK_SESSION_KEY)
    link = SignInLink.objects.select_related("employee__user").filter(pk=link_id).first() if link_id else None
    method = link.purpose if link is not None else Method.ACTIVATION
    try:
        links.check_open(link)
    except signin.Refusal as refusal:
        request.session.pop(LINK_SESSION_KEY, None)
        return signin.refuse(request, method=method, reason=refusal.reason, identifier=refusal.identifier)
    form = SetPasswordForm(signin.account_of(link.employee), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = links.use_link(link_id=link.pk, password=form.cleaned_data["new_password1"])
        except signin.Refusal as refusal:
            request.session.pop(LINK_SESSION_KEY, None)
            return signin.refuse(request, method=method, reason=refusal.reason, identifier=refusal.identifier)
        request.session.pop(LINK_SESSION_KEY, None)
        return signin.complete(request, employee, method=method, identifier=employee.employee_no)
    return render(request, "accounts/link_password.html", {"form": form, "link": link, "employee": link.employee})


def forgot_password(request):
    """Asks for a reset link. The answer is the same whoever was named, and the link is sent by the
    worker, so the page tells nobody whether an account exists."""
    if not methods.enabled(Method.PASSWORD):
        raise Http404
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if links.request_reset(identifier=form.cleaned_data["identifier"],
                               ip_address=signin.client_address(request)):
            return render(request, "accounts/forgot_password_sent.html")
        form.add_error(None, _("Too many requests from this address. Please try again later."))
        return render(request, "accounts/forgot_password.html", {"form": form}, status=429)
    return render(request, "accounts/forgot_password.html", {"form": form})
