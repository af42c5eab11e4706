"""The contract every notification transport follows: `send(config, message, *, key)`."""

import json
from dataclasses import dataclass, field

from vigie import env

# Lowest first: a destination with min_severity "warning" hears warnings and criticals.
SEVERITIES = ("info", "warning", "critical")
EVENTS = ("trigger", "acknowledge", "resolve")


def severities_at_most(severity):
    """The minimum severities that let a message of `severity` through."""
    return list(SEVERITIES[: SEVERITIES.index(severity) + 1])


class TransportError(Exception):
    """A message that did not go out. `permanent`: retrying will not help (bad URL, gone);
    `retry_after`: seconds the receiver asked us to wait (a 429's Retry-After);
    `configuration`: Vigie's own settings are missing (an unset `${VAR}`): an operator fixes
    them and restarts the worker, so the row waits for them instead of failing."""

    def __init__(self, message, *, permanent=False, retry_after=None, configuration=False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.configuration = configuration


@dataclass(frozen=True)
class Message:
    """What is said, independent of the channel: a short line, optional details and a link.

    `event` and `dedup_key` let receivers that track incidents (PagerDuty) open, acknowledge
    and resolve the same alert; `details` are facts a JSON receiver reads as fields (the
    webhook's check, team, opened_at…), JSON-serialisable."""

    subject: str
    text: str = ""
    url: str = ""
    severity: str = "info"
    event: str = "trigger"
    dedup_key: str = ""
    details: dict = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, not {self.event!r}")

    def as_plain_text(self):
        lines = [self.subject]
        if self.text:
            lines += ["", self.text]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines)


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a transport kind, its settings and a label safe to show.

    Config values may hold `${VAR}` references; they are resolved only when sending, so the
    outbox and the database keep the reference, never the secret it names."""

    kind: str
    config: dict = field(hash=False)
    label: str = ""

    def resolved_config(self):
        """The config with its `${VAR}` references resolved; a missing one is a configuration
        fault, retried: the variable may be set and the worker restarted before the give-up."""
        try:
            return {name: env.expand(value) for name, value in self.config.items()}
        except env.MissingVariable as exc:
            raise TransportError(str(exc), configuration=True) from None


class Transport:
    # Config keys whose resolved values are secrets, scrubbed from every error message.
    secret_keys = ("url",)

    def send(self, config, message, *, key):
        """Deliver `message` with the resolved `config`, or raise TransportError.

        `key` is the notification's idempotency key: the same on every retry."""
        raise NotImplementedError


def json_body(payload):
    """The exact bytes posted, so a signature covers what the receiver reads."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
