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

api = NinjaAPI(
    title="learntrace API", version="1", urls_namespace="api-v1", auth=[bearer, session],
    description="Organisation, catalogue, plans, progress, compliance, records, reflections, training files, "
                "meetings and their check-in. "
                "Authenticate with `Authorization: Bearer <token>` (created by a training admin with scopes); "
                "a token acts as its owner, so a department head's token sees only their departments. "
                "Errors have one shape: `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
)
errors.install(api)
for module in (org, catalog, plans, compliance, records, history, training_file, reflections, checkin, tracking):
    api.add_router("/", module.router)
