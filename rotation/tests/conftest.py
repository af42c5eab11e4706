from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from rotation.tests.factories import MembershipFactory, TeamFactory
from tests.factories import UserFactory

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


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
