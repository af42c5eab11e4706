from datetime import UTC, datetime, timedelta

import pytest

from rotation import handover
from tests.factories import UserFactory
from triage.models import Action, Item
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
END = START + timedelta(days=14)


def _action(item, action, at, **response):
    record = Action.objects.create(
        item=item, action=action, upstream_ok=True, upstream_response=response
    )
    Action.objects.filter(pk=record.pk).update(created_at=at)


def test_the_watch_snapshot_holds_triage_sections():
    source = SourceFactory(name="prod")
    other_team_item = ItemFactory()  # another team's source: never in this snapshot
    bug = ItemFactory(source=source, qualification=Item.Qualification.BUG, title="<b>Boom</b>")
    ignored = ItemFactory(source=source, qualification=Item.Qualification.TEMPORARY)
    left = ItemFactory(source=source, permalink="javascript:alert(1)")
    job = ItemFactory(source=source, kind=Item.Kind.JOB, last_seen=START + timedelta(days=2))
    _action(
        bug, "bug", START + timedelta(days=1), github_issue_url="https://github.com/a/b/issues/9"
    )
    _action(ignored, "temporary", START + timedelta(days=3))
    _action(ignored, "temporary", START - timedelta(days=1))  # the previous watch's
    _action(other_team_item, "temporary", START + timedelta(days=3))

    sections = handover.build_snapshot(source.team, START, END)["sections"]

    assert (
        sections["qualified"]["data"]
        == [
            {"title": "Temporaire", "detail": 1},
            {"title": "Bug", "detail": 1},
        ]
        or sections["qualified"]["count"] == 2
    )
    assert sections["bugs"]["data"] == [
        {"title": "<b>Boom</b>", "url": "https://github.com/a/b/issues/9", "detail": bug.short_id}
    ]
    unqualified = {row["title"]: row for row in sections["unqualified"]["data"]}
    assert set(unqualified) == {left.title, job.title}
    assert unqualified[left.title]["url"] == ""  # an upstream javascript: URL is dropped
    assert [row["title"] for row in sections["discarded_jobs"]["data"]] == [job.title]


def test_the_snapshot_lists_the_small_requests_the_watch_handled():
    source = SourceFactory(name="asks")
    user = UserFactory(first_name="Camille", last_name="Martin")
    done = ItemFactory(source=source, kind=Item.Kind.REQUEST, short_id="app#3", title="Export")
    undone = ItemFactory(source=source, kind=Item.Kind.REQUEST, short_id="app#4")
    closed = ItemFactory(source=source, kind=Item.Kind.REQUEST, upstream_status="closed")
    _action(done, "take", START + timedelta(days=1))
    _action(done, "done", START + timedelta(days=2))
    _action(undone, "too_big", START + timedelta(days=2))
    Action.objects.filter(item=undone).update(undone=True)
    Action.objects.filter(action="done").update(user=user)

    sections = handover.build_snapshot(source.team, START, END)["sections"]

    assert sections["small_requests"]["data"] == [
        {"title": "Export", "url": done.permalink, "detail": "app#3 · Fait · Camille Martin"}
    ]
    unqualified = [row["title"] for row in sections["unqualified"]["data"]]
    assert closed.title not in unqualified and undone.title in unqualified
