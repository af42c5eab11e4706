"""A member removed from the rotation leaves no override or pending swap behind."""

from datetime import timedelta

import pytest
from django.urls import reverse

from rotation import services
from rotation.models import Override, Shift, SwapRequest
from rotation.tests.conftest import NOW, paris
from vigie.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def _override(team, membership, covered, start, end):
    return Override.objects.create(
        team=team, membership=membership, covered=covered, start=start, end=end
    )


def test_their_overrides_end_now_and_future_ones_go(rotation, members):
    camille, dominique, sacha = members
    running = _override(rotation, sacha, camille, NOW - timedelta(hours=3), NOW + timedelta(days=1))
    covering = _override(rotation, sacha, dominique, paris(2026, 12, 8, 10), paris(2026, 12, 9, 10))
    covered = _override(rotation, camille, sacha, paris(2026, 12, 22, 10), paris(2026, 12, 23, 10))
    untouched = _override(
        rotation, camille, dominique, paris(2026, 12, 10, 10), paris(2026, 12, 11, 10)
    )
    departure = services.leave_team(sacha)
    assert departure.overrides_ended == 3
    running.refresh_from_db()
    assert running.end == NOW  # what already happened stays
    assert not Override.objects.filter(pk__in=[covering.pk, covered.pk]).exists()
    assert Override.objects.filter(pk=untouched.pk).exists()
    assert not Override.objects.filter(membership=sacha, end__gt=NOW).exists()


def test_pending_swaps_on_their_watches_are_cancelled_and_the_author_told(rotation, members):
    _camille, dominique, sacha = members
    mine, theirs = Shift.objects.filter(
        team=rotation, start__gt=NOW, membership__in=[dominique, sacha]
    ).order_by("start")[:2]
    swap = services.request_swap(mine, theirs, mine.membership.user, now=NOW)
    assert (mine.membership, theirs.membership) == (dominique, sacha)
    leaving = sacha
    departure = services.leave_team(leaving)
    assert departure.swaps_cancelled == 1
    swap.refresh_from_db()
    # Still on record, no longer pending, whatever became of its watches.
    assert swap.state == SwapRequest.State.CANCELLED
    assert not Shift.objects.filter(membership=leaving, start__gt=NOW).exists()
    notice = Notification.objects.get(key=f"swap:{swap.pk}:cancelled")
    assert notice.config == {"to": dominique.user.email}
    assert "annulée" in notice.subject and leaving.short_name in notice.subject


def test_the_page_says_what_removing_ended(client, rotation, members, manager):
    camille, _dominique, sacha = members
    _override(rotation, sacha, camille, paris(2026, 12, 1, 10), paris(2026, 12, 2, 10))
    client.force_login(manager.user)
    url = reverse("rotation:remove-member", args=["core", sacha.pk])
    page = client.post(url, follow=True).content.decode()
    assert "1 remplacement terminé" in page
