import re
from datetime import timedelta

import pytest
from django.urls import reverse

from rotation.models import Handover, Shift
from rotation.tests.conftest import paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def page(client, team, members, manager):
    start = paris(2026, 11, 9, 10)
    shift = Shift.objects.create(
        team=team, membership=members[0], start=start, end=start + timedelta(days=14)
    )
    Handover.objects.create(
        shift=shift,
        incoming=members[1],
        created_at=shift.end,
        note="Semaine calme côté **Sentry** ; voir `/rdv` & co",
        acknowledged_by=manager.user,
        acknowledged_at=shift.end + timedelta(hours=2, minutes=24),
    )
    client.force_login(manager.user)
    return client.get(reverse("rotation:team-history", args=["core"])).content.decode()


def test_the_note_excerpt_is_text_not_markdown(page):
    assert "Semaine calme côté Sentry ; voir /rdv &amp; co" in page
    assert "**" not in page


def test_one_column_is_titled_vigie_and_the_snapshot_says_what_it_is(page):
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert re.findall(r"<th>([^<]*)</th>", head) == [
        "Dates",
        "Vigie",
        "Note",
        "Pendant la vigie",
        "Lue",
        "",
    ]
    # A handover whose sections are all empty says so, rather than a dash.
    assert "rien à signaler" in page


def test_the_acknowledgement_delay_has_a_french_decimal_comma(page):
    assert "après 0,1 j" in page
