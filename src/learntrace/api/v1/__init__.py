"""Version 1 of the REST API, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json,
interactive docs at /api/v1/docs)."""

from ninja import NinjaAPI

from learntrace.api.v1 import (
    catalog,
    checkin,
    compliance,
    errors,
    history,
    org,
    plans,
    records,
    reflections,
    tracking,
    training_file,
)
from learntrace.api.v1.auth import bearer, session

RESPONSE_HEADERS = {
    "401": {"WWW-Authenticate": {
        "description": "How to authenticate (RFC 6750): `Bearer realm=\"learntrace\"`, with "
                       "`error=\"invalid_token\"` when the token sent is unknown, expired or revoked.",
        "required": True, "schema": {"type": "string"}}},
    "403": {"WWW-Authenticate": {
        "description": "Only when the token lacks a scope: `error=\"insufficient_scope\"` and the scope needed.",
        "required": False, "schema": {"type": "string"}}},
    "429": {"Retry-After": {
        "description": "Seconds to wait before the token's next request is served.",
        "required": True, "schema": {"type": "integer", "minimum": 1}}},
}


class LearntraceApi(NinjaAPI):
    """The API whose OpenAPI document also names the headers its errors carry (Ninja documents bodies only)."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
                for status, response in responses.items():
                    # Ninja keys the responses by int; JSON makes them strings.
                    headers = RESPONSE_HEADERS.get(str(status))
                    if headers:
                        response.setdefault("headers", {}).update(headers)
        return schema


api = LearntraceApi(
    title="learntrace API", version="1", urls_namespace="api-v1", auth=[bearer, session],
    description="Organisation, catalogue, plans, progress, compliance, records, reflections, training files, "
                "meetings and their check-in. "
                "Authenticate with `Authorization: Bearer <token>` (created by a training admin with scopes); "
                "a token acts as its owner, so a department head's token sees only their departments. "
                "Errors have one shape: `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
)
errors.install(api)
# Tracking first: its beat is by far the most frequent request, and URL patterns are tried in order.
for module in (tracking, org, catalog, plans, compliance, records, history, training_file, reflections, checkin):
    api.add_router("/", module.router)
