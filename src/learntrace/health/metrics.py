"""Prometheus metrics (README, "Running several nodes").

Two kinds: what each process sees (request latency, beats received) is counted where it happens, in
every web process; with several gunicorn workers they share a folder (PROMETHEUS_MULTIPROC_DIR, set by
`learntrace serve`) so one scrape sums them. What the installation as a whole owes (queue depth, the
oldest unsealed fact, deliveries waiting, the worker's heartbeat) is read from the database when
scraped, so every node reports the same figures."""

import time

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from learntrace.core.models import WorkerHeartbeat
from learntrace.evidence.models import Pending
from learntrace.evidence.sources import RECORDED, SOURCES, model
from learntrace.notify.models import Delivery

REQUEST_SECONDS = Histogram(
    "learntrace_http_request_duration_seconds", "Time to answer a request, by app, method and status class.",
    ["app", "method", "status"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BEATS = Counter("learntrace_beats_total", "Beats received from players, by endpoint and status class.",
                ["endpoint", "status"])
# The views players post beats to (tracking's page endpoint and the API's).
BEAT_VIEWS = {"tracking:beat": "page", "api-v1:tracking_beat": "api"}


def observe(request, response, seconds: float) -> None:
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    status = f"{response.status_code // 100}xx"
    REQUEST_SECONDS.labels(view.split(":")[0] if view else "unmatched", request.method, status).observe(seconds)
    if view in BEAT_VIEWS:
        BEATS.labels(BEAT_VIEWS[view], status).inc()


class InstallationCollector(Collector):
    """Figures of the whole installation, read from the database at each scrape."""

    def collect(self):
        now = timezone.now()
        yield GaugeMetricFamily("learntrace_task_queue_depth", "Tasks waiting in the queue.",
                                value=HUEY.pending_count())
        unsealed = GaugeMetricFamily("learntrace_unsealed_facts", "Facts no seal covers yet, by source.",
                                     labels=["source"])
        oldest = None
        for code, (label, _fields) in SOURCES.items():
            table = model(code).objects.filter(id__in=Pending.objects.filter(source=code).values("fact_id"))
            unsealed.add_metric([label], table.count())
            if code in RECORDED:
                first = table.aggregate(first=Min(RECORDED[code]))["first"]
                if first is not None and (oldest is None or first < oldest):
                    oldest = first
        yield unsealed
        yield GaugeMetricFamily("learntrace_oldest_unsealed_fact_age_seconds",
                                "Age of the oldest fact no seal covers (0: none waiting).",
                                value=(now - oldest).total_seconds() if oldest else 0)
        pending = GaugeMetricFamily("learntrace_deliveries_pending", "Messages not yet sent, by status.",
                                    labels=["status"])
        for status in (Delivery.Status.QUEUED, Delivery.Status.SENDING):
            pending.add_metric([status.value], Delivery.objects.filter(status=status).count())
        yield pending
        beat = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
        yield GaugeMetricFamily("learntrace_worker_heartbeat_age_seconds",
                                "Seconds since a background worker last reported (-1: never).",
                                value=(now - beat).total_seconds() if beat else -1)


def exposition() -> bytes:
    """The text a Prometheus scrape receives."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(InstallationCollector())
    return generate_latest(registry)


class _ProcessMetrics(Collector):
    """This process's own counters and histograms (and the client's process figures) when the
    process is alone (no shared folder)."""

    def collect(self):
        yield from REGISTRY.collect()


def clock() -> float:
    return time.perf_counter()
