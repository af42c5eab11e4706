"""The monitors' background work: the tick that runs due checks, escalation, the daily fold."""

import time
from concurrent.futures import ThreadPoolExecutor, wait

import structlog
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from monitors import checks, rules
from monitors.models import Check, Incident, prune_results, summarize_checks
from vigie import shutdown
from vigie.models import Heartbeat

logger = structlog.get_logger(__name__)

SCHEDULER = "check-scheduler"
# A check starts at most one slot after it is due, and its result is stored at most one slot
# after it ends: 10 s slots missed "within 5 s" (bench/monitors.py). A slot costs three queries.
TICK_SECONDS = 2
CLAIM_BATCH = 100
_pool = None


def pool():
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=settings.MONITORS_THREADS, thread_name_prefix="check"
        )
    return _pool


def _run(check):
    """In a pool thread: the network part only, no database."""
    return checks.run(
        check.kind, check.config, timeout=check.timeout, allow_private=check.allow_private
    )


def _record(check, future):
    try:
        check.record(future.result(), timezone.now())
    except Exception:  # one check failing to record never stops the others
        logger.exception("check_record_failed", check=check.pk)


def step(now, pending):
    """One slot: record what finished, claim what is due, start it, escalate.

    `pending` maps running futures to their check; returns it."""
    # One commit for the results that finished (each record is its own savepoint): on
    # PostgreSQL a commit per result made a round of 1,000 checks 3x the bare GETs.
    with transaction.atomic():
        for future in [f for f in pending if f.done()]:
            _record(pending.pop(future), future)
    due = list(Check.objects.due(now).select_related("team"))
    for start in range(0, len(due), CLAIM_BATCH):
        # One commit per batch of claims, not per check: on SQLite each commit is a write-lock
        # round, and 1,000 checks due at once waited seconds for their turn to be claimed.
        with transaction.atomic():
            claimed = [check for check in due[start : start + CLAIM_BATCH] if check.claim(now)]
        for check in claimed:  # the others: another worker has this slot
            if check.kind == Check.Kind.HEARTBEAT:
                try:
                    check.record(check.evaluate_heartbeat(now), now)
                except Exception:
                    logger.exception("check_record_failed", check=check.pk)
                continue
            pending[pool().submit(_run, check)] = check
    Incident.objects.escalate_due(now)
    Heartbeat.beat(SCHEDULER)
    return pending


def finish(pending, stopping=False):
    """Wait for the checks still running (each bounded by its own timeout) and record them.

    When the worker is stopping, the checks still queued in the pool are not started: their
    claim is released and their slot given back, so the next worker runs them at once."""
    if stopping:
        for future in [f for f in pending if f.cancel()]:
            pending.pop(future).release()
    wait(list(pending))
    for future, check in list(pending.items()):
        _record(check, future)
    pending.clear()


def run_due(now=None):
    """One slot, waiting for its checks: what tests and `tick` build on."""
    finish(step(now or timezone.now(), {}))


def tick(clock=time.monotonic, sleep=shutdown.sleep):
    """Declared every minute; works one slot every TICK_SECONDS until the minute ends. A slow
    check only delays its own recording, never the next slot.

    `sleep` answers True when the worker is stopping (vigie.shutdown): no further slot then,
    and every claim taken is settled before the task returns."""
    pending = {}
    start = clock()
    slots = 60 // TICK_SECONDS
    stopping = False
    # Once a minute: time-based rules read states the slots below keep moving.
    rules.evaluate_timed(timezone.now())
    for index in range(slots):
        close_old_connections()
        step(timezone.now(), pending)
        if index == slots - 1:
            break
        if sleep(max(0.0, start + (index + 1) * TICK_SECONDS - clock())):
            stopping = True
            logger.info("check_tick_stopping", slots_done=index + 1)
            break
    finish(pending, stopping=stopping)


def fold_and_prune():
    return prune_results(timezone.now())


def summarize():
    return summarize_checks(timezone.now())
