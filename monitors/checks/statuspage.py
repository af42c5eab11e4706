"""A third-party Atlassian Statuspage (`/api/v2/summary.json`): is the provider healthy?

Its failures are the provider's, not ours: they are reported with severity "warning", so a
status page never pages anyone as critical."""

import json

from django.utils.translation import gettext_noop

from vigie.http import ProbeError, probe
from vigie.phrases import Phrase

from .base import REQUIRED, Key, Outcome, clean_config, http_url, url_host

SCHEMA = {"url": Key(http_url, REQUIRED)}  # the status page, e.g. https://status.sentry.io
SEVERITY = "warning"


def validate(config):
    return clean_config(SCHEMA, config)


def targets(config):
    return {"url": url_host(config["url"])}


def summary_url(url):
    return url.rstrip("/") + "/api/v2/summary.json"


def _summary(response):
    try:
        data = json.loads(response.body)
        indicator = data["status"]["indicator"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(indicator, str):
        return None
    return data


def _entries(data, key):
    entries = data.get(key)
    return (
        [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )


def run(config, *, timeout, allow_private):
    try:
        response = probe(
            "GET",
            summary_url(config["url"]),
            headers={"Accept": "application/json"},
            timeout=timeout,
            allow_private=allow_private,
        )
    except ProbeError as exc:
        message = Phrase(gettext_noop("status page unreachable: %(error)s"), error=exc.message)
        return Outcome(ok=False, message=message, severity=SEVERITY)
    outcome = Outcome(
        ok=False,
        message="",
        latency=response.elapsed,
        status_code=response.status,
        severity=SEVERITY,
    )
    if response.status != 200:
        outcome.message = Phrase(
            gettext_noop("status page answered HTTP %(status)s"), status=response.status
        )
        return outcome
    data = _summary(response)
    if data is None:
        outcome.message = Phrase(
            gettext_noop("not an Atlassian Statuspage summary (no status indicator)")
        )
        return outcome
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    provider = str(page.get("name") or config["url"])
    indicator = data["status"]["indicator"]
    incidents = [
        {
            "name": str(entry.get("name", "")),
            "impact": str(entry.get("impact", "")),
            "url": str(entry.get("shortlink", "")),
        }
        for entry in _entries(data, "incidents")
    ]
    components = [
        {"name": str(entry.get("name", "")), "status": str(entry.get("status", ""))}
        for entry in _entries(data, "components")
        # A group's status repeats its members': list the members only.
        if entry.get("status") != "operational" and not entry.get("group")
    ]
    outcome.details = {
        "indicator": indicator,
        "description": str(data["status"].get("description", "")),
        "incidents": incidents,
        "components": components,
    }
    if indicator == "none":
        outcome.ok = True
        outcome.severity = None
        outcome.message = f"{provider}: {outcome.details['description'] or 'operational'}"
        return outcome
    parts = [f"{provider}: {indicator}"]
    if incidents:
        parts.append("incident: " + "; ".join(f'"{i["name"]}" ({i["impact"]})' for i in incidents))
    if components:
        parts.append(
            "not operational: "
            + ", ".join(f"{c['name']} ({c['status'].replace('_', ' ')})" for c in components)
        )
    outcome.message = " — ".join(parts)
    return outcome
