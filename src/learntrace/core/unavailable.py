"""What learntrace answers while its database (or its task queue) cannot be reached: 503, never a 500.

Pages get a short translated page that needs nothing from the database (no session, no
roles in the header); the API gets its usual error shape with the code `unavailable`.
Processes keep running, and the next request after the database returns is served as usual.
"""

import sqlite3

import psycopg
import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30


# Connection refused, dropped or timed out, or a connection already closed: the database (or the
# task queue's storage, reached through its own driver) is at fault, not the request.
UNAVAILABLE_ERRORS = (
    OperationalError, InterfaceError,  # Django's database
    psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError,  # the task queue's SQL storage
    redis.ConnectionError, redis.TimeoutError,  # or its Redis
)


def is_database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, UNAVAILABLE_ERRORS)


def unavailable_message() -> str:
    return _("The database cannot be reached at the moment. Please try again in a minute.")


def api_unavailable_response() -> JsonResponse:
    response = JsonResponse({"error": {"code": "unavailable", "message": unavailable_message(), "fields": {}}},
                            status=503, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def storage_unavailable_message() -> str:
    return _("The file storage cannot be reached at the moment. Please try again in a minute.")


def page_unavailable_response(message: str = "") -> HttpResponse:
    response = HttpResponse(render_to_string("503.html", {"message": message or unavailable_message()}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
