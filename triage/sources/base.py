"""The contract every source backend follows; the sync and the board only speak this."""

import os
from dataclasses import dataclass, field, fields
from datetime import datetime

from vigie.logging import redact_text, register_secret


class SourceError(Exception):
    """An upstream failure, worded for the board (never holds a token).

    `permanent`: retrying the same call will not help. `auth`: the credentials were refused
    (the source is marked "auth error" and not retried until its configuration changes).
    `retry_after`: seconds the upstream asked us to wait (429), when it said.
    """

    def __init__(self, message, *, permanent=False, auth=False, retry_after=None):
        super().__init__(redact_text(str(message)))
        self.permanent = permanent or auth
        self.auth = auth
        self.retry_after = retry_after


def secret_of(source, what, *, required=True, auth=True):
    """The source's secret (token, DSN): from the environment variable it names, else the one
    stored on it. `what` names it in errors; the value never appears in one."""
    if source.token_env:
        value = os.environ.get(source.token_env, "")
        if not value:
            raise SourceError(
                f"the environment variable {source.token_env} holding the {what} is not set",
                auth=auth,
                permanent=True,
            )
        return register_secret(value)
    if source.token or not required:
        return register_secret(source.token)
    raise SourceError(f"no {what} configured for this source", auth=auth, permanent=True)


@dataclass(kw_only=True)
class ItemData:
    """One upstream item as the sync mirrors it into triage.Item (a field here is a field
    there: the sync writes every one of them, and they make the item's digest)."""

    external_id: str
    kind: str = "issue"
    title: str
    culprit: str = ""
    level: str = ""
    environment: str = ""
    upstream_status: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = 0
    user_count: int = 0
    permalink: str = ""
    short_id: str = ""
    assignee: str = ""
    recent_counts: list[int] = field(default_factory=list)
    payload: dict = field(default_factory=dict)


# What a sync writes onto an Item, in the digest's order: every ItemData field but the key.
DATA_FIELDS = tuple(f.name for f in fields(ItemData) if f.name != "external_id")


@dataclass
class UpstreamState:
    """What the upstream confirms after a write, read back rather than assumed."""

    status: str
    details: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


# What each kind of item can be qualified as, in the board's order.
KIND_QUALIFICATIONS = {
    "issue": ("temporary", "bug", "expected", "resolved"),
    "job": ("temporary", "bug", "expected"),
    "request": ("take", "done", "too_big"),
}


class SourceBackend:
    """One upstream. Subclasses implement what their upstream allows."""

    # Qualifications this backend can write back (the board offers those its item's kind takes).
    qualifications = ("temporary", "bug", "expected", "resolved")

    def __init__(self, source):
        self.source = source
        # Counters the sync records on its SyncRun: calls made, upstream items skipped as
        # malformed (fetch logs a warning and goes on).
        self.requests = 0
        self.skipped = 0

    # Mirror side (triage.sync).
    def fetch(self, *, since=None):
        """Yield ItemData, newest `last_seen` first, stopping past `since` when given."""
        raise NotImplementedError

    def reconcile(self, external_ids):
        """Return {external_id: upstream_status} for items possibly changed upstream."""
        raise NotImplementedError

    def totals(self, since):
        """(finished, failed) jobs since `since`, for an upstream that knows every job and not
        only its failures (a job failure rate); None when it does not."""
        return None

    # Write side (triage.services).
    def set_status(self, item, status, details=None):
        """Set the upstream status ("ignored", "resolved", "unresolved") and read it back.

        `details` holds Sentry-style statusDetails ({"ignoreCount": 1}, {"ignoreCount": 10,
        "ignoreWindow": 10080}). Returns the UpstreamState the upstream confirms.
        """
        raise NotImplementedError

    def comment(self, item, text):
        """Add a comment upstream; returns the upstream answer."""
        raise NotImplementedError

    def bug_report(self, item):
        """Facts for a GitHub issue body: {"release", "tags": {...}, "frames": [...]}, …"""
        raise NotImplementedError
