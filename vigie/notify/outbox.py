"""Delivery of the outbox: claim due rows atomically, send, record; one failure stops nothing.

A row is claimed with a conditional UPDATE (pending and due, or sending with an expired lease
-> sending until now + LEASE): two workers never send the same row, and a worker killed in the
middle of a send leaves a row that becomes claimable again when its lease runs out."""

import random
from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from vigie import shutdown
from vigie.models import Notification
from vigie.notify import TransportError, send

logger = structlog.get_logger(__name__)

# Longer than one send can take (connect + read timeouts of vigie.notify.chat, SMTP's 30 s).
LEASE = timedelta(minutes=2)
BACKOFF_BASE = 30  # seconds before the second attempt, doubled each time
BACKOFF_MAX = 3600
BATCH = 50
POLL = 2.0  # seconds between two looks at the outbox while a task's window lasts

# Sent once a row is settled, sent or failed for good, with `notification=` (state, label and
# last_error up to date) and `at=`: the apps that enqueued it record the outcome where their
# users look (monitors: the incident's timeline) without the core knowing them.
settled = Signal()


def _settle(notification, now):
    for receiver, result in settled.send_robust(Notification, notification=notification, at=now):
        if isinstance(result, Exception):
            logger.error(
                "notification_settled_receiver_failed",
                notification=notification.pk,
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=repr(result),
            )


def backoff(attempts):
    """Seconds to wait after `attempts` failed sends, with a little jitter."""
    wait = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempts - 1))
    return wait * (1 + random.random() / 10)  # noqa: S311


def claim(pk, now):
    """True when this worker won the row."""
    return (
        Notification.objects.filter(pk=pk)
        .claimable(now)
        .update(
            state=Notification.State.SENDING,
            claimed_until=now + LEASE,
            attempts=F("attempts") + 1,
        )
        == 1
    )


def deliver(notification, now):
    """Send one claimed row and record the outcome on it."""
    try:
        send(notification.destination(), notification.message(), key=notification.key)
    except TransportError as exc:
        record_failure(notification, exc, now)
        return False
    except Exception as exc:
        # A bug in one transport must not stop the round: keep the row, retry it later.
        logger.exception("notification_crashed", notification=notification.pk)
        error = TransportError(f"internal error: {exc.__class__.__name__}")
        record_failure(notification, error, now)
        return False
    Notification.objects.filter(pk=notification.pk).update(
        state=Notification.State.SENT,
        sent_at=now,
        claimed_until=None,
        last_error="",
        misconfigured=False,
    )
    notification.state, notification.sent_at, notification.last_error = (
        Notification.State.SENT,
        now,
        "",
    )
    _settle(notification, now)
    return True


def record_failure(notification, error, now):
    """Permanent: failed at once. Transient, or a configuration fault (kept `misconfigured`
    for /health): retried after Retry-After or the backoff, the last attempt at the give-up
    deadline (VIGIE_NOTIFY_GIVE_UP_HOURS after it was enqueued)."""
    hours = settings.VIGIE_NOTIFY_GIVE_UP_HOURS
    give_up_at = notification.created_at + timedelta(hours=hours)
    reason = str(error)
    next_attempt_at = now
    if error.permanent:
        state = Notification.State.FAILED
    elif now >= give_up_at:
        state, reason = Notification.State.FAILED, f"gave up after {hours} h: {reason}"
    else:
        wait = error.retry_after
        if wait is None:
            wait = backoff(notification.attempts)
        state = Notification.State.PENDING
        next_attempt_at = min(now + timedelta(seconds=wait), give_up_at)
    Notification.objects.filter(pk=notification.pk).update(
        state=state,
        next_attempt_at=next_attempt_at,
        claimed_until=None,
        last_error=reason,
        misconfigured=error.configuration,
    )
    logger.warning(
        "notification_failed",
        notification=notification.pk,
        kind=notification.kind,
        permanent=error.permanent,
        configuration=error.configuration,
        state=state,
        error=reason,
    )
    if state == Notification.State.FAILED:
        notification.state, notification.last_error = state, reason
        _settle(notification, now)


def deliver_round(now):
    """Deliver every row due at `now`; returns how many were sent."""
    due = list(
        Notification.objects.claimable(now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    sent = 0
    for pk in due:
        if shutdown.requested.is_set():
            break  # the rows not claimed yet stay pending for the next worker
        if not claim(pk, now):
            continue  # another worker has it
        if deliver(Notification.objects.get(pk=pk), now):
            sent += 1
    return sent


def deliver_due(*, window=0.0, clock=timezone.now, sleep=shutdown.sleep):
    """Deliver due notifications, then keep looking for `window` seconds; returns how many
    were sent. `window=0` is one round (tests, a manual run). `sleep` answers True when the
    worker is stopping (vigie.shutdown): the window ends there."""
    started = clock()
    deadline = started + timedelta(seconds=window)
    sent = 0
    while True:
        now = clock()
        sent += deliver_round(now)
        remaining = (deadline - clock()).total_seconds()
        if remaining <= 0:
            return sent
        upcoming = (
            Notification.objects.filter(state=Notification.State.PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        # Wake for the next retry if it is close, else poll for rows enqueued meanwhile.
        wait = POLL if upcoming is None else (upcoming - clock()).total_seconds()
        if sleep(max(0.05, min(wait, POLL, remaining))):
            return sent


def deliver_task():
    """The scheduled task (every minute): delivers for most of the minute, so a notification
    waits seconds, not a minute, and stops before the next run starts."""
    return deliver_due(window=settings.VIGIE_NOTIFY_WINDOW)
