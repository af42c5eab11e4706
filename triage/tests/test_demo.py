from datetime import UTC, datetime, timedelta

import pytest
import time_machine

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
    assert "SELECT &quot;rdvs&quot;.* FROM &quot;rdvs&quot;" in page


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


LOADED_AT = datetime(2026, 12, 3, 15, 42, tzinfo=UTC)


def _loaded():
    Team.objects.create(slug="demo", name="Démo")
    with time_machine.travel(LOADED_AT, tick=False):
        demo.load()
    return Item.objects.filter(source__name="demo")


def _span(start, step, item):
    """Whether the bucket [start, start + step) meets the item's [first seen, last seen]."""
    return start <= item.last_seen and start + step > item.first_seen


def test_every_demo_chart_follows_its_item_first_and_last_seen_and_tally():
    items = _loaded().exclude(kind=Item.Kind.REQUEST)
    loaded_at = LOADED_AT
    backend = backend_for(Source.objects.get(name="demo"))
    # Right after the load, and opened days later: a chart never moves its item's events.
    for now in (loaded_at, loaded_at + timedelta(days=1, hours=5), loaded_at + timedelta(days=45)):
        for item in items:
            stats = backend.mirrored_stats(item, now)
            for period, step in (("24h", timedelta(hours=1)), ("30d", timedelta(days=1))):
                buckets = [(datetime.fromtimestamp(ts, UTC), n) for ts, n in stats[period]]
                for start, count in buckets:
                    assert count >= 0
                    assert count == 0 or _span(start, step, item), (item.title, period, start)
                start, end = buckets[0][0], buckets[-1][0] + step
                total = sum(count for _start, count in buckets)
                if start <= item.first_seen and item.last_seen < end:
                    assert total == item.tally, (item.title, period)
                else:
                    assert total <= item.tally
                if start <= item.last_seen < end:  # seen then: its bucket has an event
                    assert next(n for s, n in buckets if s <= item.last_seen < s + step) >= 1
    for item in items:
        # The board's trend is the last 24 hours at the load.
        hourly = backend.mirrored_stats(item, loaded_at)["24h"]
        assert item.recent_counts == [count for _ts, count in hourly]
        assert item.user_count <= item.tally


def test_demo_traces_match_their_exception_and_platform():
    items = _loaded()
    files = {".rb": 0, ".py": 0, ".js": 0}
    for item in items.filter(kind=Item.Kind.ISSUE):
        payload = item.payload
        kind = item.title.partition(": ")[0]
        assert payload["exception"]["type"] == kind
        names = [frame["filename"] for frame in payload["frames"]]
        extensions = {ext for ext in files if any(name.endswith(ext) for name in names)}
        # One platform per trace: no Rails frame under a Python error, and so on.
        assert len(extensions) == 1, (item.title, names)
        files[extensions.pop()] += 1
        tags, crumbs = payload["tags"], payload["breadcrumbs"]
        assert tags["transaction"] == item.origin
        if "url" in tags:  # a web request: its first breadcrumb is that request
            assert crumbs[0]["message"].split(" ", 1)[1] == tags["url"].removeprefix(demo.SITE)
        else:  # a job or a task: no browser, no user
            assert "browser" not in tags and item.user_count == 0
        assert all(crumb["timestamp"] <= item.last_seen.isoformat() for crumb in crumbs)
    assert all(files.values()), files
    by_title = {item.title.partition(": ")[0]: item.payload for item in items}
    http404 = by_title["django.http.Http404"]
    assert [f["filename"] for f in http404["frames"][:2]] == [
        "structures/views.py",
        "django/shortcuts.py",
    ]
    assert http404["frames"][0]["context_line"].startswith("structure = get_object_or_404(")
    assert '"structures_structure"' in http404["breadcrumbs"][-1]["message"]
    export = by_title["Errno::ENOSPC"]
    assert export["frames"][0]["filename"] == "app/jobs/export_job.rb"
    assert export["breadcrumbs"][0]["message"] == "perform ExportJob"
    assert 'FROM "rdvs"' in export["breadcrumbs"][-1]["message"]
    calendar = by_title["TypeError"]
    assert calendar["frames"][0]["function"] == "renderSlots" and "url" in calendar["tags"]
    for job in items.filter(kind=Item.Kind.JOB):
        assert job.payload["backtrace"][0].startswith("app/jobs/"), job.payload["backtrace"]
        assert job.payload["sample_error"] in job.title


def test_demo_items_link_nowhere_outside_and_requests_have_a_body(admin_client):
    items = _loaded()
    assert not items.exclude(permalink="").exists()
    board = admin_client.get("/board?state=all").content.decode()
    assert "example.org/organizations" not in board and "github.com/demo" not in board
    for request in items.filter(kind=Item.Kind.REQUEST):
        assert request.payload["body"].strip()
    request = items.get(title__startswith="Ajouter la colonne")
    detail = admin_client.get(f"/board/items/{request.pk}").content.decode()
    assert "<strong>motif</strong>" in detail and "<em>Agenda → Exporter</em>" in detail
    # Its comments, as many as the board counts, kept in the mirror (nothing to read upstream).
    assert request.tally == len(request.payload["comments"]) == 2
    assert "<strong>bloquant</strong>" in detail and "@conseillere-64" in detail
    assert "not read this time" not in detail
    job = items.filter(kind=Item.Kind.JOB).first()
    detail = admin_client.get(f"/board/items/{job.pk}").content.decode()
    assert "app/jobs/send_rdv_reminder_job.rb" in detail
