"""Notifications: a kind maps to its transport; a new channel is one file, one line.

Nothing is sent inline: `enqueue()` writes one outbox row (`vigie.models.Notification`) and the
worker delivers it (`vigie.notify.outbox.deliver_due`), retrying with backoff."""

from django.utils.module_loading import import_string

from .base import SEVERITIES, Destination, Message, TransportError, severities_at_most
from .email import EmailTransport
from .mattermost import MattermostTransport
from .ntfy import NtfyTransport
from .pagerduty import PagerDutyTransport
from .slack import SlackTransport
from .webhook import WebhookTransport

TRANSPORTS = {
    "slack": SlackTransport,
    "mattermost": MattermostTransport,
    "email": EmailTransport,
    "webhook": WebhookTransport,
    "pagerduty": PagerDutyTransport,
    "ntfy": NtfyTransport,
}

# Dotted paths of callables `(team, severity) -> [Destination]`, added by the apps in their
# AppConfig.ready() (monitors: the team's channels).
TEAM_DESTINATIONS = []

REDACTED = "[redacted]"


def send(destination, message, *, key):
    """Deliver `message` to `destination` now, or raise TransportError.

    The error's message never holds a resolved secret (webhook URL, signing secret, routing
    key): it ends up in the outbox's last_error, on pages and in logs."""
    try:
        transport = TRANSPORTS[destination.kind]()
    except KeyError:
        raise TransportError(f"unknown channel kind {destination.kind!r}", permanent=True) from None
    config = destination.resolved_config()
    try:
        transport.send(config, message, key=key)
    except TransportError as exc:
        text = str(exc)
        for name in transport.secret_keys:
            if config.get(name):
                text = text.replace(str(config[name]), REDACTED)
        if text == str(exc):
            raise
        raise TransportError(
            text,
            permanent=exc.permanent,
            retry_after=exc.retry_after,
            configuration=exc.configuration,
        ) from None


def enqueue(destination, message, *, key, group=""):
    """One outbox row for `message` to `destination`; the same `key` twice is the same row."""
    from vigie.models import Notification

    return Notification.enqueue(destination, message, key=key, group=group)


def team_destinations(team, severity):
    destinations = []
    for path in TEAM_DESTINATIONS:
        destinations += import_string(path)(team, severity)
    return destinations


def notify_team(team, message, *, key, group=""):
    """Enqueue `message` to every destination the apps give for `team` at its severity.

    Each row's key is `key` plus the destination, so calling again with the same key sends
    nothing twice. Returns the notifications."""
    return [
        enqueue(destination, message, key=destination_key(key, destination), group=group)
        for destination in team_destinations(team, message.severity)
    ]


def destination_key(key, destination):
    return f"{key}:{destination.kind}:{destination.label}"


__all__ = [
    "SEVERITIES",
    "TEAM_DESTINATIONS",
    "TRANSPORTS",
    "Destination",
    "Message",
    "TransportError",
    "enqueue",
    "notify_team",
    "send",
    "severities_at_most",
]
