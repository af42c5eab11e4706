import pytest

from monitors import demo
from monitors.models import AlertRule, Check, CheckResult, Incident
from triage import demo as triage_demo

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_opens_one_incident_with_its_timeline():
    demo.load()
    demo.load()
    assert Check.objects.count() == 4
    assert CheckResult.objects.count() == 3
    incident = Incident.objects.get()
    assert incident.state == Incident.State.OPEN
    assert incident.events.first().kind == "opened"
    assert incident.events.filter(kind="note").count() == 1
    sql = Check.objects.get(name="intervalles-courts")
    assert sql.config["dsn"].startswith(("sqlite:///", "${VIGIE_DEMO_SQL_DSN}"))


def test_demo_carries_the_seeds_rules_over_the_demo_source():
    triage_demo.load()
    demo.load()
    demo.load()
    rules = {rule.name: rule for rule in AlertRule.objects.select_related("source")}
    assert len(rules) == 8
    assert rules["pic"].params == {"events": 10, "window": 300}
    assert rules["pic"].source.name == "demo" and rules["pic"].severity == "critical"
    assert rules["nouvelle-issue-prod"].action_interval == 24 * 3600
    assert rules["backlog"].source is None
    for rule in rules.values():
        rule.full_clean()
