"""Logging in and out, changing one's password, choosing a language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from learntrace.accounts import methods, signin
from learntrace.accounts.models import Method, SignInEvent
from learntrace.org.models import Employee


class LoginView(auth_views.LoginView):
    """The login page: the username/password form (password or LDAP) and a button per redirect method."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["offers"] = methods.offers(self.get_redirect_url())
        context["uses_form"] = methods.uses_form()
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
        response = super().form_valid(form)
        employee = Employee.objects.filter(user=form.get_user()).first()
        SignInEvent.objects.create(method=getattr(form.get_user(), "sign_in_method", Method.PASSWORD),
                                   outcome=SignInEvent.Outcome.SUCCESS, employee=employee,
                                   identifier=form.get_user().get_username()[:200],
                                   ip_address=signin.client_address(self.request))
        if employee is not None:
            signin.remember_language(response, employee)
        return response

    def form_invalid(self, form):
        SignInEvent.objects.create(method=Method.PASSWORD, outcome=SignInEvent.Outcome.REFUSED,
                                   reason="credentials", identifier=(form.data.get("username") or "")[:200],
                                   ip_address=signin.client_address(self.request))
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("core:home")

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
