from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from learntrace.core.languages import chosen_language


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Speak the language the person chose (the language cookie), else the deployment's
    LANGUAGE_CODE. The browser's Accept-Language is deliberately not consulted: a fresh
    install speaks the configured language on every device, whatever the phone's locale."""

    def process_request(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()
