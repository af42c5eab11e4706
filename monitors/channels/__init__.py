"""Notification channels: a kind maps to its transport; a new channel is one file, one line."""

from .base import Message, TransportError
from .email import EmailTransport
from .mattermost import MattermostTransport
from .slack import SlackTransport

TRANSPORTS = {
    "slack": SlackTransport,
    "mattermost": MattermostTransport,
    "email": EmailTransport,
}


def send(channel, message):
    """Deliver `message` on `channel`, or raise TransportError."""
    try:
        transport = TRANSPORTS[channel.kind]()
    except KeyError:
        raise TransportError(f"unknown channel kind {channel.kind!r}", permanent=True) from None
    transport.send(channel, message)


__all__ = ["TRANSPORTS", "Message", "TransportError", "send"]
