"""Property-based calls of every API operation (schemathesis), in-process through the WSGI
application against the test database: valid and invalid input, with an admin's token and a
department head's, must never give a server error or a response that contradicts the schema."""

import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from learntrace.api import tokens
from learntrace.api.models import Scope, TokenUse

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


@pytest.fixture
def connection_kept_open():
    """The WSGI handler closes the connection after each request; the test database lives in it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_operation_fails_or_breaks_its_schema(org, catalog, settings, connection_kept_open):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    secrets = [tokens.create_token(actor=None, user=person.user, name="fuzz", scopes=list(Scope.values),
                                   expires_days=1)[1] for person in (org.admin, org.head)]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                for secret in secrets:
                    case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

            call()
    # Every operation was really called (each call is logged), but the beat: it takes the session only.
    assert TokenUse.objects.order_by().values("method", "endpoint").distinct().count() == len(operations) - 1
    assert TokenUse.objects.filter(status=200).count() > 100
