"""The language a person chose: the language cookie, else the deployment's LANGUAGE_CODE.

Read by the locale middleware (accounts) and by the error pages (home), which sit in different layers."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import check_for_language


def chosen_language(request: HttpRequest) -> str:
    language: str = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if language not in dict(settings.LANGUAGES) or not check_for_language(language):
        language = str(settings.LANGUAGE_CODE)
    return language
