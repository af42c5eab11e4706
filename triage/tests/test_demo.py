import pytest

from rotation.models import Team
from triage import demo
from triage.models import Item, QualificationRule, RuleHit, Source
from triage.sources import backend_for
from triage.sync import sync_source

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the demo called the network")

    monkeypatch.setattr("vigie.http.request", refuse)


def test_demo_source_is_alive_and_idempotent():
    team = Team.objects.create(slug="demo", name="Démo")
    summary = demo.load()
    source = Source.objects.get(name="demo")
    assert source.kind == "demo"
    assert source.team == team
    items = Item.objects.filter(source=source)
    prequalified = items.filter(rule__isnull=False).count()
    assert summary == (
        f'source "demo": {items.count()} items added, {items.count()} in all, '
        f"{prequalified} pre-qualified by rules"
    )
    # Something of every kind and every state the board shows.
    assert set(items.values_list("kind", flat=True)) == set(Item.Kind.values)
    assert items.to_qualify().exists()
    assert items.exclude(qualification="").exists()
    assert items.filter(came_back=True).exists()
    assert items.filter(kind="request", qualification="").exists()
    assert {"fatal", "error", "warning", "info"} <= set(items.values_list("level", flat=True))
    assert items.filter(title="<script>alert(1)</script>").exists()
    assert items.filter(title="<img src=x onerror=alert(1)>").exists()
    # Small requests have no occurrences, hence no trend.
    assert all(len(item.recent_counts) == 24 for item in items.exclude(kind="request"))
    assert any(job.not_found_in_job for job in items.filter(kind=Item.Kind.JOB))

    before = set(items.values_list("external_id", flat=True))
    items.filter(external_id="demo-1").update(qualification="bug")
    assert demo.load().startswith('source "demo": 0 items added')
    assert set(items.values_list("external_id", flat=True)) == before
    assert items.get(external_id="demo-1").qualification == "bug"  # not overwritten


def test_the_demo_source_syncs_and_reports_offline():
    demo.load()
    source = Source.objects.get(name="demo")
    item = source.items.get(external_id="demo-8")
    report = backend_for(source).bug_report(item)
    assert report["release"] == "rdv-solidarites@2026.11.20"
    run = sync_source(source.pk)
    assert (run.created, run.error) == (0, "")


def test_a_demo_issue_has_a_detail_worth_opening(admin_client):
    Team.objects.create(slug="demo", name="Démo")
    demo.load()
    item = Item.objects.filter(source__name="demo", kind=Item.Kind.ISSUE).first()
    page = admin_client.get(f"/board/items/{item.pk}").content.decode()
    assert "@rdv = Rdv.find(params[:id])" in page
    assert "Firefox 133.0" in page or "Chrome 131.0" in page or "Safari 18.1" in page
    assert "SELECT rdvs.* FROM rdvs" in page


def test_the_demo_has_rules_with_hits_and_items_prequalified_by_them_once(admin_client):
    from django.core.management import call_command

    call_command("demo", force=True, verbosity=0)
    call_command("demo", force=True, verbosity=0)  # again: nothing doubles

    source = Source.objects.get(name="demo")
    rules = QualificationRule.objects.filter(team=source.team)
    assert rules.count() == len(demo.RULES)
    assert rules.filter(retired_at__isnull=False).count() == 1
    assert {"exception_type", "title", "tag", "level"} <= set(rules.values_list("field", flat=True))
    assert all(rule.created_by is not None for rule in rules)
    hits = RuleHit.objects.filter(item__source=source)
    assert hits.count() == source.items.filter(rule__isnull=False).count() >= 4
    assert hits.values("item").distinct().count() == hits.count()
    # Seed 000: a RecordNotFound from a web request is expected, GoodJob's from a job is not.
    web = source.items.get(external_id="demo-1")
    assert (web.qualification, web.rule.name) == ("expected", "404 des liens venus du dehors")
    job = source.items.get(kind="job", title__contains="RecordNotFound")
    assert (job.qualification, job.rule) == ("", None)
    assert source.items.get(title__startswith="ChunkLoadError").rule.field == "tag"

    board = admin_client.get("/board?state=by_rule", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "par la règle 404 des liens venus du dehors" in board
    page = admin_client.get("/board/rules", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Jeton CSRF expiré" in page and "retirée le" in page
    # Every active rule of the demo has taken something.
    assert all(rule.hits.exists() for rule in rules.filter(retired_at__isnull=True))
