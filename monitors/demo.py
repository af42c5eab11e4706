"""Demo checks, offline and idempotent: Vigie's own /health, a local port that refuses, a
heartbeat the demo pings, an SQL invariant on Vigie's own database, one open incident,
seed 004's runbooks, which the checks name, and seed 002's and seed 004's alert rules over the
demo source.

The SQL check reads `VIGIE_DEMO_SQL_DSN` when set (a read-only DSN, kept as `${...}`), else
Vigie's own SQLite file; on PostgreSQL without the variable it says the variable is missing."""

import os
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from monitors import checks, rules
from monitors.checks import Outcome
from monitors.demo_runbooks import CHECK_RUNBOOKS, RUNBOOKS
from monitors.models import AlertRule, Check, Incident, Runbook
from rotation.models import Team
from triage.models import Source
from vigie.phrases import Phrase

SQL_DSN_VARIABLE = "VIGIE_DEMO_SQL_DSN"


def _sql_dsn():
    database = settings.DATABASES["default"]
    if os.environ.get(SQL_DSN_VARIABLE) or not database["ENGINE"].endswith("sqlite3"):
        return "${" + SQL_DSN_VARIABLE + "}"
    return f"sqlite:///{database['NAME']}"


def _checks(base):
    return [
        (
            "vigie-health",
            Check.Kind.HTTP,
            {"url": f"{base}/health"},
            {"allow_private": True, "public": True},
        ),
        (
            "port-ferme",
            Check.Kind.HTTP,
            {"url": "http://127.0.0.1:9/"},
            {"allow_private": True, "severity": Check.Severity.WARNING, "public": True},
        ),
        ("export-nocturne", Check.Kind.HEARTBEAT, {"period": 86400, "grace": 3600}, {}),
        (
            "intervalles-courts",
            Check.Kind.SQL,
            {
                "dsn": _sql_dsn(),
                "query": "SELECT id, name, interval FROM monitors_check WHERE interval < 10",
            },
            {"category": Check.Category.BUSINESS, "allow_private": True},
        ),
    ]


# (name, type, source-bound, params, severity, runbook): seed 002's two Sentry rules with their
# 24 h action interval, seed 004's discarded jobs and latency, seed 000's backlog.
RULES = [
    ("nouvelle-issue-prod", "new_issue", True, {"environment": "production"}, "warning", ""),
    ("pic", "event_spike", True, {"events": 10, "window": 300}, "critical", ""),
    ("jobs-abandonnes", "discarded_jobs", True, {"count": 20, "window": 3600}, "warning",
     "rb-005-django-q2-workers"),
    ("backlog", "unqualified_backlog", False, {"older_than": 86400}, "info", ""),
    ("source-muette", "source_stale", False, {"after": 1800}, "warning", ""),
    ("personne-de-vigie", "nobody_on_watch", False, {}, "critical", ""),
    ("vigie-lente", "check_slow", False, {"check": "vigie-health", "max_latency": 2}, "warning",
     "rb-003-latency"),
    ("certificats", "cert_expiring", False, {}, "warning", ""),
]  # fmt: skip


def _rules(team):
    source = Source.objects.filter(name="demo").first()
    created = 0
    for name, kind, bound, params, severity, runbook in RULES:
        if bound and source is None:
            continue
        _rule, made = AlertRule.objects.get_or_create(
            team=team,
            name=name,
            defaults={
                "kind": kind,
                "source": source if bound else None,
                "params": rules.validate_params(kind, params),
                "severity": severity,
                "runbook": runbook,
            },
        )
        created += made
    return created


def load(url=""):
    """`url`: where Vigie is served (`make run` passes its ADDR), else VIGIE_BASE_URL."""
    team, _ = Team.objects.get_or_create(slug="demo", defaults={"name": "Démo"})
    now = timezone.now()
    created = 0
    base = (url or settings.VIGIE_BASE_URL).rstrip("/")
    for name, kind, config, extra in _checks(base):
        check, made = Check.objects.get_or_create(
            team=team,
            name=name,
            defaults={"kind": kind, "config": checks.validate(kind, config), **extra},
        )
        created += made
        if not made:
            if name == "vigie-health" and check.config.get("url") != config["url"]:
                # Served on another address since the last run: follow it.
                check.config = checks.validate(kind, {**check.config, **config})
                check.save(update_fields=["config"])
            continue
        if kind == Check.Kind.HEARTBEAT:
            check.started_at = now - timedelta(hours=1)
            check.save(update_fields=["started_at"])
            check.ping("success", now - timedelta(minutes=20))
    for slug, title, body in RUNBOOKS:
        # Created once: they are examples to edit, a second load must not undo the edits.
        Runbook.objects.get_or_create(team=team, slug=slug, defaults={"title": title, "body": body})
    for name, slug in CHECK_RUNBOOKS.items():
        Check.objects.filter(team=team, name=name, runbook="").update(runbook=slug)
    refused = Check.objects.get(team=team, name="port-ferme")
    if not refused.results.exists():
        for minutes in (3, 2, 1):
            refused.record(
                Outcome(ok=False, message=Phrase(gettext_noop("connection refused"))),
                now - timedelta(minutes=minutes),
            )
    incident = Incident.objects.open_for(refused.incident_key)
    if incident is not None and not incident.events.filter(kind="note").exists():
        incident.add_note(None, "Port 9 fermé exprès : c'est l'incident de démonstration.")
    if incident is not None and not incident.status_updates.exists():
        incident.public_title = "Service de démonstration indisponible"
        incident.save(update_fields=["public_title"])
        incident.publish(None, "Le service de démonstration ne répond plus : nous enquêtons.")
    made_rules = _rules(team)
    return (
        f"{created} checks created, {made_rules} alert rules created, "
        f"{Incident.objects.unresolved().count()} open incident(s)"
    )
