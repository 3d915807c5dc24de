"""Around every API request: log the use of a token (refused requests included), and give
every answer Django makes by itself under /api/v1/ (an unknown path, a method an operation
does not have, a server error outside the API's own handlers) the API's error shape.

It is the outermost middleware, so that a failure anywhere in the stack, or in writing the
use log, still reaches the caller as JSON."""

import logging

from django.db import DatabaseError
from django.http import JsonResponse
from django.utils.translation import gettext as _

from learntrace.api import tokens
from learntrace.api.challenges import REALM

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"


def error_response(status: int) -> JsonResponse:
    if status == 404:
        code, message = "not_found", _("Not found, or not visible to you.")
    elif status == 405:
        code, message = "method_not_allowed", _("This operation does not accept this method.")
    elif status >= 500:
        code, message = "server_error", _("Something went wrong on the server.")
    elif status == 403:
        code, message = "forbidden", _("You may not do this.")
    else:
        code, message = "invalid", _("This request cannot be answered.")
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status,
                        json_dumps_params={"ensure_ascii": False})


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(API_PREFIX):
            return response
        token = getattr(request, "api_token", None)
        if token is not None:
            route = request.resolver_match.route if request.resolver_match else "?"
            try:
                tokens.record_use(token=token, method=request.method, endpoint=f"/{route}",
                                  status=response.status_code)
            except DatabaseError:
                # Every use is logged: an answer whose use could not be written is not given.
                logger.exception("The use of API token %s could not be logged", token.prefix)
                return error_response(500)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            response = self._shaped(response)
        if response.status_code == 401 and not response.has_header("WWW-Authenticate"):
            response["WWW-Authenticate"] = REALM  # RFC 7235: every 401 says how to authenticate
        return response

    @staticmethod
    def _shaped(response):
        shaped = error_response(response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if response.has_header(header):
                shaped[header] = response[header]
        return shaped
