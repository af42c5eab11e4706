from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from rotation import schedule
from rotation.models import Override, Shift
from rotation.tests.conftest import NOW, paris

pytestmark = pytest.mark.django_db


def test_covering_is_half_open(rotation, members):
    handover = paris(2026, 12, 7, 10, 0)
    assert Shift.objects.covering(handover).get().membership == members[1]
    assert (
        Shift.objects.covering(handover - timedelta(microseconds=1)).get().membership == members[0]
    )


def test_now_and_next_from_the_regular_shifts(rotation, members):
    state = schedule.on_watch(rotation, NOW)
    assert state.now.membership == members[0]
    assert state.now.end == paris(2026, 12, 7, 10, 0)
    assert not state.now.is_override
    assert state.next.membership == members[1]
    assert state.next.start == paris(2026, 12, 7, 10, 0)


def test_an_override_wins_and_ends_when_it_ends(rotation, members):
    camille, _, sacha = members
    Override.objects.create(
        team=rotation,
        membership=sacha,
        covered=camille,
        start=paris(2026, 11, 25, 9, 0),
        end=paris(2026, 11, 27, 18, 0),
    )
    state = schedule.on_watch(rotation, NOW)
    assert state.now.membership == sacha
    assert state.now.is_override
    assert state.now.end == paris(2026, 11, 27, 18, 0)
    assert state.next.membership == camille
    assert not schedule.no_one_on_watch(rotation, NOW)


def test_who_is_on_watch_costs_two_queries_whatever_the_history(
    rotation, members, django_assert_num_queries
):
    for weeks in range(2, 60, 2):
        start = paris(2026, 11, 23, 10) - timedelta(weeks=weeks)
        Shift.objects.create(
            team=rotation,
            membership=members[weeks % 3],
            start=start,
            end=start + timedelta(weeks=2),
        )
    # The three watches from now on, then the overrides over them.
    with django_assert_num_queries(2):
        state = schedule.on_watch(rotation, NOW)
        assert state.now.membership.user.first_name == "Camille"
        assert state.next.membership.profile.phone


def test_nobody_on_watch_in_a_hole(team, members):
    Shift.objects.create(
        team=team, membership=members[0], start=paris(2026, 11, 1), end=paris(2026, 11, 2)
    )
    assert schedule.no_one_on_watch(team, paris(2026, 11, 3))
    state = schedule.on_watch(team, paris(2026, 11, 3))
    assert state.now is None and state.next is None
    assert not schedule.no_one_on_watch(team, paris(2026, 11, 1, 12))


def _override(team, member, start, end):
    override = Override(team=team, membership=member, start=start, end=end)
    override.full_clean()
    override.save()
    return override


def test_an_override_ending_before_it_starts_is_refused(rotation, members):
    with pytest.raises(ValidationError, match="se terminer après avoir commencé"):
        _override(rotation, members[2], paris(2026, 11, 28), paris(2026, 11, 27))


@pytest.mark.usefixtures("frozen")
def test_overlapping_overrides_are_refused_with_who_and_when(rotation, members):
    _override(rotation, members[2], paris(2026, 11, 26, 9), paris(2026, 11, 28, 9))
    with pytest.raises(ValidationError, match="chevauche le remplacement de Sacha"):
        _override(rotation, members[1], paris(2026, 11, 27, 9), paris(2026, 11, 29, 9))
    # Back to back is fine: intervals are half-open.
    _override(rotation, members[1], paris(2026, 11, 28, 9), paris(2026, 11, 29, 9))
    assert Override.objects.count() == 2
