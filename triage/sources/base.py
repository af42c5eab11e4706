"""The contract every source backend follows; the sync and the board only speak this."""

import os
import re
from dataclasses import dataclass, field, fields
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from vigie.logging import redact_text, register_secret


class SourceError(Exception):
    """An upstream failure, worded for the board (never holds a token).

    `permanent`: retrying the same call will not help. `auth`: the credentials were refused
    (the source is marked "auth error" and not retried until its configuration changes).
    `retry_after`: seconds the upstream asked us to wait (429), when it said. With `params`,
    `message` is an untranslated template (marked with gettext_noop) that `facts()` keeps
    apart from its values, so each reader sees it in their own language; `translated` names
    the values that are words of ours (marked with gettext_noop), translated with it.
    """

    def __init__(
        self,
        message,
        *,
        params=None,
        translated=(),
        permanent=False,
        auth=False,
        retry_after=None,
    ):
        self.params = {k: redact_text(str(v)) for k, v in params.items()} if params else None
        self.translated = tuple(translated)
        self.code = str(message) if params is not None else None
        text = self.code % self.params if params is not None else str(message)
        super().__init__(redact_text(text))
        self.permanent = permanent or auth
        self.auth = auth
        self.retry_after = retry_after

    def facts(self):
        """What is stored of it: a template and its values, else the text as it came."""
        if self.code is not None:
            facts = {"code": self.code, "params": self.params}
            if self.translated:
                facts["translated"] = list(self.translated)
            return facts
        return {"text": str(self)}


def render_facts(facts):
    """A stored error in the reader's language."""
    if "code" in facts:
        params = dict(facts["params"])
        for name in facts.get("translated", ()):
            if name in params:
                params[name] = gettext(params[name])
        try:
            return gettext(facts["code"]) % params
        except (KeyError, TypeError, ValueError):  # a template changed since it was stored
            return facts["code"]
    return facts.get("text", "")


def secret_of(source, what, *, required=True, auth=True):
    """The source's secret (token, DSN): from the environment variable it names, else the one
    stored on it. `what` names it in errors (words marked with gettext_noop, shown in the
    reader's language); the value never appears in one."""
    if source.secret_env:
        value = os.environ.get(source.secret_env, "")
        if not value:
            raise SourceError(
                gettext_noop("the environment variable %(name)s holding the %(what)s is not set"),
                params={"name": source.secret_env, "what": what},
                translated=("what",),
                auth=auth,
                permanent=True,
            )
        return register_secret(value)
    if source.secret or not required:
        return register_secret(source.secret)
    raise SourceError(
        gettext_noop("no %(what)s configured for this source"),
        params={"what": what},
        translated=("what",),
        auth=auth,
        permanent=True,
    )


@dataclass(kw_only=True)
class ItemData:
    """One upstream item as the sync mirrors it into triage.Item (a field here is a field
    there: the sync writes every one of them, and they make the item's digest)."""

    external_id: str
    kind: str = "issue"
    title: str
    origin: str = ""
    level: str = ""
    environment: str = ""
    upstream_status: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    tally: int = 0
    user_count: int = 0
    permalink: str = ""
    short_id: str = ""
    assignee: str = ""
    recent_counts: list[int] = field(default_factory=list)
    payload: dict = field(default_factory=dict)


# What a sync writes onto an Item, in the digest's order: every ItemData field but the key.
DATA_FIELDS = tuple(f.name for f in fields(ItemData) if f.name != "external_id")


@dataclass(frozen=True)
class ReleaseData:
    """A version the upstream knows, and when it reached the source's environment."""

    version: str
    deployed_at: datetime


@dataclass
class UpstreamState:
    """What the upstream confirms after a write, read back rather than assumed."""

    status: str
    details: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    """The upstream account M'attribuer assigns. The profile keeps one per `key`
    (rotation's Profile.accounts), asked with `label` and `help_text`: backends naming the same
    key (a tracker and the demo imitating it) assign the same account."""

    key: str
    label: str
    help_text: str


class ConfigurationError(ValueError):
    """A source configuration refused by its kind (`addsource` prints it)."""


def refuse(errors):
    """Raise the ValidationError of `errors` ({field: message}; a false message is none)."""
    errors = {name: message for name, message in errors.items() if message}
    if errors:
        raise ValidationError(errors)


# A Sentry or Bugsink project slug or id.
PROJECT = re.compile(r"^[A-Za-z0-9_-]+$")


def scopes_of(source):
    """The source's scopes as a list (the admin's JSON may hold anything)."""
    return [str(scope) for scope in source.scopes] if isinstance(source.scopes, list) else []


class SourceBackend:
    """One upstream. Subclasses implement what their upstream allows, and say so below: the
    board offers an action (triage.actions) only when the backend declares it, the admin shows
    the fields it lists, and `addsource` offers its sub-command."""

    # The kind's name in the admin and the command line.
    label = ""
    # The Source fields this kind is configured with (the admin shows these, and the ones
    # every kind has).
    fields = ("secret_env", "secret")
    # What the secret is called on the command line (--token-env, --dsn-stdin…), and whether
    # the kind needs one.
    credential = "token"
    secret_required = True
    # Whether /health reports its failing syncs (not the offline demo).
    monitored = True
    # `addsource KIND`'s help; None: not added from the command line.
    cli_help = None

    @classmethod
    def default_secret(cls):
        """The secret used when the source names none (part of its configuration)."""
        return ""

    # Which of the kind's `addsource` options sets each Source field `configure` writes: a
    # field's error is reported under the option the operator typed.
    cli_flags = {}

    @classmethod
    def add_arguments(cls, parser):
        """The kind's own `addsource` options."""

    @classmethod
    def configure(cls, source, options):
        """Set the kind's fields on `source` from `addsource`'s options, or raise
        ConfigurationError."""

    # What `scopes` holds for this kind, as the admin names it (when "scopes" is in `fields`).
    scopes_label = _("projects or repositories")
    scopes_help = _("One per line, or separated by commas.")
    # What the kind does with `environment` (when it is in `fields`), when the field's own
    # words do not say it.
    environment_help = ""

    @classmethod
    def normalize(cls, source):
        """Put the kind's fields in the form it works with (Source.clean() calls it first, so
        the admin and `addsource` store the same)."""

    @classmethod
    def validate(cls, source):
        """Refuse a configuration this kind cannot work with: a ValidationError keyed by the
        faulty Source fields. Source.clean() calls it, so the admin and `addsource` refuse the
        same things with the same words."""
        errors = cls.configuration_errors(source)
        if (
            cls.secret_required
            and "secret" in cls.fields
            and not (source.secret_env or source.secret or cls.default_secret())
        ):
            errors.setdefault(
                "secret_env",
                _("Name the environment variable holding the token or DSN, or store one below."),
            )
        refuse(errors)

    @classmethod
    def option_fields(cls):
        """{name: form field} of the kind's settings kept in `Source.options`, as the admin
        asks for them (configuration_errors keys its refusals by these names)."""
        return {}

    @classmethod
    def configuration_errors(cls, source):
        """{field: message} for what the kind refuses in `source` (fields among `fields`; a
        false message is no error)."""
        return {}

    @classmethod
    def describe(cls, source):
        """One line for `addsource`'s confirmation."""
        return source.base_url or "no dashboard link"

    # Qualifications this backend can write back (the board offers those its item's kind takes).
    qualifications = ()
    # Relancer: the backend can queue a failed job again (`requeue`).
    can_requeue = False

    @property
    def can_assign(self):
        return self.assign_account is not None

    @property
    def can_link(self):
        """Lier: an existing GitHub issue stands for the bug, where Bug would open one."""
        return "bug" in self.qualifications

    # The longest "Attendu" window the upstream accepts, in minutes (None: no limit).
    max_ignore_window = None
    # The item's detail is read from the upstream when opened (`detail`); else the board shows
    # what the sync mirrored.
    can_detail = False
    # M'attribuer: the Account the backend assigns items to (`assign`), None when it cannot.
    assign_account = None
    # Commenter: the backend posts a free comment (`comment`) and finds it again on a retry.
    can_comment = False
    # Whether its items' user_count is the upstream's count of users (else unknown, shown —).
    counts_users = True
    # A demo backend writes nowhere: its messages say "(demo)", never "on GitHub".
    demo = False

    # How the board and the detail name this kind's links and where its writes go. Bug's
    # issues and small requests are GitHub's (issue_tracker), unless a backend says otherwise.
    open_label = _("Open upstream")  # the item's permalink
    comment_label = _("Comment posted upstream")  # Commenter's field
    issue_label = _("GitHub issue")  # the issue Bug opened or Lier linked
    link_label = _("Existing GitHub issue (URL or number)")  # Lier's field
    request_comment_label = _("Comment posted on GitHub with Done or Too big (optional)")
    confirmed_label = _("confirmed")  # an action the upstream confirmed
    # The upstream states the board names (the others show as they are).
    upstream_labels = {
        "closed": _("closed on GitHub"),
        "roadmap": _("moved to the roadmap"),
        "unlabelled": _("label taken off"),
        "gone": _("deleted at the source"),  # kept here: its qualifications stay readable
    }

    @property
    def issue_tracker(self):
        """Where **Bug** opens an issue and **Lier** reads one: a module with `open_issue`,
        `find_issue_by_marker` and `read_issue`, GitHub's (`triage.github`) by default."""
        from triage import github

        return github

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

    # Whether `releases()` means something for this upstream (an error tracker knows them).
    has_releases = False

    def releases(self):
        """The most recent ReleaseData of the source's projects and environment."""
        raise NotImplementedError

    def reconcile(self, external_ids):
        """Return {external_id: upstream_status} for items possibly changed upstream."""
        raise NotImplementedError

    def listed_tags(self, payload):
        """The tags an item's list payload gives, {key: value}, without another request: what
        a tag rule matches on first (Sentry's `handled`, a job's `queue`)."""
        return {}

    # A tag rule may ask the upstream for a tag its list does not give (`tag_values`).
    can_read_tags = False

    def tag_values(self, external_id, key):
        """The values the item has for the tag `key`, read from the upstream (an empty list
        when it has no such tag). The sync asks it only for new items, only for a key an
        active tag rule names and `listed_tags` lacks, and a bounded number of times."""
        raise NotImplementedError

    def totals(self, since):
        """(finished, failed) jobs since `since`, for an upstream that knows every job and not
        only its failures (a job failure rate); None when it does not."""
        return None

    # Write side (triage.actions).
    def set_status(self, item, status, details=None):
        """Set the upstream status ("ignored", "resolved", "unresolved") and read it back.

        `details` holds Sentry-style statusDetails ({"ignoreCount": 1}, {"ignoreCount": 10,
        "ignoreWindow": 10080}). Returns the UpstreamState the upstream confirms.
        """
        raise NotImplementedError

    def comment(self, item, text, *, retrying=False):
        """Add a comment upstream; returns the upstream answer. `retrying`: an earlier attempt
        may have posted it and lost the answer, so the upstream's comments are read first and
        the same text is never posted twice."""
        raise NotImplementedError

    def has_member(self, account):
        """Whether the upstream knows `account` (checked when a profile names it); None when it
        cannot tell."""
        return None

    def assign(self, item, account):
        """Assign the item to the upstream `account` and read it back: an UpstreamState whose
        details hold the "assignee" as the upstream names it."""
        raise NotImplementedError

    def bug_report(self, item):
        """Facts for a GitHub issue body: {"release", "tags": {...}, "frames": [...]}, …"""
        raise NotImplementedError

    def detail(self, item):
        """What the detail panel shows, read from the upstream (when `can_detail`), as JSON-able
        data: {"exception": {"type", "value"}, "frames": [{"filename", "function", "lineno",
        "in_app", "context": [[lineno, line], ...]}], "tags": {...}, "breadcrumbs": [...],
        "first_release", "last_release", "first_seen", "last_seen", "user_count"}."""
        raise NotImplementedError

    def mirrored_stats(self, item, now):
        """The item's event counts for the detail's charts when they are not read with the
        detail: {"24h": [[timestamp, count], ...] hourly, "30d": [...] daily}, or {}."""
        return {}

    def requeue(self, item):
        """Queue the item's failed job again (when `can_requeue`); returns the upstream answer."""
        raise NotImplementedError

    # Small requests ("take", "done", "too_big" in `qualifications`): each returns the
    # UpstreamState read back after the write.
    roadmap_label = ""

    def take(self, item, login, *, replacing=()):
        """Assign `login`, unassigning `replacing` (a take-over the vigie confirmed)."""
        raise NotImplementedError

    def finish(self, item, comment, *, marker, retrying):
        """Close the request with `comment` (posted once: `marker` finds an earlier one)."""
        raise NotImplementedError

    def hand_to_roadmap(self, item, comment, *, marker, retrying):
        """Move the request to `roadmap_label`, with `comment`."""
        raise NotImplementedError

    def revert(self, item, action, params):
        """Take back a confirmed take / done / too_big, given that action's params."""
        raise NotImplementedError
