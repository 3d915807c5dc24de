"""The language a person chose: the language cookie, else the deployment's LANGUAGE_CODE.

Read by the locale middleware (accounts) and by the error pages (home), which sit in different layers."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import check_for_language, get_language


def chosen_language(request: HttpRequest) -> str:
    language: str = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if language not in dict(settings.LANGUAGES) or not check_for_language(language):
        language = str(settings.LANGUAGE_CODE)
    return language


def local_name(name: str, name_en: str) -> str:
    """An admin-defined name in the page's language: the English name on English pages, the
    Chinese one on Chinese pages, each falling back to the other only when it is empty. Never both."""
    if get_language() == "en":
        return name_en or name
    return name or name_en
