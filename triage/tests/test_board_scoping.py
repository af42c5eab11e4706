"""A member sees their teams' sources and items (and those of teams sharing their board); a
superuser sees everything. The board's query count does not grow with it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rotation.tests.factories import TeamFactory
from tests.factories import UserFactory
from triage.models import Source
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(db):
    source = SourceFactory(name="elsewhere", team=TeamFactory(slug="elsewhere"))
    source.item = ItemFactory(source=source, title="Other team's secret title")
    Source.objects.filter(pk=source.pk).update(
        state=Source.State.ERROR, last_failure={"text": "elsewhere-db is down"}
    )
    return source


def test_a_member_sees_only_their_teams_items_and_failing_sources(member_client, item, other):
    for url in ("/board", "/board/counts"):
        html = member_client.get(url).content.decode()
        assert item.title in html or url.endswith("counts")
        assert "Other team's secret title" not in html
        assert "elsewhere-db is down" not in html
    response = member_client.get("/board", {"source": "elsewhere", "state": "all"})
    assert list(response.context["page"]) == []
    assert response.context["summary"]["unqualified"] == 0


def test_a_team_sharing_its_board_is_seen_by_everyone(member_client, item, other):
    other.team.share_board = True
    other.team.save()
    html = member_client.get("/board").content.decode()
    assert "Other team&#x27;s secret title" in html and "elsewhere-db is down" in html


def test_a_superuser_sees_every_team(client, item, other):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    html = client.get("/board").content.decode()
    assert item.title in html and "Other team&#x27;s secret title" in html


def test_scoping_adds_no_query(member_client, item, other):
    member_client.get("/board")  # warm the session and the caches
    with CaptureQueriesContext(connection) as scoped:
        member_client.get("/board")
    other.team.share_board = True
    other.team.save()
    with CaptureQueriesContext(connection) as shared:
        member_client.get("/board")
    assert len(scoped) == len(shared)
