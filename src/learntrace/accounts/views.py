"""Logging in and out, changing one's password, choosing a language."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from learntrace.org.models import Employee


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        # Each person's chosen language follows them to every device.
        language = Employee.objects.filter(user=form.get_user()).values_list("language", flat=True).first()
        if language and check_for_language(language):
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response


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
