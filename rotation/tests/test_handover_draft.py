"""The outgoing vigie drafts the handover note during the watch; an empty note is refused."""

import pytest
import time_machine
from django.urls import reverse

from rotation import services
from rotation.models import Handover, Shift
from rotation.tests.conftest import NOW, paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def current(rotation, members):
    """Camille's watch, running at NOW (23 November 10:00 → 7 December 10:00)."""
    return Shift.objects.get(team=rotation, start__lte=NOW, end__gt=NOW)


def _url(shift):
    return reverse("rotation:watch-note", args=["core", shift.pk])


def test_the_vigie_drafts_during_the_watch_and_the_handover_takes_it(client, current, members):
    camille = members[0]
    client.force_login(camille.user)
    mine = client.get(reverse("rotation:my-watches")).content.decode()
    assert _url(current) in mine  # the running watch only: the next ones have not started
    assert mine.count("Préparer la note de passation") == 1
    assert client.get(_url(current)).status_code == 200
    assert client.post(_url(current), {"note": "Relancer **GoodJob** lundi."}).status_code == 302
    current.refresh_from_db()
    assert current.handover_note == "Relancer **GoodJob** lundi."

    with time_machine.travel(paris(2026, 12, 7, 10), tick=False):
        services.create_due_handovers()
    handover = Handover.objects.get(shift=current)
    assert handover.note == "Relancer **GoodJob** lundi."
    # The snapshot still covers the whole watch, frozen at its end.
    assert handover.snapshot["end"] == current.end.isoformat()
    # Once handed over, the handover page is where the note lives.
    assert client.get(_url(current)).url == reverse("rotation:handover", args=["core", handover.pk])


def test_someone_else_cannot_draft_it(client, current, members):
    client.force_login(members[1].user)
    client.post(_url(current), {"note": "pas à moi"})
    current.refresh_from_db()
    assert current.handover_note == ""


@pytest.mark.parametrize("note", ["", "   \n "])
def test_an_empty_note_is_refused_with_a_message(client, current, members, note):
    client.force_login(members[0].user)
    response = client.post(_url(current), {"note": note})
    assert "la note est vide" in response.content.decode()
    with time_machine.travel(paris(2026, 12, 7, 10), tick=False):
        services.create_due_handovers()
        handover = Handover.objects.get(shift=current)
        url = reverse("rotation:handover", args=["core", handover.pk])
        response = client.post(url, {"note": note})
    assert response.status_code == 200
    assert "la note est vide" in response.content.decode()
    handover.refresh_from_db()
    assert handover.note_updated_at is None
