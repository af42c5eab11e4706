import bisect
import uuid
from datetime import timedelta
from functools import cached_property

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from vigie.markdown import safe_markdown
from vigie.notify import (
    SEVERITIES,
    Destination,
    Message,
    destination_key,
    enqueue,
    severities_at_most,
)
from vigie.phrases import Phrase, said, spoken

logger = structlog.get_logger(__name__)


class ChannelQuerySet(models.QuerySet):
    def hearing(self, severity):
        """Enabled channels whose `min_severity` lets a message of `severity` through."""
        return self.filter(enabled=True, min_severity__in=severities_at_most(severity))


class Channel(models.Model):
    """Where a team hears about handovers and alerts: a chat, a webhook, PagerDuty, ntfy, email.

    `url`, `secret` and `routing_key` are secrets (whoever has them posts as Vigie): never shown
    back. They may hold `${VAR}` references, resolved from the environment at send time."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"
        EMAIL = "email", _("email")
        WEBHOOK = "webhook", _("JSON webhook")
        PAGERDUTY = "pagerduty", "PagerDuty"
        NTFY = "ntfy", "ntfy"

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("critical")
        WARNING = "warning", _("warning")
        INFO = "info", _("info")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    routing_key = models.CharField(_("routing key"), max_length=200, blank=True)
    address = models.EmailField(_("email address"), blank=True)
    min_severity = models.CharField(
        _("minimum severity"), max_length=10, choices=Severity, default=Severity.INFO
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["team", "name"]

    def __str__(self):
        return self.name

    def destination(self):
        config = {
            self.Kind.SLACK: {"url": self.url},
            self.Kind.MATTERMOST: {"url": self.url},
            self.Kind.NTFY: {"url": self.url},
            self.Kind.WEBHOOK: {"url": self.url, "secret": self.secret},
            self.Kind.PAGERDUTY: {"routing_key": self.routing_key, "url": self.url},
            self.Kind.EMAIL: {"to": self.address},
        }[self.kind]
        return Destination(self.kind, config, label=f"{self.name} (#{self.pk})")


RECENT_LATENCIES = 30  # the points of a check's sparkline on /monitors


class CheckQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(enabled=True, next_run_at__lte=now).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )


class Check(models.Model):
    """One thing Vigie watches; its state moves with consecutive results."""

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP"
        TLS = "tls", "TLS"
        STATUSPAGE = "statuspage", _("status page")
        SQL = "sql", "SQL"
        HEARTBEAT = "heartbeat", _("heartbeat")

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("critical")
        WARNING = "warning", _("warning")
        INFO = "info", _("info")

    class Category(models.TextChoices):
        TECHNICAL = "technical", _("technical")
        BUSINESS = "business", _("business")

    class State(models.TextChoices):
        UP = "up", _("up")
        DOWN = "down", _("down")
        UNKNOWN = "unknown", _("unknown")

    team = models.ForeignKey(
        "rotation.Team", on_delete=models.CASCADE, related_name="checks", verbose_name=_("team")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=20, choices=Kind)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    interval = models.PositiveIntegerField(
        _("interval (seconds)"), default=60, validators=[MinValueValidator(10)]
    )
    timeout = models.PositiveIntegerField(
        _("timeout (seconds)"), default=10, validators=[MinValueValidator(1)]
    )
    alert_after = models.PositiveSmallIntegerField(
        _("alert after (failures)"), default=2, validators=[MinValueValidator(1)]
    )
    recover_after = models.PositiveSmallIntegerField(
        _("recover after (successes)"), default=1, validators=[MinValueValidator(1)]
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity, default=Severity.CRITICAL
    )
    category = models.CharField(
        _("category"), max_length=10, choices=Category, default=Category.TECHNICAL
    )
    runbook = models.CharField(_("runbook"), max_length=500, blank=True)
    public = models.BooleanField(_("public"), default=False)
    allow_private = models.BooleanField(_("allow private addresses"), default=False)
    managed_by = models.CharField(_("managed by file"), max_length=500, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    state = models.CharField(_("state"), max_length=10, choices=State, default=State.UNKNOWN)
    state_changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    last_ok = models.BooleanField(null=True, blank=True)
    last_latency = models.FloatField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_message = models.TextField(_("last message"), blank=True)
    last_details = models.JSONField(default=dict, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("next run at"), default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)

    # What /monitors shows, kept on the row so the page reads no result: the last latencies
    # (record) and the figures summarize_checks() computes from the hourly aggregates.
    recent_latencies = models.JSONField(default=list, blank=True)
    uptime_24h = models.FloatField(null=True, blank=True)
    uptime_7d = models.FloatField(null=True, blank=True)
    uptime_30d = models.FloatField(null=True, blank=True)
    latency_p50 = models.FloatField(null=True, blank=True)
    latency_p95 = models.FloatField(null=True, blank=True)
    summarized_at = models.DateTimeField(null=True, blank=True)

    ping_token = models.UUIDField(_("ping token"), default=uuid.uuid4, unique=True, editable=False)
    last_ping_at = models.DateTimeField(_("last ping at"), null=True, blank=True)
    last_ping_kind = models.CharField(max_length=10, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)

    objects = CheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="check_name_unique_per_team")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from monitors import checks

        if self.kind:
            try:
                self.config = checks.validate(
                    self.kind, self.config or {}, allow_private=self.allow_private
                )
            except ValidationError as exc:
                raise ValidationError(
                    {"config": [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]}
                ) from None

    @property
    def incident_key(self):
        return f"check:{self.pk}"

    def claim(self, now):
        """Take this check's slot; False when another worker already has it.

        One conditional UPDATE: the slot (next_run_at as read) must still be due and unclaimed."""
        slot = self.next_run_at
        token = uuid.uuid4().hex
        following = slot + timedelta(seconds=self.interval)
        if following <= now:  # far behind (worker down): no burst of catch-up runs
            following = now + timedelta(seconds=self.interval)
        until = now + timedelta(seconds=self.timeout + settings.MONITORS_CLAIM_MARGIN)
        won = (
            Check.objects.filter(pk=self.pk, next_run_at=slot, next_run_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_until=until, next_run_at=following, claim_token=token)
        )
        if won != 1:
            return False
        self.claimed_slot = slot
        self.claimed_until, self.next_run_at, self.claim_token = until, following, token
        return True

    def release(self):
        """Give back a slot claimed but not run (the worker is stopping): due again at once."""
        Check.objects.filter(pk=self.pk, claim_token=self.claim_token).update(
            claimed_until=None, claim_token="", next_run_at=self.claimed_slot
        )
        self.claimed_until, self.claim_token, self.next_run_at = None, "", self.claimed_slot

    def evaluate_heartbeat(self, now):
        from monitors.checks import heartbeat

        return heartbeat.evaluate(
            self.config,
            last_ping_at=self.last_ping_at,
            last_ping_kind=self.last_ping_kind or None,
            since=self.started_at or self.created_at,
            now=now,
        )

    def record(self, outcome, at, *, at_once=False):
        """Store one result, move the state, open or resolve the incident. Returns the result.

        `at_once`: a failure that takes the check down now, whatever `alert_after`."""
        details = outcome.details or {}
        if said(outcome.message):  # what a page needs to say it in its reader's language
            details = {**details, "said": said(outcome.message)}
        if outcome.severity:  # what a down check without an incident is worth on /status
            details = {**details, "severity": outcome.severity}
        with transaction.atomic():
            result = CheckResult.objects.create(
                monitor=self,
                at=at,
                ok=outcome.ok,
                latency=outcome.latency,
                status_code=outcome.status_code,
                message=outcome.message[:2000],
                details=details,
            )
            if outcome.ok:
                self.consecutive_successes += 1
                self.consecutive_failures = 0
            else:
                self.consecutive_failures += 1
                self.consecutive_successes = 0
            previous = self.state
            if not outcome.ok and (at_once or self.consecutive_failures >= self.alert_after):
                self.state = self.State.DOWN
            elif outcome.ok and (
                self.state == self.State.UNKNOWN or self.consecutive_successes >= self.recover_after
            ):
                self.state = self.State.UP
            if self.state != previous:
                self.state_changed_at = at
            self.last_ok, self.last_latency = outcome.ok, outcome.latency
            self.last_status_code, self.last_message = outcome.status_code, outcome.message[:2000]
            self.last_details, self.last_checked_at = details, at
            if outcome.latency is not None:
                latencies = [*self.recent_latencies, round(outcome.latency, 4)]
                self.recent_latencies = latencies[-RECENT_LATENCIES:]
            CheckHourly.count(self.pk, at, outcome)
            Check.objects.filter(pk=self.pk, claim_token=self.claim_token).update(
                claimed_until=None, claim_token=""
            )
            self.claimed_until, self.claim_token = None, ""
            self.save(
                update_fields=[
                    "state",
                    "state_changed_at",
                    "consecutive_failures",
                    "consecutive_successes",
                    "last_ok",
                    "last_latency",
                    "last_status_code",
                    "last_message",
                    "last_details",
                    "last_checked_at",
                    "recent_latencies",
                ]
            )
            if self.state == self.State.DOWN and not outcome.ok:
                self._alert(outcome, at)
            elif self.state == self.State.UP and previous == self.State.DOWN:
                incident = Incident.objects.open_for(self.incident_key)
                if incident is not None:
                    incident.resolve(None, Incident.How.AUTO, at)
        return result

    def _alert(self, outcome, at):
        """Open the incident of a failing result while down, unless one is unresolved or a
        maintenance window covers `at`. Every failing result, not only the one that took the
        check down: an outage that began inside a window alerts once the window ends, and a
        check still failing after its incident was resolved by hand opens a new one."""
        if Incident.objects.open_for(self.incident_key) is not None:
            return
        if not MaintenanceWindow.objects.covering(self, at):
            Incident.objects.open_for_check(self, outcome, at)

    def severity_of(self, outcome_severity=None):
        """What an incident of this check is worth: the result's own severity (a TLS
        certificate in its warning window) else the check's; a third party's status page never
        counts as critical (its outage is not ours to page for)."""
        severity = outcome_severity or self.severity
        if self.kind == self.Kind.STATUSPAGE and severity == self.Severity.CRITICAL:
            return self.Severity.WARNING
        return severity

    @property
    def down_severity(self):
        """`severity_of` its latest result, as record() kept it."""
        return self.severity_of((self.last_details or {}).get("severity"))

    def ping(self, kind, at):
        """A heartbeat ping: "success", "fail" or "start".

        A failure is recorded and takes the check down at once, as healthchecks.io does:
        the job says it failed, there is no blip for `alert_after` to absorb (seed 004's
        "2 failures" are an uptime probe's). Waiting for the scheduler's evaluations opened
        the incident a minute and a half late."""
        with transaction.atomic():
            Check.objects.filter(pk=self.pk).update(last_ping_at=at, last_ping_kind=kind)
            if kind != "fail" or not self.enabled:
                return
            check = Check.objects.select_for_update().select_related("team").get(pk=self.pk)
            # A ping holds no slot: a scheduler's claim on the row, if any, is left as it is.
            check.claim_token = ""
            check.record(check.evaluate_heartbeat(at), at, at_once=True)

    def uptime(self, since, now):
        """Share of successful results since `since` (raw results, then hourly folds)."""
        return uptime_of([self.pk], since, now).get(self.pk)


def _hour(at):
    return at.replace(minute=0, second=0, microsecond=0)


def uptime_of(check_pks, since, now):
    """{check pk: uptime ratio | None} over the hours from the one holding `since` to `now`,
    from the hourly aggregates (every result is counted there as it is recorded). One query."""
    totals = dict.fromkeys(check_pks)
    rows = (
        CheckHourly.objects.filter(monitor_id__in=check_pks, hour__gte=_hour(since), hour__lte=now)
        .values("monitor_id")
        .annotate(t=Sum("total"), f=Sum("failures"))
    )
    for row in rows:
        totals[row["monitor_id"]] = 1 - row["f"] / row["t"] if row["t"] else None
    return totals


class CheckResult(models.Model):
    monitor = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("ok"))
    latency = models.FloatField(_("latency (s)"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["-at"]
        indexes = [models.Index(fields=["monitor", "at"])]

    def __str__(self):
        return f"{self.monitor_id} {self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'fail'}"


# Upper bounds (seconds) of the latency histogram buckets; the last bucket is open.
LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]


def percentile(histogram, fraction):
    """The upper bound of the bucket holding the `fraction` quantile (None if empty)."""
    total = sum(histogram)
    if not total:
        return None
    running = 0
    for index, count in enumerate(histogram):
        running += count
        if running >= fraction * total:
            return LATENCY_BUCKETS[min(index, len(LATENCY_BUCKETS) - 1)]
    return LATENCY_BUCKETS[-1]


def bucket_of(latency):
    return bisect.bisect_left(LATENCY_BUCKETS, latency)


def latency_percentiles(check_pk, since, now):
    """(p50, p95) over the hours from the one holding `since` to `now`, as bucket upper bounds
    (seconds), or (None, None). One query."""
    histogram = [0] * (len(LATENCY_BUCKETS) + 1)
    hourly = CheckHourly.objects.filter(monitor_id=check_pk, hour__gte=_hour(since), hour__lte=now)
    for folded in hourly.values_list("histogram", flat=True):
        histogram = [a + b for a, b in zip(histogram, folded, strict=False)]
    return percentile(histogram, 0.5), percentile(histogram, 0.95)


class CheckHourly(models.Model):
    monitor = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="hourly")
    hour = models.DateTimeField(_("hour"))
    total = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    latency_sum = models.FloatField(default=0)
    latency_count = models.PositiveIntegerField(default=0)
    histogram = models.JSONField(default=list)

    class Meta:
        verbose_name = _("hourly aggregate")
        verbose_name_plural = _("hourly aggregates")
        constraints = [models.UniqueConstraint(fields=["monitor", "hour"], name="hourly_unique")]

    def __str__(self):
        return f"{self.monitor_id} {self.hour:%Y-%m-%d %H:00}"

    @classmethod
    def count(cls, check_pk, at, outcome):
        """Count one result in its hour. A check's results are recorded by the worker holding
        its slot, one at a time: the read and the write below do not race."""
        hour = _hour(at)
        row = cls.objects.filter(monitor_id=check_pk, hour=hour).first()
        if row is None:
            row = cls(monitor_id=check_pk, hour=hour, histogram=[0] * (len(LATENCY_BUCKETS) + 1))
        row.total += 1
        row.failures += 0 if outcome.ok else 1
        if outcome.latency is not None:
            row.latency_sum += outcome.latency
            row.latency_count += 1
            row.histogram[bucket_of(outcome.latency)] += 1
        row.save()


def prune_results(now):
    """Delete raw results older than their retention (their hours are already counted) and
    hourly rows older than theirs. Returns the number of raw results deleted."""
    cutoff = _hour(now - timedelta(days=settings.MONITORS_RESULT_RETENTION_DAYS))
    with transaction.atomic():
        pruned = CheckResult.objects.filter(at__lt=cutoff).delete()[0]
        keep = now - timedelta(days=settings.MONITORS_HOURLY_RETENTION_DAYS)
        CheckHourly.objects.filter(hour__lt=keep).delete()
    return pruned


SUMMARY_WINDOWS = {
    "uptime_24h": timedelta(hours=24),
    "uptime_7d": timedelta(days=7),
    "uptime_30d": timedelta(days=30),
}


def summarize_checks(now):
    """Store on every check its uptime over 24 h / 7 d / 30 d and its latency p50/p95 over
    24 h, from the hourly aggregates: /monitors then reads them with the checks. Summing 30 days
    of hours for 1,000 checks takes about a second, too slow for each page view; a schedule runs
    this every few minutes. Returns the number of checks."""
    sums = {
        f"{prefix}_{name}": Sum(field, filter=Q(hour__gte=_hour(now - span)))
        for name, span in SUMMARY_WINDOWS.items()
        for prefix, field in (("t", "total"), ("f", "failures"))
    }
    recent = CheckHourly.objects.filter(hour__gte=_hour(now - SUMMARY_WINDOWS["uptime_30d"]))
    figures = {row["monitor_id"]: row for row in recent.values("monitor_id").annotate(**sums)}
    histograms = {}
    day = recent.filter(hour__gte=_hour(now - SUMMARY_WINDOWS["uptime_24h"]))
    for pk, folded in day.values_list("monitor_id", "histogram"):
        total = histograms.setdefault(pk, [0] * (len(LATENCY_BUCKETS) + 1))
        for index, count in enumerate(folded[: len(total)]):
            total[index] += count
    checks = list(Check.objects.only("pk"))
    for check in checks:
        row = figures.get(check.pk, {})
        for name in SUMMARY_WINDOWS:
            total, failures = row.get(f"t_{name}"), row.get(f"f_{name}")
            setattr(check, name, 1 - failures / total if total else None)
        histogram = histograms.get(check.pk, [])
        check.latency_p50 = percentile(histogram, 0.5)
        check.latency_p95 = percentile(histogram, 0.95)
        check.summarized_at = now
    fields = [*SUMMARY_WINDOWS, "latency_p50", "latency_p95", "summarized_at"]
    Check.objects.bulk_update(checks, fields, batch_size=500)
    return len(checks)


class MaintenanceWindowQuerySet(models.QuerySet):
    def _open_at(self, at):
        return self.filter(Q(start__isnull=True) | Q(start__lte=at, end__gt=at))

    def covering(self, check, at):
        """The windows of `check` covering `at` (a list): one-off in UTC, weekly in the team's
        local time."""
        local = check.team.local(at)
        return [w for w in self._open_at(at).filter(checks=check) if w.covers_local(local)]

    def covered(self, checks, at):
        """The pks of those of `checks` (with their teams) a window covers at `at`: one query
        for a page of checks."""
        by_pk = {check.pk: check for check in checks}
        found = set()
        for window in self._open_at(at).filter(checks__in=by_pk).annotate(check_pk=F("checks")):
            if window.covers_local(by_pk[window.check_pk].team.local(at)):
                found.add(window.check_pk)
        return found


class MaintenanceWindow(models.Model):
    team = models.ForeignKey(
        "rotation.Team", on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    name = models.CharField(_("name"), max_length=100)
    checks = models.ManyToManyField(Check, related_name="maintenance_windows", blank=True)
    start = models.DateTimeField(_("start"), null=True, blank=True)
    end = models.DateTimeField(_("end"), null=True, blank=True)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), null=True, blank=True, choices=[(i, str(i)) for i in range(7)]
    )
    weekly_start = models.TimeField(_("weekly start"), null=True, blank=True)
    weekly_end = models.TimeField(_("weekly end"), null=True, blank=True)
    managed_by = models.CharField(_("managed by file"), max_length=500, blank=True)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="maintenance_unique_per_team")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        one_off = self.start is not None and self.end is not None
        weekly = None not in (self.weekday, self.weekly_start, self.weekly_end)
        if one_off == weekly:
            raise ValidationError(_("Give either a start and an end, or a weekly day and times."))
        if one_off and self.end <= self.start:
            raise ValidationError({"end": _("The end must come after the start.")})
        if weekly and self.weekly_end <= self.weekly_start:
            raise ValidationError({"weekly_end": _("The end must come after the start.")})

    def covers_local(self, local):
        """Whether this window, already known open at that moment if one-off, covers the
        team's local time `local` (a weekly one)."""
        return self.start is not None or (
            self.weekday == local.weekday()
            and self.weekly_start <= local.time().replace(tzinfo=None) < self.weekly_end
        )


def is_external_link(value):
    return value.startswith(("https://", "http://"))


class RunbookQuerySet(models.QuerySet):
    def by_slug(self, team_id):
        """{slug: runbook} of one team, for pages that resolve many references: one query."""
        rows = self.filter(team_id=team_id).select_related("team")
        return {runbook.slug: runbook for runbook in rows}


class Runbook(models.Model):
    """What to do when an alert fires: a Markdown page that checks, rules and incidents name
    by its slug (their `runbook` field), sanitised like a handover note."""

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="runbooks")
    slug = models.SlugField(_("slug"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RunbookQuerySet.as_manager()

    class Meta:
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")
        ordering = ["team", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="runbook_slug_unique_per_team")
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("monitors:runbook", args=[self.team.slug, self.slug])

    @property
    def body_html(self):
        return safe_markdown(self.body)


class IncidentQuerySet(models.QuerySet):
    def unresolved(self):
        return self.exclude(state=Incident.State.RESOLVED)

    def open_for(self, key):
        return self.unresolved().filter(key=key).first()

    def open_for_check(self, check, outcome, at):
        """Open the incident of a check going down, or return the open one with its key."""
        severity = check.severity_of(outcome.severity)
        title = Phrase(
            gettext_noop("%(name)s: %(message)s"), name=check.name, message=outcome.message
        )
        return self.open_or_join(
            team=check.team,
            key=check.incident_key,
            title=title,
            title_said=title.said(),
            severity=severity,
            category=check.category,
            text=outcome.message,
            at=at,
            monitor=check,
        )

    def open_or_join(
        self, *, team, key, title, severity, category, text, at, escalation=None, **fields
    ):
        """The open incident with `key`, or a new one that freezes the team's chain and starts
        paging: what a check going down and an alert rule firing both go through. `fields`:
        `monitor` or `rule`, `title_said`; `escalation`: the team's chain at `at`, when the
        caller has it. `text` (the opening event's) may be a Phrase, kept in the reader's
        language on the timeline."""
        existing = self.open_for(key)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                incident = self.create(
                    team=team,
                    key=key,
                    title=title[:300],
                    severity=severity,
                    category=category,
                    opened_at=at,
                    escalation=team.escalation_chain(at) if escalation is None else escalation,
                    **fields,
                )
        except IntegrityError:  # another worker opened it first (one unresolved per key)
            return self.open_for(key)
        incident.events.create(
            at=at,
            kind=IncidentEvent.Kind.OPENED,
            text=text,
            data={"said": said(text)} if said(text) else {},
        )
        incident.start_paging(at)
        return incident

    def escalate_due(self, now):
        """Escalate or re-notify every unacknowledged incident that is due; returns how many
        moved."""
        renotify = timedelta(minutes=settings.MONITORS_RENOTIFY_MINUTES)
        due = self.filter(state=Incident.State.OPEN).filter(
            Q(next_escalation_at__lte=now) | Q(last_notified_at__lte=now - renotify)
        )
        moved = 0
        for incident in due.select_related("team", "monitor"):
            try:
                moved += incident.escalate_due(now)
            except Exception:  # one incident failing never stops the others' escalation
                logger.exception("incident_escalation_failed", incident=incident.pk)
        return moved


class Incident(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("open")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        RESOLVED = "resolved", _("resolved")

    class How(models.TextChoices):
        AUTO = "auto", _("automatically")
        HAND = "hand", _("by hand")
        LINK = "link", _("by link")
        API = "api", _("through the API")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="incidents")
    key = models.CharField(_("key"), max_length=200)
    monitor = models.ForeignKey(
        Check, on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    rule = models.ForeignKey(
        "AlertRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    title = models.CharField(_("title"), max_length=300)
    # The title as vigie.phrases stores it, for pages in another language than English.
    title_said = models.JSONField(default=dict, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Check.Severity)
    category = models.CharField(_("category"), max_length=10, choices=Check.Category)
    state = models.CharField(_("state"), max_length=15, choices=State, default=State.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_how = models.CharField(max_length=10, choices=How, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_how = models.CharField(max_length=10, choices=How, blank=True)
    # The team's chain frozen when the incident opened (Team.escalation_chain).
    escalation = models.JSONField(_("escalation chain"), default=list, blank=True)
    current_level = models.PositiveSmallIntegerField(_("current level"), default=0)
    notify_round = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    # Where the chain's delays count from: the opening, or the moment it became critical
    # (raise_severity) when it opened as a warning. Empty: the opening.
    paging_started_at = models.DateTimeField(null=True, blank=True)
    # The public status page shows only these two and the StatusUpdate texts: the title above
    # holds internal messages (URLs, rows) and never leaves Vigie.
    public = models.BooleanField(
        _("public"), default=False, help_text=_("Shown on the team's public status page.")
    )
    public_title = models.CharField(
        _("public title"),
        max_length=200,
        blank=True,
        help_text=_("What the public status page calls it (no internal detail)."),
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=~Q(state="resolved"),
                name="one_unresolved_incident_per_key",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def group(self):
        return f"incident:{self.pk}"

    @property
    def pages_people(self):
        return self.severity == Check.Severity.CRITICAL and not (
            self.monitor_id and self.monitor.kind == Check.Kind.STATUSPAGE
        )

    def level(self, order):
        return next((lv for lv in self.escalation if lv["order"] == order), None)

    def _next_level_after(self, order):
        return next((lv for lv in self.escalation if lv["order"] > order), None)

    def ack_url(self, user_id):
        token = signing.dumps({"i": self.pk, "u": user_id}, salt=ACK_SALT, compress=True)
        return settings.VIGIE_BASE_URL.rstrip("/") + reverse(
            "monitors:ack-link", args=[self.pk, token]
        )

    def url(self):
        return settings.VIGIE_BASE_URL.rstrip("/") + reverse("monitors:incident", args=[self.pk])

    @cached_property
    def runbook_url(self):
        """The absolute link to its runbook for notifications ("" when none is written)."""
        ref = self.runbook_ref.strip()
        if not ref or is_external_link(ref):
            return ref
        if not Runbook.objects.filter(team_id=self.team_id, slug=ref).exists():
            return ""
        path = reverse("monitors:runbook", args=[self.team.slug, ref])
        return settings.VIGIE_BASE_URL.rstrip("/") + path

    def _opened_event(self):
        return self.events.filter(kind=IncidentEvent.Kind.OPENED).first()

    def _message(self, event="trigger", text="", lead="", subject=""):
        """A trigger says what failed, for which team and since when, with the runbook; then
        `text` (an acknowledge link). `lead` goes first (why an escalation pages). Words in the
        active language; `details` in English for JSON receivers."""
        opened = self._opened_event()
        cause = ""
        if opened is not None and opened.text:
            cause = spoken(opened.data.get("said"), opened.text)
        lines = [lead] if lead else []
        if event == "trigger":
            opened_line = gettext("Team %(team)s, opened %(at)s") % {
                "team": self.team.name,
                "at": date_format(self.team.local(self.opened_at), "DATETIME_FORMAT"),
            }
            lines += [cause or self.spoken_title, opened_line]
            if self.runbook_url:
                lines.append(gettext("Runbook: %(url)s") % {"url": self.runbook_url})
        if text:
            lines.append(text)
        return Message(
            subject=subject or f"[{self.get_severity_display()}] {self.spoken_title}",
            text="\n".join(lines),
            url=self.url(),
            severity=self.severity,
            event=event,
            dedup_key=self.key,
            details=self._details(opened),
        )

    def _details(self, opened):
        details = {
            "incident": self.pk,
            "state": self.state,
            "team": self.team.name,
            "team_slug": self.team.slug,
            "check": self.monitor.name if self.monitor_id else "",
            "rule": self.rule.name if self.rule_id else "",
            "title": self.title,
            "message": opened.text if opened is not None and opened.text else self.title,
            "opened_at": self.opened_at.isoformat(),
        }
        if self.acknowledged_at is not None:
            details["acknowledged_at"] = self.acknowledged_at.isoformat()
            details["acknowledged_by"] = self._name_of(self.acknowledged_by)
        if self.resolved_at is not None:
            details["resolved_at"] = self.resolved_at.isoformat()
            details["duration_seconds"] = int((self.resolved_at - self.opened_at).total_seconds())
        return details

    @staticmethod
    def _name_of(user):
        from rotation.models import display_name

        return display_name(user) if user is not None else ""

    def _lasted(self, at):
        if at - self.opened_at < timedelta(minutes=1):
            return gettext("less than a minute")
        return timesince(self.opened_at, at, depth=2)

    def _send(self, destination, message, key, at, data):
        notification = enqueue(destination, message, key=key, group=self.group)
        data["notification"] = notification.pk
        self.events.create(
            at=at,
            kind=data.pop("kind", IncidentEvent.Kind.NOTIFIED),
            text=destination.label,
            data=data,
        )

    def _already_paged(self, user_id, before):
        """The earlier level (order up to `before`) that paged `user_id` for this incident."""
        for earlier in self.escalation:
            if earlier["order"] > before or earlier.get("user_id") != user_id:
                continue
            if self.events.filter(data__level=earlier["order"], data__notification__isnull=False):
                return earlier
        return None

    def _notify_level(self, level, at, kind):
        """Page the people of `level` (critical only), email carrying an ack link. An
        escalation to someone an earlier level paged already pages nobody (they have had the
        page; paging them twice tells them nothing) and says so on the timeline."""
        from rotation.models import Profile

        previous = self.current_level
        self.current_level = level["order"]
        self.last_notified_at = at
        if not (self.pages_people and level.get("user_id")):
            return
        user = get_user_model().objects.filter(pk=level["user_id"]).first()
        if user is None:
            return
        lead = ""
        if kind == IncidentEvent.Kind.ESCALATED:
            earlier = self._already_paged(user.pk, previous)
            if earlier is not None:
                text = Phrase(
                    gettext_noop(
                        "%(level)s: %(name)s already got the page (%(earlier)s), not paged twice"
                    ),
                    level=level.get("label") or f"L{level['order']}",
                    name=self._name_of(user),
                    earlier=earlier.get("label") or f"L{earlier['order']}",
                )
                self.events.create(
                    at=at,
                    kind=IncidentEvent.Kind.ESCALATED,
                    text=text,
                    data={"said": text.said(), "level": level["order"], "skipped": True},
                )
                return
            minutes = int((at - (self.paging_started_at or self.opened_at)).total_seconds() // 60)
            lead = gettext("Escalated: not acknowledged for %(minutes)s min") % {"minutes": minutes}
        text = gettext("Acknowledge: %(url)s") % {"url": self.ack_url(user.pk)}
        for dest in Profile.of(user).destinations():
            key = destination_key(f"incident:{self.pk}:L{level['order']}:{self.notify_round}", dest)
            self._send(
                dest,
                self._message(text=text, lead=lead),
                key,
                at,
                {"kind": kind, "level": level["order"], "round": self.notify_round},
            )

    def _notify_team(self, at, key="team", data=None):
        """The team channels whose min_severity allows this incident (never PagerDuty for a
        third-party status page). `key`: one announcement per channel under it."""
        from django.utils.module_loading import import_string

        from vigie import notify

        if self.severity == Check.Severity.INFO:
            return
        for path in notify.TEAM_DESTINATIONS:
            for dest in import_string(path)(self.team, self.severity):
                if dest.kind == "pagerduty" and not self.pages_people:
                    continue
                dest_key = destination_key(f"incident:{self.pk}:{key}", dest)
                self._send(dest, self._message(), dest_key, at, {"team": True, **(data or {})})

    def _page_first_level(self, at):
        """L1 at once; nobody on watch at L1: the next level at once. An incident that pages
        nobody (warning and info go to channels and digests) has no level to walk."""
        if not self.pages_people:
            return
        first = self._next_level_after(0)
        if first is not None and not first.get("user_id"):
            first = self._next_level_after(first["order"]) or first
        if first is None:
            return
        self._notify_level(first, at, IncidentEvent.Kind.NOTIFIED)
        self._plan_next(first)

    def start_paging(self, at):
        self._notify_team(at)
        self._page_first_level(at)
        self.save()

    def raise_severity(self, severity, title, at):
        """The cause got worse while the incident is unresolved (a job failure rate past its
        critical threshold): the incident takes `severity` and the cause's `title` (a Phrase,
        or text), says so on its timeline, and is announced as a new incident of that
        severity would be: to the team channels hearing it, and, when it now pages people and
        nobody has acknowledged it, to its frozen chain from the first level, the delays
        counted from now. An acknowledged incident pages nobody (someone is on it already).
        False when `severity` is not higher or another worker raised it first."""
        if SEVERITIES.index(severity) <= SEVERITIES.index(self.severity):
            return False
        before = self.severity
        won = (
            Incident.objects.filter(pk=self.pk, severity=before)
            .exclude(state=self.State.RESOLVED)
            .update(severity=severity, title=title[:300], title_said=said(title) or {})
        )
        if won != 1:
            return False
        self.refresh_from_db()
        # A severity's value is its label's msgid ("warning"): said again in the reader's words.
        text = Phrase(
            gettext_noop("from %(before)s to %(after)s: %(cause)s"),
            before=Phrase(before),
            after=Phrase(severity),
            cause=title,
        )
        self.events.create(
            at=at,
            kind=IncidentEvent.Kind.SEVERITY_RAISED,
            text=text,
            data={"said": text.said(), "from": before, "to": severity},
        )
        self._notify_team(at, key=f"team:{severity}", data={"severity": severity})
        if self.state == self.State.OPEN and self.pages_people:
            self.paging_started_at, self.current_level, self.notify_round = at, 0, 0
            self._page_first_level(at)
            # Only the paging's fields: an acknowledgement landing meanwhile is kept.
            self.save(
                update_fields=[
                    "paging_started_at",
                    "current_level",
                    "notify_round",
                    "last_notified_at",
                    "next_escalation_at",
                ]
            )
        return True

    def _plan_next(self, level):
        following = self._next_level_after(level["order"])
        start = self.paging_started_at or self.opened_at
        self.next_escalation_at = (
            start + timedelta(minutes=following["delay_minutes"]) if following else None
        )
        if self.next_escalation_at is not None and self.next_escalation_at < self.last_notified_at:
            self.next_escalation_at = self.last_notified_at

    def escalate_due(self, now):
        """Next level when its delay has passed, else re-notify the current level when the
        re-notification period has passed. Nothing once acknowledged or resolved."""
        if self.state != self.State.OPEN:
            return False
        if self.next_escalation_at is not None and self.next_escalation_at <= now:
            level = self._next_level_after(self.current_level)
            self.notify_round = 0
            self._notify_level(level, now, IncidentEvent.Kind.ESCALATED)
            self._plan_next(level)
            self.save()
            return True
        renotify = timedelta(minutes=settings.MONITORS_RENOTIFY_MINUTES)
        if self.last_notified_at is not None and now - self.last_notified_at >= renotify:
            level = self.level(self.current_level)
            if level is None:
                self.last_notified_at = now
                self.save(update_fields=["last_notified_at"])
                return False
            self.notify_round += 1
            self._notify_level(level, now, IncidentEvent.Kind.RENOTIFIED)
            self.save()
            return True
        return False

    def _announce(self, event, at):
        """Acknowledge or resolve to whoever heard the trigger (its rows not failed for good),
        once per destination, in the instance's language (the click may come from a reader
        of another): everyone hears the resolution; the acknowledgement goes to the team
        channels and PagerDuty (whose alert it acknowledges), not to each person paged."""
        from vigie.models import Notification

        team_rows = set(
            self.events.filter(data__team=True).values_list("data__notification", flat=True)
        )
        triggers = (
            Notification.objects.filter(group=self.group, event=Notification.Event.TRIGGER)
            .exclude(state=Notification.State.FAILED)
            .order_by("created_at", "pk")
        )
        with translation.override(settings.LANGUAGE_CODE):
            severity, title = self.get_severity_display(), self.spoken_title
            lasted = self._lasted(at)
            if event == "resolve":
                name = self._name_of(self.resolved_by)
                subject = gettext("[%(severity)s] Resolved: %(title)s")
                if name:
                    text = gettext("Resolved by %(name)s after %(duration)s.")
                else:
                    text = gettext("Resolved automatically after %(duration)s.")
            else:
                name = self._name_of(self.acknowledged_by)
                if name:
                    subject = gettext("[%(severity)s] Acknowledged by %(name)s: %(title)s")
                    text = gettext("Acknowledged by %(name)s after %(duration)s.")
                else:
                    subject = gettext("[%(severity)s] Acknowledged: %(title)s")
                    text = gettext("Acknowledged after %(duration)s.")
            values = {"severity": severity, "title": title, "name": name, "duration": lasted}
            message = self._message(event=event, subject=subject % values, text=text % values)
        seen = set()
        for row in triggers:
            if (row.kind, row.label) in seen:
                continue
            seen.add((row.kind, row.label))
            team = row.pk in team_rows
            if event == "acknowledge" and not (team or row.kind == "pagerduty"):
                continue
            dest = Destination(row.kind, row.config, row.label)
            key = destination_key(f"incident:{self.pk}:{event}", dest)
            self._send(dest, message, key, at, {"event": event, "team": team})

    def acknowledge(self, by, how, at=None):
        """Stop the escalation; False when already acknowledged or resolved."""
        at = at or timezone.now()
        won = Incident.objects.filter(pk=self.pk, state=self.State.OPEN).update(
            state=self.State.ACKNOWLEDGED,
            acknowledged_at=at,
            acknowledged_by=by,
            acknowledged_how=how,
            next_escalation_at=None,
        )
        if won != 1:
            return False
        self.refresh_from_db()
        self.events.create(at=at, kind=IncidentEvent.Kind.ACKNOWLEDGED, actor=by, data={"how": how})
        self._announce("acknowledge", at)
        return True

    def resolve(self, by, how, at=None):
        at = at or timezone.now()
        won = (
            Incident.objects.filter(pk=self.pk)
            .exclude(state=self.State.RESOLVED)
            .update(
                state=self.State.RESOLVED,
                resolved_at=at,
                resolved_by=by,
                resolved_how=how,
                next_escalation_at=None,
            )
        )
        if won != 1:
            return False
        self.refresh_from_db()
        self.events.create(at=at, kind=IncidentEvent.Kind.RESOLVED, actor=by, data={"how": how})
        self._announce("resolve", at)
        return True

    def add_note(self, by, text, at=None):
        return self.events.create(
            at=at or timezone.now(), kind=IncidentEvent.Kind.NOTE, actor=by, text=text
        )

    @property
    def next_level(self):
        """The escalation level to be paged next (with `next_escalation_at`), or None."""
        if self.state != self.State.OPEN or self.next_escalation_at is None:
            return None
        return self._next_level_after(self.current_level)

    @property
    def runbook_ref(self):
        """The runbook reference of what opened it (a slug or a URL), or ""."""
        if self.monitor_id:
            return self.monitor.runbook
        return self.rule.runbook if self.rule_id else ""

    @property
    def last_message(self):
        """Why it is open, in the reader's language: the check's latest failure message, else the
        title (what it opened with; an alert rule writes its cause there)."""
        check = self.monitor
        if check is not None and check.last_ok is False and check.last_message:
            return spoken(check.last_details.get("said"), check.last_message)
        return self.spoken_title

    @property
    def spoken_title(self):
        """The title in the active language: the reader's on a page, the instance's
        (LANGUAGE_CODE) in a worker's notification or digest."""
        return spoken(self.title_said, self.title)

    def publish(self, by, text, at=None):
        """A "status page update" written for users: makes the incident public."""
        at = at or timezone.now()
        update = self.status_updates.create(at=at, author=by, text=text)
        if not self.public:
            self.public = True
            self.save(update_fields=["public"])
        return update

    def notifications(self):
        from vigie.models import Notification

        return Notification.objects.filter(group=self.group).order_by("created_at")


ACK_SALT = "monitors.incident-ack"


def read_ack_token(incident_pk, token):
    """The user id a signed acknowledge link was made for; BadSignature/SignatureExpired."""
    data = signing.loads(token, salt=ACK_SALT, max_age=settings.MONITORS_ACK_LINK_MAX_AGE)
    if data.get("i") != incident_pk:
        raise signing.BadSignature("another incident")
    return data.get("u")


class IncidentEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        NOTIFIED = "notified", _("notified")
        NOTIFY_FAILED = "notify_failed", _("notification failed")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ESCALATED = "escalated", _("escalated")
        RENOTIFIED = "renotified", _("notified again")
        NOTE = "note", _("note")
        RESOLVED = "resolved", _("resolved")
        SEVERITY_RAISED = "severity_raised", _("severity raised")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


def record_notification_outcome(sender, notification, at, **kwargs):
    """Receiver of vigie.notify.outbox.settled: an incident's notification, sent or failed for
    good, on the incident's timeline with its recipient (and the reason of a failure)."""
    from vigie.models import Notification

    prefix, _sep, pk = notification.group.partition(":")
    if prefix != "incident" or not pk.isdigit():
        return
    incident = Incident.objects.filter(pk=int(pk)).first()
    if incident is None:
        return
    if notification.state == Notification.State.FAILED:
        incident.events.create(
            at=at,
            kind=IncidentEvent.Kind.NOTIFY_FAILED,
            text=notification.label,
            data={"notification": notification.pk, "reason": notification.last_error},
        )
        return
    # The paging already wrote "notified" (or "escalated") when it enqueued the row: mark it
    # sent rather than write the recipient twice.
    event = incident.events.filter(data__notification=notification.pk).first()
    if event is None:
        incident.events.create(
            at=at,
            kind=IncidentEvent.Kind.NOTIFIED,
            text=notification.label,
            data={"notification": notification.pk, "event": notification.event, "sent": True},
        )
    else:
        event.data["sent"] = True
        event.save(update_fields=["data"])


class StatusUpdate(models.Model):
    """A message the vigie writes for users on the public status page (seed 004, RB-001's
    "Update status page"): the only text of an incident that page shows."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    at = models.DateTimeField(_("at"), default=timezone.now)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("status page update")
        verbose_name_plural = _("status page updates")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.incident_id} {self.at:%Y-%m-%d %H:%M}"


def team_destinations(team, severity):
    """Registered in vigie.notify.TEAM_DESTINATIONS: the team's channels hearing `severity`."""
    channels = Channel.objects.filter(team=team).hearing(severity)
    return [channel.destination() for channel in channels]


class AlertRule(models.Model):
    """A condition over what Vigie mirrors or watches (a new Sentry issue, a spike of events, a
    stale source, nobody on watch…) that opens or joins one incident per cause, walking the
    same frozen chain as a check. Parameters per type: monitors.rules.PARAMS."""

    class Kind(models.TextChoices):
        NEW_ISSUE = "new_issue", _("new issue")
        EVENT_SPIKE = "event_spike", _("spike of events on one issue")
        DISCARDED_JOBS = "discarded_jobs", _("discarded jobs")
        UNQUALIFIED_BACKLOG = "unqualified_backlog", _("unqualified backlog")
        SOURCE_STALE = "source_stale", _("source not syncing")
        CHECK_DOWN = "check_down", _("check down")
        CHECK_SLOW = "check_slow", _("check slow")
        CERT_EXPIRING = "cert_expiring", _("certificate expiring")
        NOBODY_ON_WATCH = "nobody_on_watch", _("nobody on watch")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=30, choices=Kind)
    source = models.ForeignKey(
        "triage.Source",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every source of the team (where the type allows it)."),
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Check.Severity, default=Check.Severity.WARNING
    )
    category = models.CharField(
        _("category"), max_length=10, choices=Check.Category, default=Check.Category.TECHNICAL
    )
    # Seed 002: one problem never notifies twice inside this interval.
    action_interval = models.PositiveIntegerField(
        _("action interval (seconds)"), default=24 * 3600, validators=[MinValueValidator(60)]
    )
    runbook = models.CharField(_("runbook"), max_length=500, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    managed_by = models.CharField(_("managed by file"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # new_issue: items first mirrored after this instant are new.
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="rule_name_unique_per_team")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from monitors import rules

        if not self.kind:
            return
        try:
            self.params = rules.validate_params(self.kind, self.params or {})
        except ValidationError as exc:
            raise ValidationError({"params": exc.messages}) from None
        if self.kind in rules.NEEDS_SOURCE and self.source_id is None:
            raise ValidationError({"source": _("This type of rule watches one source.")})
        if self.source_id and self.team_id and self.source.team_id not in (None, self.team_id):
            raise ValidationError({"source": _("This source belongs to another team.")})

    def incident_key(self, cause):
        return f"rule:{self.pk}:{cause}"


class Digest(models.Model):
    """One daily or weekly digest of a team, claimed by inserting this row: the unique period
    makes it sent once even with two workers or a restart at 9:00."""

    class Period(models.TextChoices):
        DAILY = "daily", _("daily")
        WEEKLY = "weekly", _("weekly")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="digests")
    period = models.CharField(_("period"), max_length=10, choices=Period)
    # The local day the digest is due (a Monday for a weekly one).
    day = models.DateField(_("day"))
    start = models.DateTimeField(_("covers from"))
    end = models.DateTimeField(_("covers until"))
    sent_at = models.DateTimeField(_("sent at"))
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["team", "period", "day"], name="one_digest_per_period")
        ]

    def __str__(self):
        return f"{self.team} {self.period} {self.day}"
