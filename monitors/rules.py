"""Alert rules: what each type watches, how it is evaluated, and the one path by which a
firing cause opens, joins or (when it clears) resolves its incident.

A rule is evaluated in two places: after every sync of a source (`sync_finished`, sent by
triage) for the rules reading what was just mirrored, and on the monitors' tick for the rules
that depend on time (a stale source, a backlog getting old, nobody on watch, checks). Each
evaluation is a handful of set-based queries whatever the number of mirrored items; only
causes that fire cost more (an incident's lookups and paging).
"""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.core.exceptions import ValidationError
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from monitors.models import AlertRule, Check, Incident
from triage.models import COUNT_HISTORY, Item, ItemCount, Source
from vigie.notify import SEVERITIES
from vigie.phrases import Phrase, said

logger = structlog.get_logger(__name__)

Kind = AlertRule.Kind


@dataclass(frozen=True)
class Param:
    kind: str  # "int", "duration" (seconds), "percent", "text"
    default: object = None


# Each type's parameters and their defaults (seed 002 and seed 004's thresholds).
PARAMS = {
    Kind.NEW_ISSUE: {"environment": Param("text", "")},
    Kind.EVENT_SPIKE: {"events": Param("int", 10), "window": Param("duration", 300)},
    Kind.DISCARDED_JOBS: {
        "count": Param("int", 20),
        "window": Param("duration", 3600),
        "rate_warning": Param("percent", 5),
        "rate_critical": Param("percent", 20),
    },
    Kind.UNQUALIFIED_BACKLOG: {"older_than": Param("duration", 86400), "count": Param("int", 1)},
    Kind.SOURCE_STALE: {"after": Param("duration", 1800)},
    Kind.CHECK_DOWN: {"check": Param("text", ""), "after": Param("duration", 0)},
    Kind.CHECK_SLOW: {"check": Param("text", ""), "max_latency": Param("duration", 2)},
    Kind.CERT_EXPIRING: {"check": Param("text", "")},
    Kind.NOBODY_ON_WATCH: {},
}
NEEDS_SOURCE = {Kind.NEW_ISSUE, Kind.EVENT_SPIKE, Kind.DISCARDED_JOBS}
# Evaluated after a sync of their source; the others on the tick.
AFTER_SYNC = NEEDS_SOURCE
# Their condition can clear by itself: the incident is resolved when it does.
AUTO_RESOLVE = {
    Kind.UNQUALIFIED_BACKLOG,
    Kind.SOURCE_STALE,
    Kind.CHECK_DOWN,
    Kind.CHECK_SLOW,
    Kind.CERT_EXPIRING,
    Kind.NOBODY_ON_WATCH,
}
# A burst (new issues, spikes, stale sources…) opens this many incidents per rule and
# evaluation; the rest are counted in one summary incident, opened in the same evaluation.
MAX_CAUSES = 50
# Below this many finished jobs in the hour, a failure rate says nothing (1 of 3 is 33 %).
MIN_JOBS_FOR_RATE = 20


def validate_params(kind, params):
    """The parameters with defaults filled in; ValidationError naming the first bad one."""
    spec = PARAMS[kind]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ValidationError(_("unknown parameter %(key)r") % {"key": unknown[0]})
    cleaned = {}
    for key, param in spec.items():
        value = params.get(key, param.default)
        if param.kind == "text":
            ok = isinstance(value, str)
        elif param.kind == "percent":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            ok = number and 0 < value <= 100
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            ok = ok or (param.kind == "duration" and value == 0 and param.default == 0)
        if not ok:
            raise ValidationError(
                _("bad value %(value)r for %(key)r") % {"value": value, "key": key}
            )
        if param.kind == "duration" and key == "window" and value > COUNT_HISTORY.total_seconds():
            raise ValidationError(_("'window' is at most one day (the count history kept)"))
        cleaned[key] = value
    return cleaned


class Causes(list):
    """What an evaluator found. `beyond`: how many more it found without listing them (it
    stops reading past the cap where there can be thousands)."""

    beyond = 0


@dataclass(frozen=True)
class Cause:
    """One thing a rule fires on: `key` part of the incident key, the incident's words.

    `title` and `text` are Phrases (vigie.phrases): a rule is evaluated by a worker, which has
    no reader; they are stored in English and said again in each reader's language."""

    key: str
    title: str
    text: str = ""
    severity: str = ""  # the rule's own when empty


def _window(seconds):
    return timedelta(seconds=seconds)


# A window in words, by its largest whole unit ("1 jour", "15 minutes"): the config file's
# "1d" is not a word for the incident's reader.
_DURATION_UNITS = (
    (7 * 86400, gettext_noop("%(count)s week"), gettext_noop("%(count)s weeks")),
    (86400, gettext_noop("%(count)s day"), gettext_noop("%(count)s days")),
    (3600, gettext_noop("%(count)s hour"), gettext_noop("%(count)s hours")),
    (60, gettext_noop("%(count)s minute"), gettext_noop("%(count)s minutes")),
    (1, gettext_noop("%(count)s second"), gettext_noop("%(count)s seconds")),
)


def _duration_words(seconds):
    seconds = int(seconds)
    for size, one, many in _DURATION_UNITS:
        if seconds >= size and seconds % size == 0:
            return Phrase(one, many, count=seconds // size)
    return Phrase(*_DURATION_UNITS[-1][1:], count=seconds)


def _sources(rule):
    if rule.source_id:
        return Source.objects.filter(pk=rule.source_id)
    return Source.objects.filter(team=rule.team_id)


# --- What each type fires on -------------------------------------------------------------


def new_issues(rule, now, *, previous_success=None, **_ignored):
    """Issues first mirrored since the rule last looked (never those of a source's first
    mirror: they are history)."""
    since = rule.evaluated_at or rule.created_at
    AlertRule.objects.filter(pk=rule.pk).update(evaluated_at=now)
    if previous_success is None:
        return []
    items = Item.objects.filter(
        source_id=rule.source_id, kind=Item.Kind.ISSUE, mirrored_at__gt=since, mirrored_at__lte=now
    ).unqualified()
    if rule.params.get("environment"):
        items = items.filter(environment=rule.params["environment"])
    rows = items.order_by("mirrored_at", "pk").values_list("pk", "short_id", "title")
    rows = list(rows[: MAX_CAUSES + 1])
    found = Causes(
        Cause(
            f"item:{pk}",
            Phrase(gettext_noop("New issue: %(title)s"), title=f"{short} {title}".strip()),
        )
        for pk, short, title in rows[:MAX_CAUSES]
    )
    if len(rows) > MAX_CAUSES:
        found.beyond = items.count() - MAX_CAUSES
    return found


# Sentry's count covers its stats period: events ageing out lower it, which is no event.
NEW_EVENTS = Sum(Greatest(F("count") - F("previous"), Value(0)))


def _events_since(rule, kind, since):
    """Events counted by the syncs since `since` on the source's items of `kind`, per item."""
    return (
        ItemCount.objects.filter(item__source_id=rule.source_id, item__kind=kind, at__gt=since)
        .values("item")
        .annotate(events=NEW_EVENTS)
    )


def _count_since(rule, now, started):
    # The samples are stamped at the start of the sync that saw them: the latest sync's own
    # sample is counted even when the sync took longer than the window.
    since = now - _window(rule.params["window"])
    return min(since, started) if started else since


def event_spikes(rule, now, *, started=None, **_ignored):
    """Seed 002 rule 2: more than `events` events within `window` on one issue."""
    threshold = rule.params["events"]
    rows = (
        _events_since(rule, Item.Kind.ISSUE, _count_since(rule, now, started))
        .filter(events__gt=threshold)
        .values_list("item", "events", "item__short_id", "item__title")
        .order_by("item")
    )
    window = _duration_words(rule.params["window"])
    return [
        Cause(
            f"item:{pk}",
            Phrase(
                gettext_noop("%(events)s events in %(window)s: %(title)s"),
                events=events,
                window=window,
                title=f"{short} {title}".strip(),
            ),
        )
        for pk, events, short, title in rows
    ]


def failure_rate(rule, totals):
    """Seed 004: the jobs' failure rate over the last hour, warning above `rate_warning` %,
    critical above `rate_critical` %, where the source knows its totals (django-q2, GoodJob
    keeping its finished jobs: SourceBackend.totals; the others give none)."""
    finished, failed = (totals or {}).get("finished", 0), (totals or {}).get("failed", 0)
    if finished < MIN_JOBS_FOR_RATE:
        return []
    rate = 100 * failed / finished
    if rate > rule.params["rate_critical"]:
        severity = Check.Severity.CRITICAL
    elif rate > rule.params["rate_warning"]:
        severity = Check.Severity.WARNING
    else:
        return []
    title = Phrase(
        gettext_noop("%(rate).1f %% of the jobs failed in the last hour on %(source)s"),
        rate=rate,
        source=rule.source.name,
    )
    text = Phrase(
        gettext_noop("%(failed)s failed out of %(finished)s"), failed=failed, finished=finished
    )
    return [Cause(f"rate:{rule.source_id}", title, text, severity)]


def discarded_jobs(rule, now, *, started=None, totals=None, **_ignored):
    """Seed 004: more than `count` jobs discarded within `window` on the source, or a failure
    rate above its thresholds."""
    causes = failure_rate(rule, totals)
    since = _count_since(rule, now, started)
    total = (
        ItemCount.objects.filter(
            item__source_id=rule.source_id, item__kind=Item.Kind.JOB, at__gt=since
        ).aggregate(events=NEW_EVENTS)["events"]
        or 0
    )
    if total <= rule.params["count"]:
        return causes
    title = Phrase(
        gettext_noop("%(count)s jobs discarded in %(window)s on %(source)s"),
        count=total,
        window=_duration_words(rule.params["window"]),
        source=rule.source.name,
    )
    return [*causes, Cause(f"source:{rule.source_id}", title)]


def unqualified_backlog(rule, now, **_ignored):
    """Seed 000: unqualified items must not pile up. One cause per rule, with the count."""
    cutoff = now - _window(rule.params["older_than"])
    waiting = (
        Item.objects.filter(source__in=_sources(rule), source__enabled=True)
        .unqualified()
        .filter(Q(first_seen__lt=cutoff) | Q(first_seen__isnull=True, mirrored_at__lt=cutoff))
        .count()
    )
    if waiting < rule.params["count"]:
        return []
    title = Phrase(
        gettext_noop("%(count)s items unqualified for more than %(age)s"),
        count=waiting,
        age=_duration_words(rule.params["older_than"]),
    )
    return [Cause("backlog", title)]


def stale_sources(rule, now, **_ignored):
    """A source whose last successful sync is older than `after`: Vigie is blind there. A
    source that never synced is not stale (nothing was ever seen, nothing went quiet)."""
    cutoff = now - _window(rule.params["after"])
    rows = _sources(rule).filter(enabled=True, last_success_at__lt=cutoff)
    return [
        Cause(
            f"source:{source.pk}",
            Phrase(
                gettext_noop("Source %(name)s has not synced since %(when)s"),
                name=source.name,
                when=rule.team.local(source.last_success_at).strftime("%Y-%m-%d %H:%M"),
            ),
            source.last_error,
        )
        for source in rows.only("pk", "name", "last_success_at", "last_failure")
    ]


def _checks(rule):
    checks = Check.objects.filter(team=rule.team_id, enabled=True)
    if rule.params.get("check"):
        checks = checks.filter(name=rule.params["check"])
    return checks


def checks_down(rule, now, **_ignored):
    cutoff = now - _window(rule.params["after"])
    rows = _checks(rule).filter(state=Check.State.DOWN, state_changed_at__lte=cutoff)
    return [
        Cause(
            f"check:{pk}",
            Phrase(gettext_noop("%(name)s is down"), name=name),
            Phrase.read((details or {}).get("said"), message),
        )
        for pk, name, message, details in rows.values_list(
            "pk", "name", "last_message", "last_details"
        )
    ]


def checks_slow(rule, now, **_ignored):
    limit = rule.params["max_latency"]
    rows = _checks(rule).exclude(state=Check.State.UNKNOWN).filter(last_latency__gt=limit)
    return [
        Cause(
            f"check:{pk}",
            Phrase(
                gettext_noop("%(name)s answers in %(latency).2f s (more than %(limit)s s)"),
                name=name,
                latency=latency,
                limit=limit,
            ),
        )
        for pk, name, latency in rows.values_list("pk", "name", "last_latency")
    ]


def certificates_expiring(rule, now, **_ignored):
    """TLS checks whose certificate is inside the check's own warning window (warn_days)."""
    causes = []
    for check in _checks(rule).filter(kind=Check.Kind.TLS):
        left = (check.last_details or {}).get("days_left")
        if left is not None and left < check.config.get("warn_days", 21):
            causes.append(
                Cause(
                    f"check:{check.pk}",
                    Phrase(
                        gettext_noop("Certificate of %(name)s expires in %(days)s days"),
                        name=check.name,
                        days=left,
                    ),
                )
            )
    return causes


def nobody_on_watch(rule, now, **_ignored):
    """Nobody on watch now, or nobody taking over at the next handover."""
    from rotation.schedule import on_watch

    watch = on_watch(rule.team, now)
    if watch.now is None:
        return [Cause("now", Phrase(gettext_noop("Nobody is on watch")))]
    if watch.next is None or watch.next.start > watch.now.end:
        when = rule.team.local(watch.now.end).strftime("%Y-%m-%d %H:%M")
        return [
            Cause(
                f"next:{watch.now.end:%Y%m%dT%H%M}",
                Phrase(gettext_noop("Nobody takes over the watch at %(when)s"), when=when),
            )
        ]
    return []


EVALUATORS = {
    Kind.NEW_ISSUE: new_issues,
    Kind.EVENT_SPIKE: event_spikes,
    Kind.DISCARDED_JOBS: discarded_jobs,
    Kind.UNQUALIFIED_BACKLOG: unqualified_backlog,
    Kind.SOURCE_STALE: stale_sources,
    Kind.CHECK_DOWN: checks_down,
    Kind.CHECK_SLOW: checks_slow,
    Kind.CERT_EXPIRING: certificates_expiring,
    Kind.NOBODY_ON_WATCH: nobody_on_watch,
}


# --- From causes to incidents --------------------------------------------------------------


def _higher(severity, than):
    return SEVERITIES.index(severity) > SEVERITIES.index(than)


def fire(rule, causes, now, chains=None):
    """Open an incident per new cause; a cause already open is joined (and raised to the
    cause's severity when that is higher: a failure rate going from warning to critical), and
    one opened inside the action interval (even resolved since) notifies nothing again.
    Resolves the open incidents whose cause cleared, for the types whose condition clears by
    itself.

    `chains` caches each team's escalation chain at `now` across the rules of one evaluation
    (a burst of causes freezes the same chain). Returns the incidents opened."""
    chains = {} if chains is None else chains
    wanted = {rule.incident_key(cause.key): cause for cause in causes}
    beyond = getattr(causes, "beyond", 0)
    known = (
        Incident.objects.filter(rule=rule, key__in=list(wanted))
        .filter(
            Q(resolved_at__isnull=True)
            | Q(opened_at__gt=now - timedelta(seconds=rule.action_interval))
        )
        .values_list("pk", "key", "severity", "resolved_at")
    )
    quiet = set()
    for pk, key, severity, resolved_at in known:
        quiet.add(key)
        cause = wanted[key]
        if resolved_at is None and _higher(cause.severity or rule.severity, severity):
            Incident.objects.get(pk=pk).raise_severity(
                cause.severity or rule.severity, cause.title, now
            )
    new = [(key, cause) for key, cause in wanted.items() if key not in quiet]
    more = max(0, len(new) - MAX_CAUSES) + beyond
    if more > 0:
        logger.warning("rule_causes_capped", rule=rule.pk, opened=MAX_CAUSES, more=more)
        summary = _summary(rule, more, now)
        new = [*new[:MAX_CAUSES], (rule.incident_key(summary.key), summary)]
    opened = []
    for key, cause in new:
        if rule.team_id not in chains:
            chains[rule.team_id] = rule.team.escalation_chain(now)
        opened.append(
            Incident.objects.open_or_join(
                team=rule.team,
                key=key,
                title=cause.title,
                title_said=said(cause.title) or {},
                severity=cause.severity or rule.severity,
                category=rule.category,
                text=cause.text or cause.title,
                at=now,
                escalation=chains[rule.team_id],
                rule=rule,
            )
        )
    if rule.kind in AUTO_RESOLVE:
        kept = [*wanted, *(key for key, _cause in new)]
        cleared = Incident.objects.unresolved().filter(rule=rule).exclude(key__in=kept)
        for incident in cleared:
            incident.resolve(None, Incident.How.AUTO, now)
    return opened


def _summary(rule, more, now):
    """The causes past the cap, counted in one incident of their own evaluation (a later one
    opens those still firing, up to the cap again; a rule whose condition clears by itself
    resolves this summary then)."""
    return Cause(
        f"more:{now:%Y%m%dT%H%M%S}",
        Phrase(
            gettext_noop("%(count)s more cause of rule %(name)s, not opened one by one"),
            gettext_noop("%(count)s more causes of rule %(name)s, not opened one by one"),
            count=more,
            name=rule.name,
        ),
        Phrase(
            gettext_noop("At most %(max)s incidents open per rule and evaluation."),
            max=MAX_CAUSES,
        ),
    )


def causes(rule, now, **context):
    """What the rule fires on at `now` (its parameters' defaults filled in)."""
    rule.params = validate_params(rule.kind, rule.params or {})
    return EVALUATORS[rule.kind](rule, now, **context)


def evaluate(rule, now, chains=None, **context):
    """Evaluate one rule and act on it; an error is logged, never raised (one rule failing
    never stops the others)."""
    try:
        return fire(rule, causes(rule, now, **context), now, chains)
    except Exception:
        logger.exception("rule_evaluation_failed", rule=rule.pk)
        return []


def _enabled():
    return AlertRule.objects.filter(enabled=True).select_related("team", "source")


def after_sync(sender, *, source, run, previous_success, **kwargs):
    """`triage.signals.sync_finished` receiver: the rules reading this source's mirror, and the
    stale-source rules that may now clear."""
    now = timezone.now()
    rules = _enabled().filter(
        Q(kind__in=AFTER_SYNC, source=source)
        | Q(kind=Kind.SOURCE_STALE)
        & (Q(source=source) | Q(source__isnull=True, team=source.team_id))
    )
    chains = {}
    for rule in rules:
        if rule.kind in AFTER_SYNC and run.error:
            continue  # nothing new was mirrored
        evaluate(
            rule,
            now,
            chains,
            previous_success=previous_success,
            started=run.started_at,
            totals=run.totals,
        )


def evaluate_timed(now=None):
    """On the tick: the rules that depend on time rather than on a sync."""
    now = now or timezone.now()
    chains = {}
    for rule in _enabled().exclude(kind__in=AFTER_SYNC):
        evaluate(rule, now, chains)
