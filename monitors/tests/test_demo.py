import pytest

from monitors import demo
from monitors.models import AlertRule, Check, CheckResult, Incident
from triage import demo as triage_demo

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_opens_one_incident_with_its_timeline():
    demo.load()
    counts = (Check.objects.count(), CheckResult.objects.count())
    demo.load()
    assert (Check.objects.count(), CheckResult.objects.count()) == counts
    # The demo: its own /health, a failing local URL, a heartbeat, an SQL invariant.
    assert {"http", "heartbeat", "sql"} <= set(Check.objects.values_list("kind", flat=True))
    incident = Incident.objects.get()
    assert incident.state == Incident.State.OPEN
    assert incident.events.first().kind == "opened"
    assert incident.events.filter(kind="note").count() == 1
    sql = Check.objects.get(name="intervalles-courts")
    assert sql.config["dsn"].startswith(("sqlite:///", "${VIGIE_DEMO_SQL_DSN}"))


def test_the_health_check_follows_the_address_vigie_is_served_on(settings):
    settings.VIGIE_BASE_URL = "http://127.0.0.1:8000"
    demo.load()
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8000/health"
    demo.load(url="http://127.0.0.1:8081/")
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8081/health"
    assert Check.objects.filter(name="vigie-health").count() == 1


def test_the_demo_command_passes_its_url(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("demo", "--url", "http://127.0.0.1:8123/", verbosity=0)
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8123/health"


def test_demo_carries_seed_004_runbooks_named_by_its_checks(user_client):
    from django.urls import reverse

    from monitors.models import Runbook

    demo.load()
    Runbook.objects.filter(slug="rb-002-database").update(body="Édité à la main.")
    demo.load()
    slugs = set(Runbook.objects.values_list("slug", flat=True))
    assert {slug[:6] for slug in slugs} == {f"rb-00{n}" for n in range(1, 6)}  # seed 004's five
    assert Runbook.objects.get(slug="rb-002-database").body == "Édité à la main."
    workers = Runbook.objects.get(slug="rb-005-django-q2-workers")
    assert "django-q2" in workers.title and "qcluster" in workers.body
    incident = Incident.objects.get()
    assert incident.runbook_ref == "rb-001-site-down"
    assert incident.public and incident.status_updates.count() == 1
    body = user_client.get(reverse("monitors:incident", args=[incident.pk])).content.decode()
    assert 'href="/runbooks/demo/rb-001-site-down"' in body
    assert "<h2>Diagnostic</h2>" in body  # the runbook's Markdown, rendered on the page


def test_the_demo_status_page_reads_since_the_last_release():
    from django.utils import timezone

    from monitors.status import DEGRADED, team_status
    from rotation.models import Team
    from triage import demo as triage_demo

    Team.objects.create(slug="demo", name="Démo")
    triage_demo.load()
    triage_demo.load()
    demo.load()
    status = team_status(Team.objects.get(slug="demo"), timezone.now())
    assert status.verdict == DEGRADED  # the refused port is a warning
    assert status.release.short_version == "2026.12.02"
    assert status.causes[0].runbook.label.startswith("RB-001")


def test_demo_carries_the_seeds_rules_over_the_demo_source():
    triage_demo.load()
    demo.load()
    demo.load()
    rules = {rule.name: rule for rule in AlertRule.objects.select_related("source")}
    assert AlertRule.objects.count() == len(rules)  # a second load adds none
    assert {"nouvelle-issue-prod", "pic", "backlog", "personne-de-vigie"} <= set(rules)
    assert rules["pic"].params == {"events": 10, "window": 300}
    assert rules["pic"].source.name == "demo" and rules["pic"].severity == "critical"
    assert rules["nouvelle-issue-prod"].action_interval == 24 * 3600
    assert rules["backlog"].source is None
    for rule in rules.values():
        rule.full_clean()
