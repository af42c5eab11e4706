"""The detail's 24-hour and 30-day event charts: from Sentry's stats when the source gives them,
else from the counts Vigie mirrors (ItemCount), with a text alternative and an empty state."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from triage import charts
from triage.models import Item, ItemCount
from triage.sync import sync_source
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
HOUR = 3600


def chart_section(page, period):
    return page.split(f'id="chart-{period}"')[1].split("</figure>")[0]


def test_sentry_stats_draw_both_charts(sentry_source, fake_sentry, client, user):
    team = Team.objects.create(slug="prod-team", name="Prod")
    sentry_source.team = team
    sentry_source.save()
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    hour = int(NOW.timestamp()) // HOUR * HOUR
    day = int(NOW.timestamp()) // 86400 * 86400
    with time_machine.travel(NOW, tick=False):
        issue = fake_sentry.add_issue(
            stats={"24h": [[hour - (23 - h) * HOUR, 0 if h != 20 else 37] for h in range(24)]},
            _stats_30d=[[day - (29 - d) * 86400, 5 if d == 29 else 1] for d in range(30)],
        )
        sync_source(sentry_source.pk)
        item = Item.objects.get(source=sentry_source, external_id=issue["id"])
        page = client.get(f"/board/items/{item.pk}").content.decode()
    hourly, daily = chart_section(page, "24h"), chart_section(page, "30d")
    assert hourly.count("<rect ") == 24 and daily.count("<rect ") == 30
    assert "37 événements" in hourly and "pic 37" in hourly
    assert "34 événements" in daily  # 29 days of 1 and today's 5
    assert "compté par la source" in hourly
    # The text alternative: every bucket's value in a table, the picture hidden from readers.
    assert 'aria-hidden="true"' in hourly
    assert hourly.count("<tr>") == 25 and "<td>37</td>" in hourly
    # The tallest bar is full height, an empty hour has none.
    assert 'height="47.0"' in hourly and 'height="0.0"' in hourly


def test_the_mirrored_counts_draw_the_last_24_hours(member_client, source):
    mirrored = SourceFactory(kind="djangoq", name="tasks", team=source.team)
    item = ItemFactory(source=mirrored, kind=Item.Kind.JOB)
    for at, count, previous in [
        (NOW - timedelta(minutes=10), 50, 47),  # 3 in the current hour
        (NOW - timedelta(hours=2), 47, 40),  # 7 two hours ago
        (NOW - timedelta(hours=2, minutes=5), 40, 39),  # 1 more in that hour
        (NOW - timedelta(hours=30), 39, 1),  # older than the chart
    ]:
        ItemCount.objects.create(item=item, at=at, count=count, previous=previous)
    with time_machine.travel(NOW, tick=False):
        page = member_client.get(f"/board/items/{item.pk}").content.decode()
    hourly = chart_section(page, "24h")
    assert hourly.count("<rect ") == 24
    assert "11 événements" in hourly and "pic 8" in hourly
    assert "compté par Vigie à chaque synchronisation" in hourly
    assert "Pas d’historique sur 30 jours" in chart_section(page, "30d")


def test_no_counts_at_all_is_an_empty_state(member_client, source):
    mirrored = SourceFactory(kind="djangoq", name="tasks", team=source.team)
    item = ItemFactory(source=mirrored, kind=Item.Kind.JOB)
    page = member_client.get(f"/board/items/{item.pk}").content.decode()
    assert "<rect " not in page
    assert "Aucun événement compté ces dernières 24 heures" in chart_section(page, "24h")


def test_a_small_request_has_no_chart(member_client, source):
    request = ItemFactory(source=source, kind=Item.Kind.REQUEST, payload={"body": "x"})
    page = member_client.get(f"/board/items/{request.pk}").content.decode()
    assert "event-chart" not in page


def test_the_charts_cost_one_query_whatever_the_counts(
    member_client, source, django_assert_num_queries
):
    mirrored = SourceFactory(kind="djangoq", name="tasks", team=source.team)
    few, many = ItemFactory.create_batch(2, source=mirrored, kind=Item.Kind.JOB)
    ItemCount.objects.create(item=few, at=NOW - timedelta(hours=1), count=2, previous=1)
    ItemCount.objects.bulk_create(
        ItemCount(item=many, at=NOW - timedelta(minutes=20 * n), count=n + 1, previous=n)
        for n in range(70)
    )
    with time_machine.travel(NOW, tick=False):
        member_client.get(f"/board/items/{few.pk}")
        with CaptureQueriesContext(connection) as few_queries:
            member_client.get(f"/board/items/{few.pk}")
        with django_assert_num_queries(len(few_queries)):
            page = member_client.get(f"/board/items/{many.pk}").content.decode()
    assert chart_section(page, "24h").count("<rect ") == 24


def test_malformed_stats_are_left_out():
    pairs = [[1, 2, 3], ["x", 1], [True, 4], [1.7e12 * 1e9, 1], [1_764_000_000, "9"], "?"]
    assert charts.from_stats(pairs, "24h") is None
    chart = charts.from_stats([[1_764_000_000, -3], [1_764_003_600, 2.9]], "24h")
    assert [bar.count for bar in chart.bars] == [0, 2]
    assert charts.from_stats({"not": "a list"}, "30d") is None
