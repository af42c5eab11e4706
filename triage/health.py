"""What /health and /metrics say about the sources."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from triage.models import Item, Source
from triage.sources import backend_class
from vigie.health import Fact


def check_sources():
    """How many sources sync fine and how many fail or have not synced for a while (which
    ones under "problems", each a Fact of its own)."""
    now = timezone.now()
    ok, problems = 0, []
    for source in Source.objects.filter(enabled=True):
        if not _monitored(source):
            continue
        if source.state in (Source.State.ERROR, Source.State.AUTH_ERROR):
            english = f"{source.name} {source.state}"
            params = {"source": source.name, "state": source.get_state_display()}
            problems.append(Fact(source.state, english, params))
        elif source.is_stale(now):
            minutes = int((now - source.last_success_at).total_seconds() // 60)
            english = f"{source.name} stale ({minutes} min)"
            params = {"source": source.name, "since": source.last_success_at}
            problems.append(Fact("stale", english, params))
        else:
            ok += 1
    return _counted("failing" if problems else "ok", {"ok": ok, "failing": len(problems)}, problems)


def check_sync_claims():
    """Sources held by a sync that stopped renewing its claim (its worker was killed). The
    next scheduled sync takes them over; until then the board's data is not refreshed."""
    now = timezone.now()
    stuck = Source.objects.stuck(now).values_list("name", "sync_heartbeat_at", "sync_started_at")
    problems = []
    for name, beat, started in stuck:
        since = beat or started
        english = f"{name} sync claim stuck ({int((now - since).total_seconds() // 60)} min)"
        problems.append(Fact("stuck", english, {"source": name, "since": since}))
    return _counted("stuck" if problems else "ok", {"stuck": len(problems)}, problems)


def _counted(code, counts, problems):
    """A fact made of counts, and of the problems behind them (for staff only)."""
    english = counts | {"problems": [problem.english for problem in problems]}
    return Fact(code, english, counts | {"problems": problems})


def _monitored(source):
    try:
        return backend_class(source.kind).monitored
    except LookupError:
        return True  # a kind nobody can sync: its failing state is worth seeing


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
