from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from learntrace.accounts.models import LatestSession
from learntrace.core.languages import chosen_language


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Speak the language the person chose (the language cookie), else the deployment's
    LANGUAGE_CODE. The browser's Accept-Language is deliberately not consulted: a fresh
    install speaks the configured language on every device, whatever the phone's locale."""

    def process_request(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()


class LastSignInWinsMiddleware:
    """With LAST_SIGNIN_WINS on, a sign-in ends the person's sessions elsewhere (see LatestSession):
    an older session is logged out at its next request and told why. Off: no query at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.LAST_SIGNIN_WINS and request.user.is_authenticated:
            latest = LatestSession.objects.filter(user_id=request.user.pk).values_list("session_key", flat=True).first()
            if latest is not None and latest != request.session.session_key:
                logout(request)
                messages.warning(request, _("You signed in on another device or browser, so this session has ended."))
        return self.get_response(request)


@receiver(user_logged_in)
def remember_latest_session(sender, request, user, **kwargs):
    if settings.LAST_SIGNIN_WINS and request is not None and hasattr(request, "session"):
        if request.session.session_key is None:
            request.session.save()
        LatestSession.objects.update_or_create(user=user, defaults={"session_key": request.session.session_key})
