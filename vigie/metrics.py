"""Prometheus figures: requests, latency, and the database-backed gauges of each app.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR so counters add up across
processes; database gauges are read once per scrape and need no such care.
"""

import os
import time

from django.utils.module_loading import import_string
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter(
    "vigie_http_requests_total",
    "HTTP requests by view, method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "vigie_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Dotted paths of callables returning an iterable of metric families, read at each scrape.
# Each app adds its own (sync and check figures) in its AppConfig.ready().
DATABASE_GAUGES = ["vigie.metrics.task_queue_gauges", "vigie.metrics.notification_gauges"]


def register_gauges(dotted_path):
    if dotted_path not in DATABASE_GAUGES:
        DATABASE_GAUGES.append(dotted_path)


def task_queue_gauges():
    from django_q.models import Failure, OrmQ

    queued = GaugeMetricFamily("vigie_task_queue_length", "Tasks waiting in the django-q2 queue.")
    queued.add_metric([], OrmQ.objects.count())
    failed = GaugeMetricFamily("vigie_task_failures", "Failed django-q2 tasks kept for review.")
    failed.add_metric([], Failure.objects.count())
    return [queued, failed]


def notification_gauges():
    from django.db.models import Count

    from vigie.models import Notification

    pending = GaugeMetricFamily(
        "vigie_notifications_pending", "Notifications waiting in the outbox (due or retrying)."
    )
    pending.add_metric([], Notification.objects.filter(state=Notification.State.PENDING).count())
    # Read from the outbox table, so it adds up across processes; rows are kept, so it only
    # grows (a counter), until old rows are deleted.
    failed = CounterMetricFamily(
        "vigie_notifications_failed", "Notifications given up on, by kind.", labels=["kind"]
    )
    counts = (
        Notification.objects.filter(state=Notification.State.FAILED)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    for kind, count in counts:
        failed.add_metric([kind], count)
    return [pending, failed]


class _DatabaseCollector:
    def collect(self):
        for path in DATABASE_GAUGES:
            yield from import_string(path)()


def render_latest():
    """Exposition text for one scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    database_registry = CollectorRegistry()
    database_registry.register(_DatabaseCollector())
    return generate_latest(process_registry) + generate_latest(database_registry)


# Label values must stay a small set whatever a client sends.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else None) or "unresolved"
        LATENCY.labels(view=view).observe(time.perf_counter() - started)
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        return response
