"""The statuspage check against a fake Atlassian Statuspage summary."""

from monitors import checks
from monitors.tests.probe_servers import FakeSite


def summary(indicator, incidents=(), components=()):
    return {
        "page": {"id": "x", "name": "Sentry", "url": "https://status.sentry.io"},
        "status": {"indicator": indicator, "description": "Minor Service Outage"},
        "components": list(components),
        "incidents": list(incidents),
        "scheduled_maintenances": [],
    }


def run(body, status=200):
    with FakeSite({"/api/v2/summary.json": (status, {}, body)}) as site:
        return checks.run("statuspage", {"url": site.url + "/"}, timeout=2, allow_private=True)


def test_all_operational():
    body = summary("none", components=[{"name": "API", "status": "operational"}])
    body["status"]["description"] = "All Systems Operational"
    outcome = run(body)
    assert outcome.ok
    assert outcome.message == "Sentry: All Systems Operational"
    assert outcome.details["indicator"] == "none"


def test_incident_names_the_provider_incident_and_components():
    body = summary(
        "minor",
        incidents=[
            {"name": "Delayed event ingestion", "impact": "minor", "status": "investigating"}
        ],
        components=[
            {"name": "API", "status": "operational"},
            {"name": "Ingestion", "status": "degraded_performance"},
            {"name": "Europe", "status": "partial_outage", "group": True},
        ],
    )
    outcome = run(body)
    assert not outcome.ok
    assert outcome.severity == "warning"
    assert outcome.message == (
        'Sentry: minor — incident: "Delayed event ingestion" (minor)'
        " — not operational: Ingestion (degraded performance)"
    )
    assert outcome.details["components"] == [
        {"name": "Ingestion", "status": "degraded_performance"}
    ]


def test_critical_outage_is_still_only_a_warning():
    outcome = run(summary("critical", components=[{"name": "API", "status": "major_outage"}]))
    assert not outcome.ok
    assert outcome.severity == "warning"
    assert outcome.message == "Sentry: critical — not operational: API (major outage)"


def test_not_a_statuspage():
    outcome = run("<html>hello</html>")
    assert outcome.message == "not an Atlassian Statuspage summary (no status indicator)"
    assert outcome.severity == "warning"


def test_status_page_down():
    outcome = run("oops", status=502)
    assert outcome.message == "status page answered HTTP 502"
    assert outcome.severity == "warning"


def test_unreachable_status_page_is_a_warning():
    outcome = checks.run(
        "statuspage", {"url": "https://status.nothing.invalid"}, timeout=1, allow_private=False
    )
    assert outcome.message == "status page unreachable: DNS: name does not resolve"
    assert outcome.severity == "warning"
