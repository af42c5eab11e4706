from datetime import timedelta
from itertools import pairwise

import pytest
import time_machine

from rotation import schedule, services
from rotation.models import Absence, Shift
from rotation.tests.conftest import paris
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _names(team):
    return [s.membership.user.first_name for s in Shift.objects.filter(team=team).order_by("start")]


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_round_robin_starts_at_the_last_handover_and_covers_six_months(team, members):
    result = schedule.generate(team)
    shifts = list(Shift.objects.filter(team=team).order_by("start"))
    assert shifts[0].start == paris(2026, 11, 23, 10, 0)  # the Monday before, 10:00
    assert shifts[-1].end >= paris(2027, 5, 26, 15, 0)
    assert result.created == len(shifts) == 14
    assert _names(team)[:6] == ["Camille", "Dominique", "Sacha"] * 2
    for before, after in pairwise(shifts):
        assert before.end == after.start


@time_machine.travel(paris(2026, 10, 14, 12, 0), tick=False)
def test_handover_stays_at_ten_local_across_daylight_saving(team, members):
    schedule.generate(team)
    over_october = Shift.objects.get(team=team, start=paris(2026, 10, 12, 10, 0))
    # Clocks go back on 25 October: that watch is 14 days and 1 hour long.
    assert over_october.end == paris(2026, 10, 26, 10, 0)
    assert over_october.duration == timedelta(days=14, hours=1)
    over_march = Shift.objects.get(team=team, start=paris(2027, 3, 15, 10, 0))
    assert over_march.duration == timedelta(days=14, hours=-1)
    for shift in Shift.objects.filter(team=team):
        local = team.local(shift.start)
        assert (local.weekday(), local.hour, local.minute) == (0, 10, 0)


def test_regeneration_never_rewrites_past_or_current_watches(team, members):
    with time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False):
        schedule.generate(team)
    before = {(s.start, s.membership_id) for s in Shift.objects.filter(team=team)}
    # A month later, Camille leaves for good: only the future changes.
    with time_machine.travel(paris(2026, 12, 28, 9, 0), tick=False) as traveller:
        camille = members[0]
        camille.left_on = paris(2026, 12, 28, 9, 0).date()
        camille.save()
        traveller.shift(timedelta(hours=2))  # 11:00: Dominique's watch started at 10:00
        schedule.generate(team)
        now = paris(2026, 12, 28, 11, 0)
        after = {(s.start, s.membership_id) for s in Shift.objects.filter(team=team)}
        kept = {row for row in before if row[0] < now}
        assert kept <= after
        assert not Shift.objects.filter(team=team, membership=camille, start__gte=now).exists()


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_least_watch_time_first_then_longest_since_last_watch(team, members):
    camille, dominique, sacha = members
    # Sacha already did two watches, Camille one: Dominique, then Camille, then...
    for member, start in (
        (sacha, (2026, 9, 28)),
        (sacha, (2026, 10, 12)),
        (camille, (2026, 10, 26)),
    ):
        s = paris(*start, 10, 0)
        Shift.objects.create(team=team, membership=member, start=s, end=team.watch_end(s))
    Shift.objects.create(
        team=team, membership=dominique, start=paris(2026, 11, 9, 10), end=paris(2026, 11, 23, 10)
    )
    schedule.generate(team)
    upcoming = _names(team)[4:9]
    assert upcoming == ["Camille", "Dominique", "Camille", "Dominique", "Sacha"]


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_skips_members_absent_more_than_half_of_the_watch(team, members):
    camille = members[0]
    Absence.objects.create(
        membership=camille, start=paris(2026, 11, 20, 0, 0), end=paris(2026, 12, 2, 0, 0)
    )
    schedule.generate(team)
    assert _names(team)[0] == "Dominique"
    assert "Camille" in _names(team)[1:3]


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_a_team_with_no_active_member_gets_no_watch_and_says_so(team):
    MembershipFactory(team=team, left_on=paris(2026, 11, 1, 0, 0).date())
    result = schedule.generate(team)
    assert result.created == 0
    assert result.skipped_slots > 0
    assert "sans personne de disponible" in str(result)
    assert schedule.no_one_on_watch(team)


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_a_newcomer_starts_level_instead_of_taking_every_watch(team, members):
    schedule.generate(team)
    with time_machine.travel(paris(2027, 3, 3, 15, 0), tick=False):
        MembershipFactory(team=team, user=UserFactory(username="noa", first_name="Noa"))
        schedule.generate(team)
        future = _names(team)[-8:]
    assert future.count("Noa") <= 3


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_a_swap_survives_the_daily_regeneration(team, members):
    schedule.generate(team)
    first, second = Shift.objects.filter(team=team, start__gt=paris(2026, 11, 25)).order_by(
        "start"
    )[:2]
    services.swap_shifts(first, second)
    swapped = _names(team)[1:3]
    assert swapped == ["Sacha", "Dominique"]
    schedule.generate(team)
    assert _names(team)[1:3] == swapped
    assert Shift.objects.filter(team=team).count() == 14


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_swap_refuses_started_watches(team, members):
    schedule.generate(team)
    current, upcoming = Shift.objects.filter(team=team).order_by("start")[:2]
    with pytest.raises(services.RotationError, match="pas encore commencées"):
        services.swap_shifts(current, upcoming)


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_a_member_removed_mid_watch_is_replaced_for_the_rest_of_it(team, members):
    schedule.generate(team)
    camille = members[0]
    current = Shift.objects.get(team=team, start=paris(2026, 11, 23, 10))
    assert current.membership == camille
    services.leave_team(camille)
    current.refresh_from_db()
    assert current.end == paris(2026, 11, 25, 15, 0)  # her part stays in the history
    state = schedule.on_watch(team)
    assert state.now.membership != camille
    assert state.now.end == paris(2026, 12, 7, 10, 0)
    assert not Shift.objects.filter(membership=camille, end__gt=paris(2026, 11, 25, 15)).exists()


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_a_team_with_watches_can_still_be_deleted(team, members):
    schedule.generate(team)
    team.delete()
    assert not Shift.objects.exists()


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_the_daily_task_regenerates_every_team(team, members):
    from rotation.tasks import regenerate_rotations

    regenerate_rotations()
    assert Shift.objects.filter(team=team).count() == 14
