"""Version 1 of the REST API, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json,
interactive docs at /api/v1/docs)."""

from ninja import NinjaAPI

from learntrace.api.v1 import catalog, checkin, compliance, errors, org, plans, records, tracking
from learntrace.api.v1.auth import bearer, session

api = NinjaAPI(
    title="learntrace API", version="1", urls_namespace="api-v1", auth=[bearer, session],
    description="Organisation, catalogue, plans, progress, compliance, records and meeting check-in. "
                "Authenticate with `Authorization: Bearer <token>` (created by a training admin with scopes); "
                "a token acts as its owner, so a department head's token sees only their departments. "
                "Errors have one shape: `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
)
errors.install(api)
# Tracking first: its beat is by far the most frequent request, and URL patterns are tried in order.
for module in (tracking, org, catalog, plans, compliance, records, checkin):
    api.add_router("/", module.router)
