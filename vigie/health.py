"""The checks behind /health and the home page's "Vigie itself".

Each check returns a Fact. /health shows its `english`: "ok" or a short reason for Vigie's own
checks (database, migrations, worker, …), and only they turn /health into a 503 (a load
balancer must not take Vigie out because an upstream is down); counts for informational checks
(the sources, …), e.g. `{"ok": 3, "failing": 1}`, with the names of what fails under
"problems", shown only to staff. The home page words the fact's code and params in the
reader's language, with the template the check was registered with.
"""

import time
from dataclasses import dataclass, field

import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vigie.models import Heartbeat, Notification
from vigie.tasks import WORKER

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Fact:
    """What a check found: a code ("ok" when all is well), the values it depends on, and how
    /health says it. `english` stays as /health always said it: probes, scripts and alert
    rules read it."""

    code: str
    english: str | dict = "ok"
    params: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.code == "ok"


OK = Fact("ok")

# Check raising: worded by the home page whatever the check (`exception`: its class name).
CHECK_FAILED = "check_failed"


@dataclass(frozen=True)
class Check:
    path: str
    own: bool = False  # its failure means Vigie itself is broken (503)
    label: str = ""  # the home page's name for it
    # Words its facts on the home page, from `fact` (and `detail`: the reader is staff); the
    # default words heartbeat_fact()'s.
    template: str = "health/facts.html#heartbeat"


# name -> Check: Vigie's own (registered below), then the apps' from their AppConfig.ready().
CHECKS = {}


def register(name, path, own=False, *, label, template=Check.template):
    """Adds a check; `own=True` when its failure means Vigie itself is broken (503)."""
    CHECKS[name] = Check(path, own, label, template)


# A notification due for longer than this means no worker is delivering.
OUTBOX_STUCK_AFTER = 15 * 60

_migrations_ok_until = 0.0
_MIGRATIONS_CACHE_SECONDS = 60


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health_database_error", error=str(exc))
        return Fact("error", "error")
    return OK


def check_migrations():
    """Pending migrations mean code and schema disagree: the incident of seed 003."""
    global _migrations_ok_until
    if time.monotonic() < _migrations_ok_until:
        return OK
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return Fact("pending", f"pending: {len(plan)}", {"count": len(plan)})
    _migrations_ok_until = time.monotonic() + _MIGRATIONS_CACHE_SECONDS
    return OK


def heartbeat_fact(name, max_age, english_beat):
    """A background process's liveness from its heartbeat: "never_seen", "stale" or ok."""
    since = Heartbeat.last(name)
    if since is None:
        return Fact("never_seen", "never seen")
    age = (timezone.now() - since).total_seconds()
    if age > max_age:
        return Fact("stale", f"stale: last {english_beat} {int(age)} s ago", {"since": since})
    return OK


def check_worker():
    return heartbeat_fact(WORKER, settings.WORKER_HEARTBEAT_MAX_AGE, "heartbeat")


def check_outbox():
    """A backlog is normal (retries wait); a row due for 15 min is a worker not delivering."""
    now = timezone.now()
    since = Notification.objects.stuck_since(now)
    if since is not None and (now - since).total_seconds() > OUTBOX_STUCK_AFTER:
        minutes = int((now - since).total_seconds() // 60)
        return Fact("stuck", f"stuck: a notification due for {minutes} min", {"since": since})
    return OK


def check_notify_config():
    """Notifications waiting because the worker lacks a setting (an unset `${VAR}`): no
    receiver will ever say so, and they are lost at the give-up age. Vigie keeps answering
    (not its own fault for a load balancer), but the operator reads what to set."""
    waiting = Notification.objects.filter(state=Notification.State.PENDING, misconfigured=True)
    count = waiting.count()
    if not count:
        return OK
    reasons = sorted(set(waiting.values_list("last_error", flat=True)))
    return Fact(
        "misconfigured",
        f"misconfigured: {count} notification(s) waiting: {'; '.join(reasons)}",
        {"count": count, "reasons": reasons},
    )


# The database's first: evaluate() stops when it fails.
register(
    "database",
    "vigie.health.check_database",
    True,
    label=_("Database"),
    template="health/facts.html#database",
)
register(
    "migrations",
    "vigie.health.check_migrations",
    True,
    label=_("Migrations"),
    template="health/facts.html#migrations",
)
register("worker", "vigie.health.check_worker", True, label=_("Background worker"))
register(
    "outbox",
    "vigie.health.check_outbox",
    True,
    label=_("Notification outbox"),
    template="health/facts.html#outbox",
)
register(
    "notify_config",
    "vigie.health.check_notify_config",
    label=_("Notification settings"),
    template="health/facts.html#notify-config",
)


def outbox_backlog():
    """Information for whoever reads /health: pending rows and the age of the oldest due.

    None when it cannot be read (the table missing: the migrations check says why)."""
    now = timezone.now()
    try:
        since = Notification.objects.stuck_since(now)
    except DatabaseError:
        return None
    return {
        "pending": Notification.objects.filter(state=Notification.State.PENDING).count(),
        "oldest_due_seconds": None if since is None else int((now - since).total_seconds()),
    }


def evaluate():
    """Runs every check: (healthy, {name: Fact}). Nothing runs after a failed database check:
    every other check reads it."""
    from django.utils.module_loading import import_string

    healthy, facts = True, {}
    for name, check in CHECKS.items():
        try:
            fact = import_string(check.path)()
        except Exception as exc:
            logger.exception("health_check_failed", check=name)
            error = exc.__class__.__name__
            fact = Fact(CHECK_FAILED, f"error: {error}", {"exception": error})
        facts[name] = fact
        healthy = healthy and (fact.ok or not check.own)
        if name == "database" and not fact.ok:
            break
    return healthy, facts


def run_checks(detail=False):
    """/health's (http status, body); `detail` keeps the names informational checks give."""
    healthy, facts = evaluate()
    checks = {}
    for name, fact in facts.items():
        value = fact.english
        if isinstance(value, dict) and not detail:
            value = {key: item for key, item in value.items() if key != "problems"}
        checks[name] = value
    body = {"status": "healthy" if healthy else "degraded", "checks": checks}
    if facts["database"].ok:
        body["outbox"] = outbox_backlog()
    return (200 if healthy else 503), body


def page_rows(facts):
    """(label, template, fact) per check for the home page, which words each fact in the
    reader's language; a check that raised is worded the same whatever the check."""
    rows = []
    for name, fact in facts.items():
        check = CHECKS[name]
        template = "health/facts.html#check-failed" if fact.code == CHECK_FAILED else check.template
        rows.append((check.label, template, fact))
    return rows
