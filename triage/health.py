"""What /health and /metrics say about the sources."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from triage.models import Item, Source


def check_sources():
    """ "ok", or which sources fail or have not synced for a while."""
    now = timezone.now()
    problems = []
    for source in Source.objects.filter(enabled=True).exclude(kind=Source.Kind.DEMO):
        if source.state in (Source.State.ERROR, Source.State.AUTH_ERROR):
            problems.append(f"{source.name} {source.state}")  # not translated: for machines
        elif source.is_stale(now):
            minutes = int((now - source.last_success_at).total_seconds() // 60)
            problems.append(f"{source.name} stale ({minutes} min)")
    return "; ".join(problems) if problems else "ok"


def source_gauges():
    now = timezone.now()
    age = GaugeMetricFamily(
        "vigie_source_last_success_age_seconds",
        "Seconds since the source last synced successfully.",
        labels=["source"],
    )
    unqualified = GaugeMetricFamily(
        "vigie_source_unqualified_items",
        "Items of the source still waiting for a qualification (or back after one).",
        labels=["source"],
    )
    errors = GaugeMetricFamily(
        "vigie_source_sync_errors",
        "Consecutive failed syncs of the source (0 when the last one succeeded).",
        labels=["source"],
    )
    waiting = dict(
        Item.objects.to_qualify()
        .filter(source__enabled=True)
        .values("source_id")
        .annotate(n=Count("pk"))
        .values_list("source_id", "n")
    )
    for source in Source.objects.filter(enabled=True):
        if source.last_success_at is not None:
            age.add_metric([source.name], (now - source.last_success_at).total_seconds())
        unqualified.add_metric([source.name], waiting.get(source.pk, 0))
        errors.add_metric([source.name], source.consecutive_failures)
    return [age, unqualified, errors]
