"""The checks behind /health.

Vigie's own checks (database, migrations, worker, …) return "ok" or a short reason, and only
they turn /health into a 503: a load balancer must not take Vigie out because an upstream is
down. Informational checks (the sources, …) return counts, e.g. `{"ok": 3, "failing": 1}`,
with the names of what fails under "problems", shown only to staff.
"""

import time

import structlog
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from vigie.models import Heartbeat, Notification
from vigie.tasks import WORKER

logger = structlog.get_logger(__name__)

# Extra checks added by the apps through register(): name -> (dotted path, own).
CHECKS = {}


def register(name, path, own=False):
    """Adds a check; `own=True` when its failure means Vigie itself is broken (503)."""
    CHECKS[name] = (path, own)


# A notification due for longer than this means no worker is delivering.
OUTBOX_STUCK_AFTER = 15 * 60

_migrations_ok_until = 0.0
_MIGRATIONS_CACHE_SECONDS = 60


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_migrations():
    """Pending migrations mean code and schema disagree: the incident of seed 003."""
    global _migrations_ok_until
    if time.monotonic() < _migrations_ok_until:
        return "ok"
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"pending: {len(plan)}"
    _migrations_ok_until = time.monotonic() + _MIGRATIONS_CACHE_SECONDS
    return "ok"


def check_worker():
    age = Heartbeat.age(WORKER)
    if age is None:
        return "never seen"
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return f"stale: last heartbeat {int(age)} s ago"
    return "ok"


def check_outbox():
    """A backlog is normal (retries wait); a row due for 15 min is a worker not delivering."""
    now = timezone.now()
    since = Notification.objects.stuck_since(now)
    if since is not None and (now - since).total_seconds() > OUTBOX_STUCK_AFTER:
        return f"stuck: a notification due for {int((now - since).total_seconds() // 60)} min"
    return "ok"


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


def run_checks(detail=False):
    """Returns (http status, body); `detail` keeps the names informational checks give."""
    from django.utils.module_loading import import_string

    checks = {}
    try:
        checks["database"] = check_database()
    except DatabaseError as exc:
        logger.error("health_database_error", error=str(exc))
        checks["database"] = "error"
        return 503, {"status": "degraded", "checks": checks}
    named = [
        ("migrations", check_migrations, True),
        ("worker", check_worker, True),
        ("outbox", check_outbox, True),
    ]
    named += [(name, import_string(path), own) for name, (path, own) in CHECKS.items()]
    healthy = True
    for name, check, own in named:
        try:
            result = check()
        except Exception as exc:
            logger.exception("health_check_failed", check=name)
            result = f"error: {exc.__class__.__name__}"
        if isinstance(result, dict) and not detail:
            result = {key: value for key, value in result.items() if key != "problems"}
        checks[name] = result
        healthy = healthy and (result == "ok" or not own)
    return (200 if healthy else 503), {
        "status": "healthy" if healthy else "degraded",
        "checks": checks,
        "outbox": outbox_backlog(),
    }
