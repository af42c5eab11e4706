"""Who may do what in a team: the rules on the models the views ask (no request involved)."""

from datetime import timedelta

import pytest

from rotation.models import Absence, Handover, Shift, SwapRequest
from rotation.tests.conftest import NOW
from rotation.tests.factories import MembershipFactory, OverrideFactory, ShiftFactory, TeamFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(team, members, manager):
    camille, dominique, sacha = members
    outsider = MembershipFactory(team=TeamFactory(slug="other"), role="manager")
    root = UserFactory(is_superuser=True)
    return camille, dominique, sacha, manager, outsider, root


def may(rule, membership):
    return rule(membership.user, membership)


def test_only_superusers_and_the_team_own_managers_manage_it(team, people):
    camille, _dominique, _sacha, manager, outsider, root = people
    assert team.managed_by(manager.user, manager)
    assert team.managed_by(root, None)
    assert not team.managed_by(camille.user, camille)
    # A manager elsewhere is a stranger here.
    assert not team.managed_by(outsider.user, outsider)
    assert not team.managed_by(camille.user, None)


def test_an_override_is_removed_by_its_two_parties_and_managers(team, people):
    camille, dominique, sacha, manager, outsider, root = people
    override = OverrideFactory(
        membership=sacha, covered=camille, start=NOW, end=NOW + timedelta(days=1)
    )
    assert may(override.removable_by, sacha)
    assert may(override.removable_by, camille)
    assert may(override.removable_by, manager)
    assert override.removable_by(root, None)
    assert not may(override.removable_by, dominique)
    assert not may(override.removable_by, outsider)
    # Nobody covered: a missing covered member does not match a missing membership.
    override.covered = None
    assert not override.removable_by(UserFactory(), None)


def test_a_swap_is_decided_by_the_other_vigie_or_a_manager_never_by_who_asked(team, people):
    camille, dominique, sacha, manager, _outsider, root = people
    first = ShiftFactory(membership=camille, start=NOW, end=NOW + timedelta(days=14))
    second = ShiftFactory(
        membership=dominique, start=NOW + timedelta(days=14), end=NOW + timedelta(days=28)
    )
    swap = SwapRequest(team=team, first=first, second=second, requested_by=camille.user)
    assert may(swap.decidable_by, dominique)
    assert not may(swap.decidable_by, camille)
    assert not may(swap.decidable_by, sacha)
    assert may(swap.decidable_by, manager)
    assert swap.decidable_by(root, None)
    # A manager who asked may still decide: managing is enough.
    swap.requested_by = manager.user
    assert may(swap.decidable_by, manager)


def test_a_watch_is_held_by_its_vigie_only(team, people):
    camille, dominique, *_rest = people
    shift = Shift(team=team, membership=camille, start=NOW, end=NOW + timedelta(days=14))
    assert shift.held_by(camille)
    assert not shift.held_by(dominique)
    assert not shift.held_by(None)


def test_the_outgoing_vigie_writes_the_note_and_the_incoming_acknowledges(team, people):
    camille, dominique, sacha, manager, outsider, root = people
    shift = ShiftFactory(membership=camille, start=NOW - timedelta(days=14), end=NOW)
    handover = Handover(shift=shift, incoming=dominique)
    assert may(handover.editable_by, camille)
    assert not may(handover.editable_by, dominique)
    assert may(handover.acknowledgeable_by, dominique)
    assert not may(handover.acknowledgeable_by, camille)
    for rule in (handover.editable_by, handover.acknowledgeable_by):
        assert may(rule, manager)
        assert rule(root, None)
        assert not may(rule, sacha)
        assert not may(rule, outsider)
    handover.incoming = None
    assert not handover.acknowledgeable_by(UserFactory(), None)


def test_members_declare_their_own_absences_managers_anyone(team, people):
    camille, dominique, _sacha, manager, outsider, root = people
    absence = Absence(membership=camille, start=NOW, end=NOW + timedelta(days=1))
    assert may(absence.declarable_by, camille)
    assert not may(absence.declarable_by, dominique)
    assert may(absence.declarable_by, manager)
    assert absence.declarable_by(root, None)
    assert not may(absence.declarable_by, outsider)
