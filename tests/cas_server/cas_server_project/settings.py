"""A tiny Django project that runs django-cas-server, the real CAS server of the CAS sign-in tests
(tests/sso_servers.py starts it). Its data lives in the folder CAS_TEST_DATA names; the people it
knows and the services it accepts come from CAS_TEST_PEOPLE and CAS_TEST_SERVICES (JSON)."""

import os
from pathlib import Path

DATA = Path(os.environ["CAS_TEST_DATA"])
SECRET_KEY = "cas-test-server-only"  # noqa: S105  (a throw-away server on 127.0.0.1 for the tests)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "cas_server_project.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.messages.context_processors.messages"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA / "cas.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"
SESSION_COOKIE_NAME = "cas_sessionid"  # not to clash with the tested site's cookie on the same host
CSRF_COOKIE_NAME = "cas_csrftoken"
CAS_AUTH_CLASS = "cas_server_project.people.PortalPerson"
CAS_COMPONENT_URLS = dict.fromkeys(["bootstrap3_css", "bootstrap3_js", "html5shiv", "respond", "bootstrap4_css",
                                    "bootstrap4_js", "jquery"], "")  # no CDN: the tests run offline
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
CAS_INFO_MESSAGES = {}
CAS_INFO_MESSAGES_ORDER = []
