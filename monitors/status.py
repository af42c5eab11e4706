"""The answers of the 2-minute page (seed 002): is production up, why not, since when, is it
technical or business, who acts. Computed from stored rows only (incidents, checks, sources,
mirrored releases): no upstream call, and "since" comes from stored instants, so a clock skew
between the web and the worker never moves it.

The verdict counts the open incidents and the checks down with none open (an outage begun
inside a maintenance window, an incident resolved by hand while its check still fails): a
critical check down is an outage whether or not someone was paged, as the public page says.

Queries, whatever the number of checks and incidents: the open incidents with their checks
and acknowledgers, the checks down without one, the team's runbooks (when one is named), the
release before "since", who is on watch (two, or none when the caller already has it), the
failing checks not yet alerting, the team's sources, the backlog count.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from monitors.models import Check, Incident, Runbook, is_external_link
from monitors.runbooks import RunbookLink, resolve
from monitors.templatetags.monitors import since
from rotation.schedule import Segment, on_watch
from triage.models import Item, Release, Source
from vigie.phrases import spoken

OPERATIONAL, DEGRADED, OUTAGE = "operational", "degraded", "outage"
VERDICT_LABELS = {
    OPERATIONAL: _("OPERATIONAL"),
    DEGRADED: _("DEGRADED"),
    OUTAGE: _("OUTAGE"),
}
CATEGORY_LABELS = {
    Check.Category.TECHNICAL: _("technical"),
    Check.Category.BUSINESS: _("business"),
}
# Enough for one screen; the page says how many more there are.
PENDING_SHOWN = 20
CAUSES_SHOWN = 6
SEVERITY_RANK = {Check.Severity.CRITICAL: 0, Check.Severity.WARNING: 1, Check.Severity.INFO: 2}
# The severity whose problems make each verdict (and whose oldest start is its "since").
VERDICT_SEVERITY = {OUTAGE: Check.Severity.CRITICAL, DEGRADED: Check.Severity.WARNING}


def judge(problems):
    """(verdict, since) of the problems open, each a (severity, start Moment or None): since
    is the start of the oldest problem of the verdict's severity, None when operational (an
    info incident open is not what the verdict says)."""
    verdict = verdict_of(severity for severity, _start in problems)
    wanted = VERDICT_SEVERITY.get(verdict)
    starts = [start for severity, start in problems if severity == wanted and start]
    return verdict, min(starts, key=lambda moment: moment.at) if starts else None


def verdict_of(severities):
    """A critical incident open is an outage, a warning one degrades; info changes nothing."""
    severities = set(severities)
    if Check.Severity.CRITICAL in severities:
        return OUTAGE
    if Check.Severity.WARNING in severities:
        return DEGRADED
    return OPERATIONAL


@dataclass(frozen=True)
class Moment:
    """An instant as the page shows it: exact in the team's zone, and how long ago."""

    at: datetime
    local: str
    ago: str

    @classmethod
    def of(cls, team, at, now):
        local = team.local(at)
        fmt = "%H:%M" if local.date() == team.local(now).date() else "%d/%m/%Y %H:%M"
        return cls(at, local.strftime(fmt), since(at, now, depth=1))


@dataclass
class Cause:
    """One open incident, as "why" and "who acts" read it."""

    incident: Incident
    # When its problem began: the opening, or earlier when its check went down before it
    # (inside a maintenance window, or before a resolve by hand and a new incident).
    started: Moment
    origin: str
    message: str
    status_code: int | None
    row_count: int | None
    runbook: RunbookLink | None
    opened: Moment
    acknowledged_by: str
    acknowledged: Moment | None
    next_level: dict | None
    next_at: Moment | None

    @property
    def category_label(self):
        return CATEGORY_LABELS.get(self.incident.category, self.incident.category)

    @property
    def code_label(self):
        """ "HTTP 503" when the message does not already say it."""
        if self.status_code and str(self.status_code) not in self.message:
            return f"HTTP {self.status_code}"
        return ""


@dataclass
class DownCheck:
    """A check down with no incident open: a cause nobody is paged for."""

    check: Check
    severity: str
    message: str
    down: Moment | None

    @property
    def severity_label(self):
        return Check.Severity(self.severity).label

    @property
    def category_label(self):
        return CATEGORY_LABELS.get(self.check.category, self.check.category)


@dataclass
class TeamStatus:
    team: object
    now: datetime
    causes: list
    down_checks: list
    verdict: str
    since: Moment | None
    vigie: Segment | None
    release: Release | None
    pending: list
    pending_more: int
    stale_sources: list
    backlog: int

    @property
    def verdict_label(self):
        return VERDICT_LABELS[self.verdict]

    @property
    def worst_first(self):
        return sorted(
            self.causes,
            key=lambda c: (SEVERITY_RANK.get(c.incident.severity, 3), c.incident.opened_at),
        )

    @property
    def shown_causes(self):
        return self.worst_first[:CAUSES_SHOWN]

    @property
    def more_causes(self):
        return max(0, len(self.causes) - CAUSES_SHOWN)

    @property
    def shown_down_checks(self):
        return self.down_checks[:CAUSES_SHOWN]

    @property
    def more_down_checks(self):
        return max(0, len(self.down_checks) - CAUSES_SHOWN)

    @property
    def categories(self):
        """The kinds of problem open (incidents, checks down without one), technical first."""
        open_ = {c.incident.category for c in self.causes}
        open_ |= {d.check.category for d in self.down_checks}
        return [cat for cat in CATEGORY_LABELS if cat in open_]

    @property
    def category_labels(self):
        return [(cat, CATEGORY_LABELS[cat]) for cat in self.categories]


def _cause(team, incident, runbooks, now):
    check = incident.monitor
    acknowledger = incident.acknowledged_by
    level = incident.next_level
    started = incident.opened_at
    if check is not None and check.state == Check.State.DOWN and check.state_changed_at:
        started = min(started, check.state_changed_at)
    return Cause(
        incident=incident,
        started=Moment.of(team, started, now),
        origin=check.name if check else "",
        message=incident.last_message,
        status_code=check.last_status_code if check else None,
        row_count=(check.last_details or {}).get("row_count") if check else None,
        runbook=resolve(incident.runbook_ref, runbooks),
        opened=Moment.of(team, incident.opened_at, now),
        acknowledged_by=(acknowledger.get_full_name() or acknowledger.get_username())
        if acknowledger
        else "",
        acknowledged=Moment.of(team, incident.acknowledged_at, now)
        if incident.acknowledged_at
        else None,
        next_level=level,
        next_at=Moment.of(team, incident.next_escalation_at, now) if level else None,
    )


def team_status(team, now, watch=None):
    """The page's answers for `team` at `now`; `watch`: an OnWatch already computed."""
    incidents = list(
        Incident.objects.unresolved()
        .filter(team=team)
        .select_related("monitor", "rule", "acknowledged_by")
        .order_by("opened_at", "pk")
    )
    refs = {i.runbook_ref for i in incidents if i.runbook_ref}
    runbooks = (
        Runbook.objects.by_slug(team.pk) if any(not is_external_link(ref) for ref in refs) else {}
    )
    causes = [_cause(team, incident, runbooks, now) for incident in incidents]
    unalerted = (
        Check.objects.filter(team=team, enabled=True, state=Check.State.DOWN)
        .exclude(incidents__state__in=[Incident.State.OPEN, Incident.State.ACKNOWLEDGED])
        .order_by("state_changed_at", "name")
    )
    down_checks = [_down_check(team, check, now) for check in unalerted]
    verdict, start = judge(
        [(c.incident.severity, c.started) for c in causes]
        + [(d.severity, d.down) for d in down_checks]
    )
    release = Release.objects.latest_before(team, start.at) if start else None
    watch = watch if watch is not None else on_watch(team, now)
    failing = (
        Check.objects.filter(team=team, enabled=True, consecutive_failures__gt=0, last_ok=False)
        .exclude(state=Check.State.DOWN)
        .order_by("name")
    )
    pending = list(failing[: PENDING_SHOWN + 1])
    sources = Source.objects.filter(team=team, enabled=True).order_by("name")
    stale = [
        s
        for s in sources
        if s.is_stale(now) or s.state in (Source.State.ERROR, Source.State.AUTH_ERROR)
    ]
    backlog = Item.objects.filter(source__team=team).unqualified().count()
    return TeamStatus(
        team=team,
        now=now,
        causes=causes,
        down_checks=down_checks,
        verdict=verdict,
        since=start,
        vigie=watch.now,
        release=release,
        pending=pending[:PENDING_SHOWN],
        pending_more=max(0, len(pending) - PENDING_SHOWN),
        stale_sources=stale,
        backlog=backlog,
    )


def _down_check(team, check, now):
    down = check.state_changed_at or check.last_checked_at
    return DownCheck(
        check=check,
        severity=check.down_severity,
        message=spoken(check.last_details.get("said"), check.last_message),
        down=Moment.of(team, down, now) if down else None,
    )


def _moment(moment):
    return {"at": moment.at.isoformat(), "local": moment.local} if moment else None


def as_json(status):
    """The same answers for a chat bot or a wall screen; instants in UTC ISO 8601, `local`
    as the page shows them."""
    vigie = status.vigie
    profile = vigie.membership.profile if vigie else None
    return {
        "team": status.team.slug,
        "timezone": status.team.timezone,
        "at": status.now.isoformat(),
        "verdict": status.verdict,
        "since": _moment(status.since),
        "release": (
            {
                "version": status.release.version,
                "deployed_at": status.release.deployed_at.isoformat(),
            }
            if status.release
            else None
        ),
        "categories": status.categories,
        "incidents": [
            {
                "id": c.incident.pk,
                "title": c.incident.title,
                "severity": c.incident.severity,
                "category": c.incident.category,
                "state": c.incident.state,
                "check": c.origin or None,
                "message": c.message,
                "status_code": c.status_code,
                "row_count": c.row_count,
                "runbook": (
                    {"label": c.runbook.label, "url": c.runbook.url or None} if c.runbook else None
                ),
                "opened": _moment(c.opened),
                "acknowledged_by": c.acknowledged_by or None,
                "acknowledged": _moment(c.acknowledged),
                "next_escalation": (
                    {
                        "level": c.next_level["order"],
                        "label": c.next_level["label"],
                        "name": c.next_level.get("name") or None,
                        "at": _moment(c.next_at),
                    }
                    if c.next_level
                    else None
                ),
            }
            for c in status.causes
        ],
        "down_checks": [
            {
                "check": d.check.name,
                "severity": d.severity,
                "category": d.check.category,
                "message": d.message,
                "down": _moment(d.down),
            }
            for d in status.down_checks
        ],
        "vigie": (
            {
                "name": vigie.membership.name,
                "phone": profile.phone,
                "chat_handle": profile.chat_handle,
                "until": vigie.end.isoformat(),
            }
            if vigie
            else None
        ),
        "pending_checks": [
            {
                "name": check.name,
                "failures": check.consecutive_failures,
                "alert_after": check.alert_after,
            }
            for check in status.pending
        ],
        "stale_sources": [source.name for source in status.stale_sources],
        "unqualified_backlog": status.backlog,
    }
