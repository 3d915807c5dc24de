"""What learntrace answers while its database cannot be reached: 503, never a 500.

Pages get a short translated page that needs nothing from the database (no session, no
roles in the header); the API gets its usual error shape with the code `unavailable`.
Processes keep running, and the next request after the database returns is served as usual.
"""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30


def is_database_unavailable(error: BaseException | None) -> bool:
    """Connection refused, dropped or timed out (OperationalError), or a connection that is
    already closed (InterfaceError): the database, not the request, is at fault."""
    return isinstance(error, OperationalError | InterfaceError)


def unavailable_message() -> str:
    return _("The database cannot be reached at the moment. Please try again in a minute.")


def api_unavailable_response() -> JsonResponse:
    response = JsonResponse({"error": {"code": "unavailable", "message": unavailable_message(), "fields": {}}},
                            status=503, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_unavailable_response() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html", {"message": unavailable_message()}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
