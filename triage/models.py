import hashlib
import hmac
import json
import os
from datetime import timedelta
from functools import cached_property

import regex
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from rotation.models import Membership
from triage.sources import REGISTRY, backend_class, backend_for, kind_choices
from triage.sources.base import DATA_FIELDS, render_facts
from triage.sources.jobs import normalise_message
from vigie.crypto import EncryptedTextField


def _visible(prefix, user, team_ids):
    """Sources of the user's teams and of the teams that share their board; every source for
    a superuser. `team_ids`: the user's teams, when the caller already has them."""
    if user.is_superuser:
        return Q()
    if team_ids is None:
        # Each team has its own "today" (Membership.active): filtered here, not in SQL.
        memberships = Membership.objects.filter(user=user).select_related("team")
        team_ids = [membership.team_id for membership in memberships if membership.active]
    return Q(**{f"{prefix}team_id__in": team_ids}) | Q(**{f"{prefix}team__share_board": True})


class SourceQuerySet(models.QuerySet):
    def visible_to(self, user, team_ids=None):
        return self.filter(_visible("", user, team_ids))

    def claimable(self, now):
        """Sources no sync holds: never claimed, released, or whose sync stopped beating."""
        return self.filter(Q(sync_started_at__isnull=True) | self._silent_since(now))

    def stuck(self, now):
        """Claimed by a sync that stopped beating (its worker died): /health says so."""
        return self.filter(self._silent_since(now), sync_started_at__isnull=False)

    @staticmethod
    def _silent_since(now):
        cutoff = now - Source.CLAIM_LEASE
        # A claim taken before heartbeats existed has only its start.
        return Q(sync_heartbeat_at__lt=cutoff) | Q(
            sync_heartbeat_at__isnull=True, sync_started_at__lt=cutoff
        )

    def due(self, now):
        """Enabled sources whose next sync time has come."""
        return self.filter(enabled=True).filter(
            Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)
        )


class Source(models.Model):
    """An upstream the vigie triages: a Sentry organisation, a GoodJob database, a repository…"""

    class State(models.TextChoices):
        NEW = "new", _("never synced")
        OK = "ok", _("ok")
        AUTH_ERROR = "auth_error", _("authentication error")
        ERROR = "error", _("error")

    # The registered backends (triage.sources.REGISTRY): a new kind needs no migration.
    kind = models.CharField(_("kind"), max_length=20, choices=kind_choices)
    name = models.SlugField(_("name"), max_length=50, unique=True)
    team = models.ForeignKey(
        "rotation.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
        verbose_name=_("team"),
    )
    base_url = models.URLField(_("base URL"), blank=True)
    organization = models.CharField(_("organization"), max_length=100, blank=True)
    # What to mirror inside the upstream: Sentry project slugs or ids, GitHub repositories.
    scopes = models.JSONField(_("projects or repositories"), default=list, blank=True)
    environment = models.CharField(
        _("environment"), max_length=64, default="production", blank=True
    )
    secret_env = models.CharField(
        _("secret environment variable"),
        max_length=100,
        blank=True,
        help_text=_("Name of the environment variable holding the token or DSN (preferred)."),
    )
    # A token for an API, a DSN for a database: whatever the kind's upstream is opened with.
    secret = EncryptedTextField(
        _("stored secret"),
        blank=True,
        help_text=_("Used when no environment variable is named. Never shown back."),
    )
    sync_interval_minutes = models.PositiveSmallIntegerField(
        _("sync interval (minutes)"), default=5
    )
    github_repository = models.CharField(
        _("GitHub repository for bugs"), max_length=200, blank=True, help_text="owner/name"
    )
    options = models.JSONField(_("options"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    # Sync bookkeeping.
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.NEW)
    # Why the last sync failed, as facts (SourceError.facts()): worded in the reader's
    # language when shown (last_error).
    last_failure = models.JSONField(_("last error"), default=dict, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)
    high_water_mark = models.DateTimeField(_("high-water mark"), null=True, blank=True)
    last_reconciled_at = models.DateTimeField(_("last reconciled at"), null=True, blank=True)
    # Claimed atomically by the sync task so two syncs of one source never run at once; the
    # sync renews `sync_heartbeat_at` between batches (every tenth of the lease), and a claim
    # not renewed for CLAIM_LEASE belongs to a sync that died (worker killed): it may be taken over.
    sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    # The configuration that was refused: scheduled syncs wait until it changes.
    auth_error_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    objects = SourceQuerySet.as_manager()

    # Longer than one page of the upstream takes, retries included, between two heartbeats.
    CLAIM_LEASE = timedelta(minutes=5)
    # A failing source is retried later and later, but at least this often.
    MAX_BACKOFF = timedelta(hours=1)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def last_error(self):
        return render_facts(self.last_failure)

    def clean(self):
        if self.kind in REGISTRY:
            backend_class(self.kind).normalize(self)
            backend_class(self.kind).validate(self)

    def config_fingerprint(self):
        """A keyed digest of what decides whether the upstream accepts us (the token from the
        environment included), so a refused configuration is retried once it changes."""
        token = os.environ.get(self.secret_env, "") if self.secret_env else self.secret
        if not token and self.kind in REGISTRY:
            # GitHub sources fall back on Vigie's own token: fixing it is a new configuration.
            token = backend_class(self.kind).default_secret()
        material = json.dumps(
            [self.kind, self.base_url, self.organization, self.scopes, self.secret_env, token]
        )
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()

    @property
    def waits_for_new_configuration(self):
        return (
            self.state == self.State.AUTH_ERROR
            and self.auth_error_fingerprint == self.config_fingerprint()
        )

    def backoff(self):
        """How long to wait after the latest of `consecutive_failures` failures."""
        interval = timedelta(minutes=self.sync_interval_minutes)
        return min(interval * 2 ** max(0, self.consecutive_failures - 1), self.MAX_BACKOFF)

    def stale_after(self):
        """A source not synced for this long is reported by /health."""
        return max(timedelta(minutes=self.sync_interval_minutes) * 3, timedelta(minutes=15))

    @cached_property
    def backend(self):
        """Its kind's backend: what the source can do, and how the pages name its links and
        where its writes go."""
        return backend_for(self)

    def is_stale(self, now=None):
        if self.last_success_at is None:
            return False
        return (now or timezone.now()) - self.last_success_at > self.stale_after()


# Upstream states in which nothing is left to do (a request closed on GitHub needs nobody, an
# issue deleted in Bugsink is gone).
FINISHED_UPSTREAM = ["resolved", "closed", "roadmap", "unlabelled", "gone"]


class ActionQuerySet(models.QuerySet):
    def undoable(self):
        """Qualifications the upstream confirmed and nobody undid yet (requeue and undo are
        not qualifications)."""
        from triage.actions import QUALIFICATIONS  # the registry builds on these models

        return self.filter(upstream_ok=True, undone=False, action__in=QUALIFICATIONS)

    def latest_undoable(self):
        """What **Annuler** takes back: the latest of them."""
        return self.undoable().order_by("-created_at", "-pk").first()


class ItemQuerySet(models.QuerySet):
    # Not qualified yet and still open upstream.
    UNQUALIFIED = Q(qualification="") & ~Q(upstream_status__in=FINISHED_UPSTREAM)
    # What the vigie must look at: the board's default, its metric and the handover's section.
    TO_QUALIFY = UNQUALIFIED | Q(came_back=True)

    def unqualified(self):
        return self.filter(self.UNQUALIFIED)

    def to_qualify(self):
        """Unqualified and still open upstream, or ignored and back since."""
        return self.filter(self.TO_QUALIFY)

    def visible_to(self, user, team_ids=None):
        """What `user` may see on the board: the items of the sources they may see."""
        return self.filter(_visible("source__", user, team_ids))

    def with_undoable(self):
        """Annotates `has_undoable` (read by Item.can_be_undone) in the same query."""
        return self.annotate(
            has_undoable=models.Exists(Action.objects.undoable().filter(item=models.OuterRef("pk")))
        )


class Item(models.Model):
    """One thing the vigie qualifies: a Sentry issue, a group of discarded jobs, a request."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("error issue")
        JOB = "job", _("discarded job")
        REQUEST = "request", _("small request")

    class Qualification(models.TextChoices):
        UNQUALIFIED = "", _("unqualified")
        TEMPORARY = "temporary", _("temporary")
        BUG = "bug", _("bug")
        EXPECTED = "expected", _("expected")
        RESOLVED = "resolved", _("resolved")
        # Small requests.
        TAKEN = "taken", _("taken")
        DONE = "done", _("done")
        TOO_BIG = "too_big", _("too big")

    # No index of its own: unique_item_per_source leads with it (one B-tree less to write for
    # every item a sync mirrors).
    source = models.ForeignKey(
        Source,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("source"),
        db_index=False,
    )
    external_id = models.CharField(_("upstream id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.ISSUE)
    title = models.TextField(_("title"))
    # Where it comes from: the code location (Sentry's culprit), the job's class, the
    # request's repository.
    origin = models.TextField(_("origin"), blank=True)
    level = models.CharField(_("level"), max_length=20, blank=True)
    environment = models.CharField(_("environment"), max_length=64, blank=True)
    upstream_status = models.CharField(_("upstream status"), max_length=30, blank=True)
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    # How many: events of an issue, discarded jobs of a group, comments on a request.
    tally = models.BigIntegerField(_("count"), default=0)
    user_count = models.BigIntegerField(_("users"), default=0)
    permalink = models.URLField(_("upstream link"), max_length=500, blank=True)
    short_id = models.CharField(_("short id"), max_length=100, blank=True)
    # Who upstream has it (Sentry's assignee, a request's GitHub assignees), for the board.
    assignee = models.CharField(_("assignee"), max_length=200, blank=True)
    # Recent event counts, oldest first, for the sparkline.
    recent_counts = models.JSONField(_("recent counts"), default=list, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    qualification = models.CharField(
        _("qualification"),
        max_length=20,
        choices=Qualification,
        default=Qualification.UNQUALIFIED,
        blank=True,
    )
    qualification_params = models.JSONField(_("qualification parameters"), default=dict, blank=True)
    github_issue_url = models.URLField(_("GitHub issue"), max_length=500, blank=True)
    qualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("qualified by"),
        db_index=False,  # indexed where set only (Meta.indexes)
    )
    qualified_at = models.DateTimeField(_("qualified at"), null=True, blank=True)
    came_back = models.BooleanField(_("came back"), default=False)
    # Why an Attendu came back when the vigie's memory counted it (triage.memory): the count
    # over the memory rule's window that reached its threshold, {"count", "window" (minutes),
    # "threshold"}; empty otherwise (cleared with came_back by the next qualification).
    breach = models.JSONField(_("why it came back"), default=dict, blank=True)
    # The local rule that pre-qualified it when it was first mirrored (cleared by an undo or a
    # qualification by hand): the qualification was not written upstream.
    rule = models.ForeignKey(
        "QualificationRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pre-qualified by rule"),
        db_index=False,  # indexed where set only (Meta.indexes)
    )
    # A tag a rule needed could not be read when it was new (past a sync's reads, or the read
    # failed): the next syncs try the rules on it again (triage.rules).
    rules_pending = models.BooleanField(_("rules to try again"), default=False, editable=False)
    # When Vigie first mirrored it (a sync never writes it again): what "new" means for alerts.
    mirrored_at = models.DateTimeField(
        _("first mirrored at"), default=timezone.now, db_index=True, editable=False
    )
    # Digest of the upstream fields as last mirrored: an unchanged item is not written again.
    upstream_digest = models.CharField(
        _("upstream digest"), max_length=40, blank=True, editable=False
    )

    # Upstream fields, the only ones a sync writes: the qualification side stays local.
    UPSTREAM_FIELDS = [*DATA_FIELDS, "upstream_digest"]
    # Qualifications that leave the issue silenced or closed upstream: a new occurrence that
    # makes it unresolved again means it came back and needs another look.
    SILENCING = [
        Qualification.TEMPORARY,
        Qualification.EXPECTED,
        Qualification.RESOLVED,
        Qualification.DONE,
        Qualification.TOO_BIG,
    ]
    # Upstream statuses of an item open again: a Sentry issue, a small request reopened.
    REOPENED = ["unresolved", "open"]
    # Upstream statuses of an item finished upstream (resolved in Sentry, a request closed or
    # no longer labelled for the vigie): no longer asked about, and nothing left to qualify.
    FINISHED_UPSTREAM = FINISHED_UPSTREAM

    # The write-back to the upstream: the board shows a failure and offers a retry. A pending
    # write is a claim (taken by a conditional update) so two tabs never write at once.
    class Writeback(models.TextChoices):
        NONE = "", _("nothing pending")  # never written, or the last write was confirmed
        PENDING = "pending", _("pending")
        FAILED = "failed", _("failed")

    writeback_state = models.CharField(
        _("write-back"), max_length=10, choices=Writeback, default=Writeback.NONE, blank=True
    )
    # Why the last write-back failed, as facts ({"action", "error": SourceError.facts()}):
    # worded in the reader's language when shown (writeback_error).
    writeback_failure = models.JSONField(_("write-back failure"), default=dict, blank=True)
    writeback_started_at = models.DateTimeField(_("write-back started at"), null=True, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="unique_item_per_source"
            ),
        ]
        indexes = [
            models.Index(fields=["qualification", "came_back", "-last_seen"]),
            # A new item has neither: an index of only the items that have one costs a sync
            # nothing, and still serves a user's or a rule's deletion and a rule's hits.
            models.Index(
                fields=["qualified_by"],
                condition=models.Q(qualified_by__isnull=False),
                name="item_qualified_by",
            ),
            models.Index(fields=["rule"], condition=models.Q(rule__isnull=False), name="item_rule"),
            models.Index(
                fields=["source"], condition=models.Q(rules_pending=True), name="item_rules_pending"
            ),
        ]

    def __str__(self):
        return self.short_id or self.title[:80]

    @property
    def users(self):
        """How many users it touched, or None where its source does not count them (a job, a
        request, a Bugsink issue): shown as "—", never as a 0 nobody counted."""
        if self.kind == self.Kind.REQUEST:
            return None
        try:
            counts = self.source.backend.counts_users
        except LookupError:
            return None
        return self.user_count if counts else None

    @property
    def writeback_error(self):
        if not self.writeback_failure or "text" in self.writeback_failure:
            # Nothing failed, or a failure stored before facts were (worded when it happened).
            return self.writeback_failure.get("text", "")
        from triage.actions import ACTIONS  # the registry builds on these models

        action = self.writeback_failure.get("action", "")
        label = ACTIONS[action].label if action in ACTIONS else action
        return _("%(action)s: the write-back failed: %(error)s") % {
            "action": label,
            "error": render_facts(self.writeback_failure.get("error", {})),
        }

    @property
    def breach_text(self):
        """ "57 occurrences in 30 days, threshold 40": the count that made it come back."""
        if not self.breach:
            return ""
        return ngettext(
            "%(count)s occurrence in %(window)s, threshold %(threshold)s",
            "%(count)s occurrences in %(window)s, threshold %(threshold)s",
            self.breach["count"],
        ) % {
            "count": self.breach["count"],
            "window": window_label(self.breach["window"]),
            "threshold": self.breach["threshold"],
        }

    @property
    def fingerprint(self):
        return fingerprint(self.source_id, self.kind, self.title, self.origin, self.payload)

    @property
    def can_be_undone(self):
        """**Annuler** has something to undo: a qualification, set by a confirmed action or
        by a rule."""
        if not self.qualification:
            return False
        if self.rule_id is not None:
            return True
        if "has_undoable" in self.__dict__:
            return self.has_undoable
        return self.actions.undoable().exists()

    @property
    def is_gone(self):
        """Deleted upstream since it was mirrored (kept here): nothing can be written there."""
        return self.upstream_status == "gone"

    @property
    def upstream_status_label(self):
        labels = self.source.backend.upstream_labels
        return labels.get(self.upstream_status, self.upstream_status)

    # Seed 000: a record not found inside a job is usually a real bug (a mail never sent because
    # the place was deleted), unlike the same error on a page reached from outside.
    NOT_FOUND_IN_JOB_WARNING = _(
        "Careful: this job failed on a missing record, which is usually a real bug (a mail not "
        "sent, a reminder lost). Consider Bug instead."
    )

    @property
    def not_found_in_job(self):
        from triage.sources.jobs import is_not_found_error

        return self.kind == self.Kind.JOB and is_not_found_error(self)


class Action(models.Model):
    """What someone did to an item, and what the upstream answered: the handover reads these."""

    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="actions", verbose_name=_("item")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    upstream_ok = models.BooleanField(_("upstream OK"), null=True)
    upstream_response = models.JSONField(_("upstream response"), default=dict, blank=True)
    # One per click: a double click or a replayed request finds the first one's row.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=100, null=True, blank=True, unique=True
    )
    # Set on a qualification that a later "undo" took back.
    undone = models.BooleanField(_("undone"), default=False)

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} {self.item_id}"

    @property
    def label(self):
        from triage.actions import ACTIONS  # the registry builds on these models

        return ACTIONS[self.action].label if self.action in ACTIONS else self.action

    @property
    def upstream_error(self):
        """Why the upstream refused it, in the reader's language when stored as facts."""
        failure = self.upstream_response.get("failure") or {}
        return render_facts(failure.get("error", {})) or self.upstream_response.get("error", "")


class SyncRun(models.Model):
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="runs", verbose_name=_("source")
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    requests = models.PositiveIntegerField(_("requests"), default=0)
    # New items a local rule pre-qualified (triage.rules), the vigie's memory included.
    prequalified = models.PositiveIntegerField(_("pre-qualified"), default=0)
    # Ignores the vigie's memory wrote upstream again (triage.memory).
    reapplied = models.PositiveIntegerField(_("written again"), default=0)
    error = models.TextField(_("error"), blank=True)
    # Jobs finished and failed in the TOTALS_WINDOW before the sync, where the upstream knows
    # them (django-q2): {"since", "finished", "failed"}; empty otherwise.
    totals = models.JSONField(_("totals"), default=dict, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.source} @ {self.started_at:%Y-%m-%d %H:%M}"


class ReleaseQuerySet(models.QuerySet):
    def latest_before(self, team, at):
        """The last release deployed to one of the team's sources at or before `at`, or None."""
        return (
            self.filter(source__team=team, deployed_at__lte=at)
            .order_by("-deployed_at", "-pk")
            .first()
        )


class Release(models.Model):
    """A version an error tracker knows, mirrored by `triage.releases.sync_releases`, so the
    status page can say "since release 2.14.0" without calling the upstream."""

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="releases", verbose_name=_("source")
    )
    version = models.CharField(_("version"), max_length=200)
    deployed_at = models.DateTimeField(_("deployed at"))

    objects = ReleaseQuerySet.as_manager()

    # The newest kept per source: the status page only ever asks about recent ones.
    KEEP = 100

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-deployed_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "version"], name="unique_release_per_source")
        ]
        indexes = [models.Index(fields=["source", "deployed_at"])]

    def __str__(self):
        return self.version

    @property
    def short_version(self):
        """ "app@2.14.0" reads "2.14.0", as Sentry's shortVersion does."""
        return self.version.rsplit("@", 1)[-1]


# Samples older than this are pruned at each sync: the longest window an alert rule may count.
COUNT_HISTORY = timedelta(days=1)
# The longest window of an Attendu's threshold (minutes): the samples of the items qualified
# Attendu are kept this long, so the vigie's memory counts a month where Sentry holds a week.
MAX_MEMORY_WINDOW = 43200
MEMORY_HISTORY = timedelta(minutes=MAX_MEMORY_WINDOW)


class ItemCountQuerySet(models.QuerySet):
    def prunable(self, source, now):
        """Samples past COUNT_HISTORY, but those of an Attendu younger than MEMORY_HISTORY."""
        old = self.filter(item__source=source, at__lt=now - COUNT_HISTORY)
        return old.exclude(
            item__qualification=Item.Qualification.EXPECTED, at__gte=now - MEMORY_HISTORY
        )

    def events_since(self, since_by_item):
        """{item pk: events counted since its `since`} from the samples (one query): each
        sample holds the events between two syncs that saw the item, dated by the later one,
        so events that happened while the upstream did not list it (ignored) count when it is
        seen again. A history shorter than the window counts what Vigie saw: the first weeks of
        a month's threshold undercount, never overcount."""
        if not since_by_item:
            return {}
        matching = Q()
        for pk, since in since_by_item.items():
            matching |= Q(item_id=pk, at__gte=since)
        rows = (
            self.filter(matching)
            .values("item_id")
            .annotate(events=models.Sum(models.F("count") - models.F("previous")))
        )
        return {row["item_id"]: row["events"] for row in rows}


class ItemCount(models.Model):
    """An item's upstream event count as a sync saw it change, with the count before: the
    events between two syncs, which alert rules add up over a window (a spike of events on one
    issue, discarded jobs in an hour). Written only when the count moved, pruned after
    COUNT_HISTORY (MEMORY_HISTORY for an Attendu: ItemCountQuerySet.prunable)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="counts")
    at = models.DateTimeField(db_index=True)
    count = models.BigIntegerField()
    previous = models.BigIntegerField()

    objects = ItemCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("item event count")
        verbose_name_plural = _("item event counts")
        indexes = [models.Index(fields=["item", "at"])]

    def __str__(self):
        return f"{self.item_id} {self.at:%Y-%m-%d %H:%M} {self.previous}->{self.count}"


class QualificationRuleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(retired_at__isnull=True)

    def visible_to(self, user, team_ids=None):
        """Rules of the user's teams (every rule for a superuser)."""
        if user.is_superuser:
            return self.all()
        if team_ids is None:
            team_ids = [m.team_id for m in Membership.objects.filter(user=user) if m.active]
        return self.filter(team_id__in=team_ids)

    def applying_to(self, source):
        """The active rules that take the new items of `source`, in the order they are tried:
        the source's own first, then its team's, oldest first."""
        if source.team_id is None:
            return self.none()
        return (
            self.active()
            .filter(team_id=source.team_id, fingerprint="")
            .filter(Q(source__isnull=True) | Q(source=source))
            .order_by(models.F("source_id").asc(nulls_last=True), "created_at", "pk")
        )

    def memories_of(self, team_id, fingerprints):
        """The team's active memory rules on these fingerprints, by fingerprint (one query)."""
        if team_id is None or not fingerprints:
            return {}
        found = self.active().filter(team_id=team_id, fingerprint__in=set(fingerprints))
        return {rule.fingerprint: rule for rule in found}

    def remember(self, item, count, window, user):
        """Keep the vigie's Attendu threshold on `item`'s fingerprint: one rule per team and
        fingerprint, updated (and taken out of retirement) when qualified again, so a double
        click, a retry or a second Attendu never makes two."""
        team_id = item.source.team_id
        if team_id is None:
            return None
        rule, _created = self.update_or_create(
            team_id=team_id,
            fingerprint=item.fingerprint,
            defaults={
                "name": item.title[:100],
                "source": item.source,
                "kind": item.kind,
                "pattern": item.title[:500],
                "qualification": QualificationRule.Verdict.EXPECTED,
                "threshold_count": count,
                "threshold_window": window,
                "item": item,
                "created_by": user,
                "retired_at": None,
                "retired_by": None,
            },
        )
        return rule

    def forget(self, item, user):
        """Retire the memory of `item`'s fingerprint: its Attendu was undone or replaced."""
        if item.source.team_id is None:
            return 0
        return (
            self.active()
            .filter(team_id=item.source.team_id, fingerprint=item.fingerprint)
            .update(retired_at=timezone.now(), retired_by=user)
        )

    def with_hits(self, now):
        """Annotates `hits_7d`, `hits_30d` and `undone_30d` (hits a vigie took back)."""
        week, month = now - timedelta(days=7), now - timedelta(days=30)
        return self.annotate(
            hits_7d=models.Count("hits", filter=Q(hits__at__gte=week)),
            hits_30d=models.Count("hits", filter=Q(hits__at__gte=month)),
            undone_30d=models.Count(
                "hits", filter=Q(hits__at__gte=month, hits__undone_at__isnull=False)
            ),
        )


def exception_type(title, payload):
    """A mirrored item's exception type: Sentry's metadata, a job's error class, else the
    title's head as Sentry words it ("Type: value", the type itself possibly namespaced as
    `ActiveRecord::RecordNotFound`); empty when none says."""
    payload = payload if isinstance(payload, dict) else {}
    metadata = payload.get("metadata")
    kind = (metadata.get("type") if isinstance(metadata, dict) else "") or payload.get(
        "error_class"
    )
    if isinstance(kind, str) and kind:
        return kind
    head, colon, _rest = title.partition(": ")
    return head.strip() if colon else ""


def fingerprint(source_id, kind, title, origin, payload):
    """What the vigie's memory knows an error by when its upstream forgot it (Sentry's
    retention, a new issue id for the same error): a SHA-256 of the source, the item's kind,
    its exception type, its culprit and its title with ids, numbers, e-mails and uuids taken out
    (normalise_message, as jobs are grouped), so "Couldn't find Rdv 42" and "… Rdv 43" are one
    error. Never the upstream's id."""
    parts = [
        str(source_id),
        kind,
        exception_type(title, payload),
        normalise_message(origin),
        normalise_message(title),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def window_label(minutes):
    """A threshold's window in words: "30 days", "1 hour", "90 minutes"."""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


class RuleSubjects:
    """What rules match one item on (title, culprit, exception type, level, tags), each cut to
    a bounded length (a 1 MB exception value costs no more than a short one), and casefolded
    once for all the plain-text rules.

    `tags`: the item's tags its source's list gives (`SourceBackend.listed_tags`). `lookup`: a
    function of a tag key giving that tag's values read from the upstream, or None when it
    cannot be read; asked once per key, only for a key the list did not give and only when a
    tag rule is tried on the item."""

    LIMIT = 2000

    __slots__ = ("_lookup", "folded", "kind", "raw", "tags")

    def __init__(self, kind, title, origin, payload, *, level="", tags=None, lookup=None):
        self.kind = kind
        self.raw = {
            "title": title[: self.LIMIT],
            "origin": origin[: self.LIMIT],
            "exception_type": exception_type(title, payload)[: self.LIMIT],
            "level": level[: self.LIMIT],
        }
        self.folded = {field: text.casefold() for field, text in self.raw.items()}
        self.tags = {key: self._values((value,)) for key, value in (tags or {}).items()}
        self._lookup = lookup

    def _values(self, values):
        return tuple(str(value)[: self.LIMIT] for value in values)

    def tag(self, key):
        """The values of the item's tag `key` (none when it has no such tag or it could not be
        read: a rule on it does not match)."""
        if key not in self.tags:
            found = self._lookup(key) if self._lookup is not None else None
            self.tags[key] = self._values(found or ())
        return self.tags[key]


# How long one rule's regular expression may search one item's text. A pattern that
# backtracks catastrophically (`(a+)+b` on 2,000 characters) would never return and hold the
# sync: past this it matches nothing and the rule is flagged (QualificationRule.timeouts).
REGEX_TIMEOUT = 0.1  # seconds
REGEX_ANSWERS_KEPT = 1000  # per loaded rule


class QualificationRule(models.Model):
    """The vigie's memory: a new item that matches is pre-qualified by the sync (locally, with
    a visible marker, undone in one click), whatever Sentry still remembers.

    A rule with a `fingerprint` is the memory an **Attendu** leaves (QuerySet.remember): it
    matches the items of that fingerprint (triage.models.fingerprint) only, never on its
    pattern (which keeps the title it was made from), and holds the vigie's threshold
    (`threshold_count` occurrences in `threshold_window` minutes, any window up to
    MAX_MEMORY_WINDOW). The sync (triage.memory) re-applies the ignore upstream when the
    upstream reopens the item under that threshold, pre-qualifies a new item of the same
    fingerprint, and makes the item come back when Vigie's own count reaches the threshold.
    One per team and fingerprint."""

    class Field(models.TextChoices):
        TITLE = "title", _("title")
        ORIGIN = "origin", _("culprit")
        EXCEPTION_TYPE = "exception_type", _("exception type")
        LEVEL = "level", _("level")
        TAG = "tag", _("tag")

    class Match(models.TextChoices):
        CONTAINS = "contains", _("contains (plain text, any case)")
        REGEX = "regex", _("regular expression")

    # The board's verdicts for errors and jobs (triage.actions), not the small requests' ones.
    class Verdict(models.TextChoices):
        TEMPORARY = "temporary", pgettext_lazy("qualify button", "Temporary")
        BUG = "bug", pgettext_lazy("qualify button", "Bug")
        EXPECTED = "expected", pgettext_lazy("qualify button", "Expected")
        RESOLVED = "resolved", pgettext_lazy("qualify button", "Resolved")

    class Kind(models.TextChoices):
        ANY = "", _("any")
        ISSUE = "issue", _("error issue (web request)")
        JOB = "job", _("discarded job")

    team = models.ForeignKey(
        "rotation.Team",
        on_delete=models.CASCADE,
        related_name="qualification_rules",
        verbose_name=_("team"),
    )
    name = models.CharField(_("name"), max_length=100)
    source = models.ForeignKey(
        Source,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="qualification_rules",
        verbose_name=_("source"),
        help_text=_("Empty: every source of the team."),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.ANY, blank=True)
    field = models.CharField(_("matched on"), max_length=20, choices=Field, default=Field.TITLE)
    tag_key = models.CharField(
        _("tag key"),
        max_length=100,
        blank=True,
        help_text=_(
            "When matched on a tag: its key (transaction, handled, queue…); the pattern is "
            "matched on its value."
        ),
    )
    match = models.CharField(_("match"), max_length=10, choices=Match, default=Match.CONTAINS)
    pattern = models.CharField(_("pattern"), max_length=500)
    qualification = models.CharField(_("qualification"), max_length=20, choices=Verdict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The memory of an Attendu (see the class docstring); empty for a rule written by hand.
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True, editable=False)
    threshold_count = models.PositiveIntegerField(
        _("threshold: occurrences"), null=True, blank=True
    )
    threshold_window = models.PositiveIntegerField(
        _("threshold: window (minutes)"), null=True, blank=True
    )
    # The item the vigie qualified when the memory was made (its title on the rules page).
    item = models.ForeignKey(
        "Item", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    # Syncs in which the pattern ran past REGEX_TIMEOUT on an item: the rules page warns the
    # managers, until the pattern is changed.
    timeouts = models.PositiveIntegerField(_("timeouts"), default=0, editable=False)
    last_timeout_at = models.DateTimeField(_("last timeout"), null=True, blank=True, editable=False)

    objects = QualificationRuleQuerySet.as_manager()

    # The fields that make what a rule matches: changing one clears its timeout warning.
    CONDITION = ("field", "tag_key", "match", "pattern")

    class Meta:
        verbose_name = _("qualification rule")
        verbose_name_plural = _("qualification rules")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "fingerprint"],
                condition=~Q(fingerprint=""),
                name="one_memory_per_team_and_fingerprint",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_memory(self):
        return bool(self.fingerprint)

    @property
    def window(self):
        return timedelta(minutes=self.threshold_window)

    @property
    def threshold_text(self):
        """ "40 in 30 days" """
        if not self.is_memory:
            return ""
        return _("%(count)s in %(window)s") % {
            "count": self.threshold_count,
            "window": window_label(self.threshold_window),
        }

    def clean(self):
        if self.match == self.Match.REGEX:
            try:
                regex.compile(self.pattern)
            except regex.error as exc:
                raise ValidationError(
                    {
                        "pattern": _("This is not a valid regular expression: %(reason)s.")
                        % {"reason": exc}
                    }
                ) from None
        if self.field == self.Field.TAG:
            self.tag_key = self.tag_key.strip()
            if not self.tag_key:
                raise ValidationError(
                    {"tag_key": _("Name the tag whose value is matched (transaction, handled…).")}
                )
        else:
            self.tag_key = ""
        if self.source_id and self.team_id and self.source.team_id != self.team_id:
            raise ValidationError({"source": _("This source belongs to another team.")})

    @cached_property
    def matches(self):
        """A function of RuleSubjects: does the item fall under this rule? Built once per
        loaded rule (the pattern compiled, the needle casefolded): the sync tries every rule on
        every new item. A regular expression that runs past REGEX_TIMEOUT raises TimeoutError
        (`triage.rules` takes it for no match and flags the rule)."""
        kind, field, key = self.kind, self.field, self.tag_key
        plain = self.match != self.Match.REGEX
        if plain:
            needle = self.pattern.casefold()

            def hit(text):
                return needle in text
        else:
            search = regex.compile(self.pattern).search
            # A search under a timeout costs some microseconds more than one without; levels,
            # culprits and exception types repeat across the new items of a sync, so each
            # answer is kept (as long as the rule is loaded, for a bounded number of texts).
            known = {}

            def hit(text):
                found = known.get(text)
                if found is None:
                    found = search(text, timeout=REGEX_TIMEOUT) is not None
                    if len(known) < REGEX_ANSWERS_KEPT:
                        known[text] = found
                return found

        if field == self.Field.TAG:

            def test(subjects):
                if kind and subjects.kind != kind:
                    return False
                values = subjects.tag(key)
                return any(hit(value.casefold() if plain else value) for value in values)
        elif plain:

            def test(subjects):
                return (not kind or subjects.kind == kind) and hit(subjects.folded[field])
        else:

            def test(subjects):
                return (not kind or subjects.kind == kind) and hit(subjects.raw[field])

        return test

    def retire(self, user):
        self.retired_at = timezone.now()
        self.retired_by = user
        self.save(update_fields=["retired_at", "retired_by"])


class RuleHit(models.Model):
    """A new item a rule pre-qualified: the rules page counts them, the handover lists them."""

    rule = models.ForeignKey(QualificationRule, on_delete=models.CASCADE, related_name="hits")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="rule_hits")
    at = models.DateTimeField(_("at"), default=timezone.now)
    # A vigie took it back: the item is unqualified again.
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("rule hit")
        verbose_name_plural = _("rule hits")
        indexes = [models.Index(fields=["rule", "at"])]

    def __str__(self):
        return f"{self.rule_id} -> {self.item_id} @ {self.at:%Y-%m-%d %H:%M}"


class DemoIssue(models.Model):
    """An issue **Bug** opened in the demo's local tracker (triage.demo_tracker) instead of
    GitHub: the title and body exactly as GitHub would have received them, for a newcomer to
    read what a bug report holds."""

    repo = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demo issue")
        verbose_name_plural = _("demo issues")
        ordering = ["-pk"]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self):
        """What the item stores where GitHub's html_url goes: a path, not an absolute URL, so
        the link follows whatever address this Vigie is served on (`make run ADDR=…`)."""
        return reverse("triage:demo-issue", args=[self.pk])

    @property
    def number(self):
        return self.pk

    def opening(self):
        """The Bug click that opened it (its user and time); None for the bug the demo loads."""
        return (
            Action.objects.filter(
                action="bug", upstream_response__github_issue_url=self.get_absolute_url()
            )
            .select_related("user")
            .order_by("created_at")
            .first()
        )
