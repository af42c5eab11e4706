"""What /health, /metrics and the handover say about the monitors."""

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from monitors.models import Check, Incident
from monitors.tasks import SCHEDULER
from vigie.health import OK, heartbeat_fact


def check_scheduler():
    """The tick's own heartbeat: a stale one is Vigie's fault, not production's."""
    fact = heartbeat_fact(SCHEDULER, settings.MONITORS_SCHEDULER_MAX_AGE, "tick")
    if fact.code == "never_seen" and not Check.objects.filter(enabled=True).exists():
        return OK  # nothing to run yet
    return fact


def check_gauges():
    up = GaugeMetricFamily(
        "vigie_check_up", "1 when the check is up, 0 when down.", labels=["check", "team"]
    )
    latency = GaugeMetricFamily(
        "vigie_check_latency_seconds", "Latency of the check's last run.", labels=["check", "team"]
    )
    rows = Check.objects.filter(enabled=True).exclude(state=Check.State.UNKNOWN)
    for name, team, state, last in rows.values_list("name", "team__slug", "state", "last_latency"):
        up.add_metric([name, team], 1 if state == Check.State.UP else 0)
        if last is not None:
            latency.add_metric([name, team], last)
    opened = GaugeMetricFamily("vigie_incidents_open", "Incidents not resolved yet.")
    opened.add_metric([], Incident.objects.unresolved().count())
    return [up, latency, opened]


def alerts(team, start, end):
    """Checks of the team that went down during the watch: name, when, last message."""
    rows = Incident.objects.filter(team=team, opened_at__gte=start, opened_at__lt=end)
    return [
        {"name": i.title, "severity": i.severity, "at": i.opened_at.isoformat()}
        for i in rows.exclude(monitor=None).order_by("opened_at")
    ]


def incidents(team, start, end):
    """Incidents of the team opened during the watch, how they ended."""
    rows = Incident.objects.filter(team=team, opened_at__gte=start, opened_at__lt=end)
    return [
        {
            "title": i.title,
            "severity": i.severity,
            "state": i.state,
            "opened_at": i.opened_at.isoformat(),
            "acknowledged_at": i.acknowledged_at.isoformat() if i.acknowledged_at else None,
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
        }
        for i in rows.order_by("opened_at")
    ]
