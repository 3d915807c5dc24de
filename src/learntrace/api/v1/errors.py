"""One shape for every error the API returns:

    {"error": {"code": "invalid", "message": "…", "fields": {"employees[2].email": "…"}}}

in the caller's language, for 400, 401, 403, 404, 409, 429 and 503 alike."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from learntrace.api.challenges import www_authenticate
from learntrace.core import unavailable

logger = logging.getLogger(__name__)

ERROR_STATUSES = frozenset({400, 401, 403, 404, 409, 429})


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorOut(Schema):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, str(message)
        self.fields = {key: str(value) for key, value in (fields or {}).items()}
        self.headers = headers or {}


def invalid(fields: dict, message: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message or _("Some values are not valid."), fields)


def _field_name(loc) -> str:
    # ("body", "payload", "employees", 2, "email") -> "employees[2].email"
    parts = [part for part in loc if part not in {"body", "query", "path", "header", "payload"}]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "request"


def install(api) -> None:
    def respond(request, error: ApiError):
        response = api.create_response(request, {"error": {
            "code": error.code, "message": error.message, "fields": error.fields}}, status=error.status)
        challenge = www_authenticate(error.code)
        if challenge and error.status == 401:
            response["WWW-Authenticate"] = challenge
        for name, value in error.headers.items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def api_error(request, exc):
        return respond(request, exc)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc):
        fields = {}
        for item in exc.errors:
            fields.setdefault(_field_name(item.get("loc", ())), item.get("msg", ""))
        return respond(request, invalid(fields))

    @api.exception_handler(DjangoValidationError)
    def service_refusal(request, exc):
        if hasattr(exc, "error_dict"):
            return respond(request, invalid({k: " ".join(v) for k, v in exc.message_dict.items()}))
        return respond(request, ApiError(400, "invalid", " ".join(exc.messages)))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(request, ApiError(401, "unauthenticated", _(
            "Send a valid API token as “Authorization: Bearer …”, or log in.")))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return respond(request, ApiError(403, "forbidden", _("You may not do this.")))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, ApiError(404, "not_found", _("Not found, or not visible to you.")))

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if exc.status_code == 403:  # the CSRF check of a session-authenticated call
            return respond(request, ApiError(403, "csrf_failed", _(
                "The CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.")))
        return respond(request, ApiError(exc.status_code, "invalid" if exc.status_code == 400 else "error",
                                         exc.message))

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        if unavailable.is_database_unavailable(exc):
            logger.warning("API call refused with 503: the database cannot be reached")
            return unavailable.api_unavailable_response()
        logger.exception("API error in %s", request.resolver_match.route if request.resolver_match else "?")
        return respond(request, ApiError(500, "server_error", _("Something went wrong on the server.")))
