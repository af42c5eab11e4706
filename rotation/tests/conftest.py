from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from rotation import schedule
from rotation.tests.factories import MembershipFactory, TeamFactory
from tests.factories import UserFactory

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# A Wednesday afternoon in Camille's first watch (Monday 23 November 10:00 → 7 December 10:00).
NOW = paris(2026, 11, 25, 15, 0)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def team(db):
    return TeamFactory(slug="core", name="Core")


@pytest.fixture
def members(team):
    """Camille, Dominique, Sacha, in that order (pk order breaks the very first tie)."""
    return [
        MembershipFactory(team=team, user=UserFactory(username=name.lower(), first_name=name))
        for name in ("Camille", "Dominique", "Sacha")
    ]


@pytest.fixture
def manager(team):
    return MembershipFactory(
        team=team, role="manager", user=UserFactory(username="manon", first_name="Manon")
    )


@pytest.fixture
def rotation(team, members):
    """Six months of watches generated at NOW: Camille, Dominique, Sacha, Camille…"""
    with time_machine.travel(NOW, tick=False):
        schedule.generate(team)
    return team
