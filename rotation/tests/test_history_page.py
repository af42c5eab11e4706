import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from rotation import demo
from rotation.models import Handover, Shift
from rotation.templatetags.rotation import days
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


@pytest.mark.parametrize(
    ("delay", "french", "english"),
    [
        # Rounded, not truncated: two hours are a tenth of a day, not "0,0 j".
        (timedelta(hours=2), "0,1", "0.1"),
        (timedelta(hours=36), "1,5", "1.5"),
        (timedelta(minutes=10), "0,0", "0.0"),
    ],
)
def test_the_delay_in_days_is_rounded_and_written_the_language_s_way(delay, french, english):
    with translation.override("fr"):
        assert days(delay) == french
    with translation.override("en"):
        assert days(delay) == english


def test_the_demo_history_and_handover_read_right_in_french(client, settings):
    demo.load()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.force_login(Handover.objects.get(acknowledged_at__isnull=False).incoming.user)
    history = client.get(reverse("rotation:team-history", args=["demo"])).content.decode()
    head = history[history.index("<thead>") : history.index("</thead>")]
    assert re.findall(r"<th>([^<]*)</th>", head).count("Vigie") == 1
    assert "Instantané" not in history and "**" not in history
    # The demo's note was acknowledged two hours after its watch ended.
    assert "après 0,1 j" in history
    acknowledged = Handover.objects.get(acknowledged_at__isnull=False)
    page = client.get(reverse("rotation:handover", args=["demo", acknowledged.pk])).content.decode()
    assert "<strong>Sentry</strong>" in page  # the note as HTML, not raw Markdown
    assert "Relevé établi le lundi" in page and "il ne change plus" in page
    assert "Instantané" not in page
