"""Answers probes and scrapes before anything else runs, and times every other request.

Outermost, so that an orchestrator asking by the pod's address (not an ALLOWED_HOSTS name), without a
session or a CSRF cookie, is answered; the metrics need METRICS_TOKEN (unset: there are none)."""

import hmac
import json

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse

from . import metrics, probes

LIVE = "/health/live"
READY = "/health/ready"
METRICS = "/metrics"


def _scrape(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponseNotFound("metrics are off: set METRICS_TOKEN", content_type="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("a bearer token is needed", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path == LIVE:
            return JsonResponse({"status": "alive"})
        if path == READY:
            found = probes.readiness()
            ready = all(value == "ok" for value in found.values())
            return HttpResponse(json.dumps({"status": "ready" if ready else "not ready", "checks": found}),
                                status=200 if ready else 503, content_type="application/json")
        if path == METRICS:
            return _scrape(request)
        started = metrics.clock()
        response = self.get_response(request)
        metrics.observe(request, response, metrics.clock() - started)
        return response
