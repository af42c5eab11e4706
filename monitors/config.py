"""Monitors as code: channels, checks, maintenance windows and alert rules in a YAML file kept
in git.

`parse(text, filename)` turns the file into a plan-ready description, refusing the whole file at
the first bad entry with the file, the line and the key named: nothing is applied from a file
that is half right. Secrets stay `${VAR}` references from the file to the database; the value is
read from the environment only when a notification is sent or a query runs, and a reference to
an unset variable is refused here so a typo never reaches production silently.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, time

import yaml
from django.core.exceptions import ValidationError

from vigie.env import references

SEVERITIES = ("critical", "warning", "info")
CATEGORIES = ("technical", "business")
CHECK_KINDS = ("http", "tls", "statuspage", "sql", "heartbeat")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LOCAL_MINUTE = "%Y-%m-%dT%H:%M"

# Channel kinds and the keys each takes; the keys that hold a secret must be a reference.
CHANNEL_KEYS = {
    "slack": {"url"},
    "mattermost": {"url"},
    "webhook": {"url", "secret"},
    "ntfy": {"url"},
    "pagerduty": {"routing_key", "url"},
    "email": {"to"},
}
SECRET_CHANNEL_KEYS = {
    "slack": {"url"},
    "mattermost": {"url"},
    "webhook": {"url", "secret"},
    "pagerduty": {"routing_key"},
}
REQUIRED_CHANNEL_KEYS = {
    "slack": {"url"},
    "mattermost": {"url"},
    "webhook": {"url"},
    "ntfy": {"url"},
    "pagerduty": {"routing_key"},
    "email": {"to"},
}

COMMON_CHECK_KEYS = {
    "name",
    "team",
    "type",
    "interval",
    "timeout",
    "alert_after",
    "recover_after",
    "severity",
    "category",
    "runbook",
    "public",
    "allow_private",
    "enabled",
}
# Type-specific keys go to the runner's own validation; these are durations in the file.
DURATION_CONFIG_KEYS = {"max_latency", "period", "grace"}
# Written by `monitors export` for the reader; ignored when the file is applied back.
READ_ONLY_KEYS = {"ping_url"}
MIN_INTERVAL = 10

RULE_KINDS = (
    "new_issue",
    "event_spike",
    "discarded_jobs",
    "unqualified_backlog",
    "source_stale",
    "check_down",
    "check_slow",
    "cert_expiring",
    "nobody_on_watch",
)
COMMON_RULE_KEYS = {
    "name",
    "team",
    "type",
    "source",
    "severity",
    "category",
    "action_interval",
    "runbook",
    "enabled",
}
# The types that read one source, and those that may be narrowed to one (else the team's).
RULE_SOURCE = {
    "new_issue": "required",
    "event_spike": "required",
    "discarded_jobs": "required",
    "unqualified_backlog": "optional",
    "source_stale": "optional",
}


class ConfigError(Exception):
    """A refused file: names the file, the line of the bad entry and the key or variable."""

    def __init__(self, filename, line, message):
        self.filename, self.line = filename, line
        super().__init__(f"{filename}:{line}: {message}")


@dataclass
class Entry:
    """One named row the file wants: what it is, where it was written and its fields."""

    section: str
    team: str
    name: str
    line: int
    fields: dict = field(default_factory=dict)
    # The line of each key, for refusals found against the database (an unknown source).
    lines: dict = field(default_factory=dict)


@dataclass
class Document:
    filename: str
    channels: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    maintenance: list = field(default_factory=list)
    rules: list = field(default_factory=list)

    def teams(self):
        return {entry.team for entry in self.channels + self.checks + self.maintenance + self.rules}

    def sections(self):
        """(section, entries) in the order they are planned and applied: windows name checks,
        rules may name checks and sources."""
        return (
            ("channel", self.channels),
            ("check", self.checks),
            ("maintenance", self.maintenance),
            ("rule", self.rules),
        )


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping and of each of its keys, for messages that point."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = {
            key_node.value: key_node.start_mark.line + 1 for key_node, _ in node.value
        }
        return mapping


def parse_duration(value):
    """Seconds from "60s", "5m", "1h", "1d", "2w", "250ms" or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(value)
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_duration(seconds):
    """The shortest exact spelling of a number of seconds, for the export."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"


class _Reader:
    """Reads one entry, raising ConfigError pointed at its line (or the key's line)."""

    def __init__(self, filename, section, raw):
        self.filename, self.section, self.raw = filename, section, raw
        self.line = raw.get("__line__", 0)
        self.lines = raw.get("__lines__", {})
        label = raw.get("name")
        self.where = f"{section} {label!r}" if isinstance(label, str) else section

    def fail(self, message, key=None):
        line = self.lines.get(key, self.line) if key else self.line
        raise ConfigError(self.filename, line, f"{self.where}: {message}")

    def given(self):
        return [key for key in self.raw if key not in ("__line__", "__lines__")]

    def refuse_unknown(self, allowed):
        for key in self.given():
            if key not in allowed:
                self.fail(f"unknown key {key!r}", key)

    def text(self, key, *, required=False, default=""):
        if key not in self.raw:
            if required:
                self.fail(f"missing key {key!r}")
            return default
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key!r} must be a non-empty string", key)
        self.references_set(key, value)
        return value.strip()

    def choice(self, key, choices, default):
        value = self.raw.get(key, default)
        if value not in choices:
            self.fail(f"{key!r} must be one of {', '.join(choices)}, got {value!r}", key)
        return value

    def boolean(self, key, default=False):
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{key!r} must be true or false, got {value!r}", key)
        return value

    def integer(self, key, default, minimum=1):
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"{key!r} must be an integer >= {minimum}, got {value!r}", key)
        return value

    def duration(self, key, default=None, *, minimum=0):
        if key not in self.raw:
            return default
        try:
            seconds = parse_duration(self.raw[key])
        except ValueError:
            self.fail(f"bad duration {self.raw[key]!r} for {key!r} (e.g. 30s, 5m, 1h, 1d)", key)
        if seconds < minimum:
            self.fail(f"{key!r} must be at least {format_duration(minimum)}", key)
        return seconds

    def references_set(self, key, value):
        import os

        for name in references(value):
            if name not in os.environ:
                self.fail(f"environment variable {name} (in {key!r}) is not set", key)

    def secret(self, key, *, required):
        if key not in self.raw:
            if required:
                self.fail(f"missing key {key!r}")
            return ""
        value = self.raw[key]
        if not isinstance(value, str) or not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
            # A literal secret in a file kept in git would be a leak waiting to happen.
            self.fail(f'{key!r} is a secret: write it as a reference like "${{VAR}}"', key)
        self.references_set(key, value)
        return value


def parse(text, filename="monitors.yaml"):
    """A Document from the file's text, or ConfigError naming the first thing wrong."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise ConfigError(
            filename, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if data is None:
        data = {"__line__": 1, "__lines__": {}}
    if not isinstance(data, dict):
        raise ConfigError(
            filename, 1, "the file must be a mapping of channels, checks, maintenance, rules"
        )
    top = _Reader(filename, "file", data)
    parsers = {"channels": _channel, "checks": _check, "maintenance": _maintenance, "rules": _rule}
    for key in top.given():
        if key not in parsers:
            top.fail(f"unknown section {key!r} ({', '.join(parsers)})", key)
    document = Document(filename)
    for section, parser in parsers.items():
        items = data.get(section) or []
        if not isinstance(items, list):
            top.fail(f"{section!r} must be a list", section)
        seen = {}
        for raw in items:
            if not isinstance(raw, dict):
                top.fail(f"every entry of {section!r} must be a mapping", section)
            entry = parser(_Reader(filename, section.rstrip("s"), raw))
            key = (entry.team, entry.name)
            if key in seen:
                raise ConfigError(
                    filename,
                    entry.line,
                    f"{section} {entry.name!r} of team {entry.team!r} is already defined "
                    f"at line {seen[key]}",
                )
            seen[key] = entry.line
            entry.lines = dict(raw.get("__lines__", {}))
            getattr(document, section).append(entry)
    return document


def _named(reader):
    return reader.text("name", required=True), reader.text("team", required=True)


def _channel(reader):
    name, team = _named(reader)
    kind = reader.choice("type", tuple(CHANNEL_KEYS), None)
    reader.refuse_unknown({"name", "team", "type", "min_severity", "enabled"} | CHANNEL_KEYS[kind])
    fields = {
        "kind": kind,
        "min_severity": reader.choice("min_severity", SEVERITIES, "warning"),
        "enabled": reader.boolean("enabled", True),
    }
    for key in sorted(CHANNEL_KEYS[kind]):
        required = key in REQUIRED_CHANNEL_KEYS[kind]
        if key in SECRET_CHANNEL_KEYS.get(kind, ()):
            fields[key] = reader.secret(key, required=required)
        else:
            fields[key] = reader.text(key, required=required)
    return Entry("channel", team, name, reader.line, fields)


def _check(reader):
    from monitors import checks

    name, team = _named(reader)
    kind = reader.choice("type", CHECK_KINDS, None)
    common = {
        "kind": kind,
        "interval": reader.duration("interval", 60.0, minimum=MIN_INTERVAL),
        "timeout": reader.duration("timeout", 10.0, minimum=1),
        "alert_after": reader.integer("alert_after", 2),
        "recover_after": reader.integer("recover_after", 1),
        "severity": reader.choice("severity", SEVERITIES, "critical"),
        "category": reader.choice("category", CATEGORIES, "technical"),
        "runbook": reader.text("runbook"),
        "public": reader.boolean("public"),
        "allow_private": reader.boolean("allow_private"),
        "enabled": reader.boolean("enabled", True),
    }
    config = {}
    for key in reader.given():
        if key in COMMON_CHECK_KEYS or key in READ_ONLY_KEYS:
            continue
        value = reader.raw[key]
        if key in DURATION_CONFIG_KEYS:
            value = reader.duration(key)
        elif key == "dsn":
            value = reader.secret(key, required=True)
        elif isinstance(value, str):
            reader.references_set(key, value)
        config[key] = _plain(value)
    try:
        config = checks.validate(kind, config, allow_private=common["allow_private"])
    except ValidationError as exc:
        key, message = _first_error(exc)
        reader.fail(message if key is None else f"{key!r}: {message}", key)
    return Entry("check", team, name, reader.line, {**common, "config": config})


def _maintenance(reader):
    name, team = _named(reader)
    reader.refuse_unknown({"name", "team", "checks", "weekly", "start", "end"})
    names = reader.raw.get("checks")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        reader.fail("'checks' must be a non-empty list of check names", "checks")
    fields = {"checks": sorted(set(names))}
    weekly = reader.raw.get("weekly")
    if weekly is not None:
        if "start" in reader.raw or "end" in reader.raw:
            reader.fail("a window is either weekly or has a start and an end, not both", "weekly")
        if not isinstance(weekly, dict):
            reader.fail("'weekly' must be a mapping of day, start, end", "weekly")
        inner = _Reader(reader.filename, reader.where, weekly)
        inner.refuse_unknown({"day", "start", "end"})
        day = str(weekly.get("day", "")).lower()
        if day not in WEEKDAYS:
            inner.fail(f"'day' must be an English day name, got {weekly.get('day')!r}", "day")
        start, end = (_clock(inner, key) for key in ("start", "end"))
        if start == end:
            inner.fail("'start' and 'end' are the same time", "end")
        fields.update(weekday=WEEKDAYS.index(day), weekly_start=start, weekly_end=end)
    else:
        start, end = (_local_minute(reader, key) for key in ("start", "end"))
        if end <= start:
            reader.fail("'end' must be after 'start'", "end")
        fields.update(start=start, end=end)
    return Entry("maintenance", team, name, reader.line, fields)


def _rule(reader):
    from monitors import rules

    name, team = _named(reader)
    kind = reader.choice("type", RULE_KINDS, None)
    spec = rules.PARAMS[kind]
    allowed = COMMON_RULE_KEYS | set(spec)
    if kind not in RULE_SOURCE:
        allowed.discard("source")
    reader.refuse_unknown(allowed)
    params = {}
    for key, param in spec.items():
        if key not in reader.raw:
            continue
        if param.kind == "duration":
            params[key] = reader.duration(key, minimum=0 if param.default == 0 else 1)
        elif param.kind == "int":
            params[key] = reader.integer(key, param.default)
        elif param.kind == "percent":
            params[key] = _percent(reader, key)
        else:
            params[key] = reader.text(key)
    try:
        params = rules.validate_params(kind, params)
    except ValidationError as exc:
        reader.fail(exc.messages[0])
    source = reader.text("source", required=RULE_SOURCE.get(kind) == "required")
    fields = {
        "kind": kind,
        "source": source,
        "params": params,
        "severity": reader.choice("severity", SEVERITIES, "warning"),
        "category": reader.choice("category", CATEGORIES, "technical"),
        "action_interval": int(reader.duration("action_interval", 86400.0, minimum=60)),
        "runbook": reader.text("runbook"),
        "enabled": reader.boolean("enabled", True),
    }
    return Entry("rule", team, name, reader.line, fields)


def _percent(reader, key):
    """A percentage: `5`, `5%` or `"2.5 %"`."""
    value = reader.raw[key]
    text = str(value).strip().removesuffix("%").strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if isinstance(value, bool) or number is None or not 0 < number <= 100:
        reader.fail(f"{key!r} must be a percentage above 0 and at most 100, got {value!r}", key)
    return int(number) if number.is_integer() else number


def _clock(reader, key):
    value = reader.raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 07:30 as a base-60 number.
        reader.fail(f'{key!r}: quote the time, e.g. "07:30"', key)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        reader.fail(f"{key!r} must be a time HH:MM, got {value!r}", key)


def _local_minute(reader, key):
    value = reader.raw.get(key)
    if value is None:
        reader.fail(f"missing key {key!r} (or a 'weekly' window)")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, second=0, microsecond=0)
    try:
        return datetime.strptime(str(value), _LOCAL_MINUTE)
    except ValueError:
        reader.fail(f"{key!r} must be YYYY-MM-DDTHH:MM in the team's time zone, got {value!r}", key)


def _plain(value):
    """Drop the loader's line bookkeeping from nested mappings (headers...)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("__line__", "__lines__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _first_error(exc):
    if hasattr(exc, "error_dict"):
        key, errors = next(iter(exc.error_dict.items()))
        return (None if key == "__all__" else key), errors[0].messages[0]
    return None, exc.messages[0]


# --- Applying a document: a plan first, then the same plan carried out ---------------------


@dataclass
class Change:
    op: str  # "+", "~", "=", "-"
    section: str
    team: str
    name: str
    fields: tuple = ()

    def __str__(self):
        words = {"+": "create", "~": "update", "=": "unchanged", "-": "delete"}
        line = f"{self.op} {words[self.op]} {self.section} {self.team}/{self.name}"
        return f"{line}: {', '.join(self.fields)}" if self.fields else line


def _models():
    from monitors.models import AlertRule, Channel, Check, MaintenanceWindow

    return {"channel": Channel, "check": Check, "maintenance": MaintenanceWindow, "rule": AlertRule}


# File key -> model field, where they differ.
FIELD_NAMES = {"channel": {"to": "address"}, "check": {}, "maintenance": {}, "rule": {}}


def _source_pk(filename, entry, team):
    """The pk of the rule's source (by name), or None; refused when unknown or another team's."""
    from triage.models import Source

    name = entry.fields["source"]
    if not name:
        return None
    source = Source.objects.filter(name=name).first()
    line = entry.lines.get("source", entry.line)
    if source is None:
        known = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
        raise ConfigError(filename, line, f"rule {entry.name!r}: unknown source {name!r} "
                          f"(known: {known})")  # fmt: skip
    if source.team_id not in (None, team.pk):
        raise ConfigError(
            filename, line, f"rule {entry.name!r}: source {name!r} belongs to another team"
        )
    return source.pk


def _row_values(entry, team, filename=""):
    """The model field values the entry wants (timezone applied to one-off windows, a rule's
    source by its name)."""
    values = {}
    for key, value in entry.fields.items():
        if entry.section == "maintenance" and key == "checks":
            continue
        if entry.section == "maintenance" and key in ("start", "end"):
            value = value.replace(tzinfo=team.tzinfo)
        if entry.section == "rule" and key == "source":
            values["source_id"] = _source_pk(filename, entry, team)
            continue
        values[FIELD_NAMES[entry.section].get(key, key)] = value
    return values


def _differs(model, row, values):
    changed = []
    for name, wanted in values.items():
        model_field = model._meta.get_field(name)
        if model_field.to_python(wanted) != getattr(row, name):
            changed.append(name)
    return changed


def plan(document, *, prune=False, managed_by=None):
    """What applying the document would do, as Changes; ConfigError for unknown teams/checks."""
    from rotation.models import Team

    managed_by = managed_by or document.filename
    teams = {team.slug: team for team in Team.objects.filter(slug__in=document.teams())}
    models = _models()
    changes, wanted = [], {section: set() for section in models}
    for section, entries in document.sections():
        model = models[section]
        for entry in entries:
            team = teams.get(entry.team)
            if team is None:
                raise ConfigError(document.filename, entry.line, f"unknown team {entry.team!r}")
            wanted[section].add((team.pk, entry.name))
            values = _row_values(entry, team, document.filename)
            if section != "channel":
                values["managed_by"] = managed_by
            row = model.objects.filter(team=team, name=entry.name).first()
            if row is None:
                changes.append(Change("+", section, team.slug, entry.name))
                continue
            changed = _differs(model, row, values)
            if section == "maintenance":
                current = sorted(row.checks.values_list("name", flat=True))
                if current != entry.fields["checks"]:
                    changed.append("checks")
            changes.append(
                Change("~" if changed else "=", section, team.slug, entry.name, tuple(changed))
            )
    _check_window_targets(document, teams)
    if prune:
        for section, model in models.items():
            rows = model.objects.filter(team__in=teams.values()).select_related("team")
            for row in rows.order_by("team__slug", "name"):
                if (row.team_id, row.name) not in wanted[section]:
                    changes.append(Change("-", section, row.team.slug, row.name))
    return changes


def _check_window_targets(document, teams):
    from monitors.models import Check

    in_file = {(entry.team, entry.name) for entry in document.checks}
    for window in document.maintenance:
        team = teams[window.team]
        existing = set(
            Check.objects.filter(team=team, name__in=window.fields["checks"]).values_list(
                "name", flat=True
            )
        )
        for name in window.fields["checks"]:
            if (window.team, name) not in in_file and name not in existing:
                raise ConfigError(
                    document.filename,
                    window.line,
                    f"maintenance {window.name!r}: unknown check {name!r}",
                )


def apply(document, *, prune=False, dry_run=False, managed_by=None):
    """Carry out the plan in one transaction; returns the Changes (nothing done on dry_run)."""
    from django.db import transaction

    from rotation.models import Team

    managed_by = managed_by or document.filename
    changes = plan(document, prune=prune, managed_by=managed_by)
    if dry_run:
        return changes
    models = _models()
    teams = {team.slug: team for team in Team.objects.filter(slug__in=document.teams())}
    with transaction.atomic():
        for section, entries in document.sections():
            for entry in entries:
                team = teams[entry.team]
                values = _row_values(entry, team, document.filename)
                if section != "channel":
                    values["managed_by"] = managed_by
                row, _ = models[section].objects.update_or_create(
                    team=team, name=entry.name, defaults=values
                )
                if section == "maintenance":
                    row.checks.set(
                        models["check"].objects.filter(team=team, name__in=entry.fields["checks"])
                    )
        for change in changes:
            if change.op == "-":
                models[change.section].objects.filter(
                    team__slug=change.team, name=change.name
                ).delete()
    return changes


# --- Export: the database in the file's format, which applies back to the same state -----


def _secret_reference(team, name, key, value, warnings):
    if not value or re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
        return value
    variable = re.sub(r"[^A-Z0-9]+", "_", f"VIGIE_{team}_{name}_{key}".upper())
    warnings.append(
        f"channel {team}/{name}: {key} was typed in the admin; exported as ${{{variable}}}, "
        f"set that variable before applying the file"
    )
    return f"${{{variable}}}"


def export(teams=None):
    """(YAML text, warnings). Secrets typed in the admin are never printed: they become
    references to a variable named in the warnings."""
    from django.conf import settings
    from django.urls import reverse

    models = _models()
    warnings = []

    def rows(model):
        queryset = model.objects.select_related("team").order_by("team__slug", "name")
        return queryset.filter(team__slug__in=teams) if teams else queryset

    channels = []
    for channel in rows(models["channel"]):
        item = {"name": channel.name, "team": channel.team.slug, "type": channel.kind}
        for key in sorted(CHANNEL_KEYS.get(channel.kind, ())):
            value = getattr(channel, FIELD_NAMES["channel"].get(key, key), "")
            if key in SECRET_CHANNEL_KEYS.get(channel.kind, ()):
                value = _secret_reference(channel.team.slug, channel.name, key, value, warnings)
            if value:
                item[key] = value
        item["min_severity"] = channel.min_severity
        if not channel.enabled:
            item["enabled"] = False
        channels.append(item)

    checks = []
    for check in rows(models["check"]):
        item = {"name": check.name, "team": check.team.slug, "type": check.kind}
        item["interval"] = format_duration(check.interval)
        item["timeout"] = format_duration(check.timeout)
        for key, value in check.config.items():
            item[key] = format_duration(value) if key in DURATION_CONFIG_KEYS and value else value
        item.update(
            alert_after=check.alert_after,
            recover_after=check.recover_after,
            severity=check.severity,
            category=check.category,
            public=check.public,
            allow_private=check.allow_private,
        )
        if check.runbook:
            item["runbook"] = check.runbook
        if not check.enabled:
            item["enabled"] = False
        if check.kind == "heartbeat":
            path = reverse("monitors:ping", args=[check.ping_token])
            item["ping_url"] = settings.VIGIE_BASE_URL.rstrip("/") + path
        checks.append(item)

    maintenance = []
    for window in rows(models["maintenance"]).prefetch_related("checks"):
        item = {"name": window.name, "team": window.team.slug}
        item["checks"] = sorted(check.name for check in window.checks.all())
        if window.weekday is not None:
            item["weekly"] = {
                "day": WEEKDAYS[window.weekday],
                "start": window.weekly_start.strftime("%H:%M"),
                "end": window.weekly_end.strftime("%H:%M"),
            }
        else:
            item["start"] = window.team.local(window.start).strftime(_LOCAL_MINUTE)
            item["end"] = window.team.local(window.end).strftime(_LOCAL_MINUTE)
        maintenance.append(item)

    rules = [_export_rule(rule) for rule in rows(models["rule"]).select_related("source")]
    document = {"channels": channels, "checks": checks, "maintenance": maintenance}
    if rules:
        document["rules"] = rules
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return text, warnings


def _export_rule(rule):
    from monitors import rules

    item = {"name": rule.name, "team": rule.team.slug, "type": rule.kind}
    if rule.source_id:
        item["source"] = rule.source.name
    spec = rules.PARAMS.get(rule.kind, {})
    for key, value in rules.validate_params(rule.kind, rule.params or {}).items():
        if spec[key].kind == "duration":
            value = format_duration(value)
        if value != "":
            item[key] = value
    item.update(
        severity=rule.severity,
        category=rule.category,
        action_interval=format_duration(rule.action_interval),
    )
    if rule.runbook:
        item["runbook"] = rule.runbook
    if not rule.enabled:
        item["enabled"] = False
    return item
