"""One definition of "to qualify": the board's default list, its metric and the handover agree."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from rotation import handover
from triage.health import source_gauges
from triage.models import Item
from triage.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)


def test_the_board_the_metric_and_the_handover_count_the_same_items(member_client, source):
    ItemFactory(source=source)  # waiting
    ItemFactory(source=source, qualification=Item.Qualification.TEMPORARY, came_back=True)
    ItemFactory(source=source, upstream_status="closed")  # closed on GitHub: nobody's job
    ItemFactory(source=source, qualification=Item.Qualification.BUG)

    board = member_client.get(reverse("triage:board")).context["page"].paginator.count
    gauges = {family.name: family for family in source_gauges()}
    metric = gauges["vigie_source_unqualified_items"].samples[0].value
    sections = handover.build_snapshot(source.team, START, START + timedelta(days=7))["sections"]

    assert board == metric == sections["unqualified"]["count"] == 2
    assert Item.objects.to_qualify().count() == 2
