import pytest
from django.core.cache import cache

from rotation.tests.factories import MembershipFactory, TeamFactory
from triage.sources import REGISTRY
from triage.tests.factories import FlakyBackend, ItemFactory, SourceFactory


@pytest.fixture(autouse=True)
def empty_cache():
    """The detail panel caches what it read per item pk, and pks come back in each test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def flaky_backend(monkeypatch):
    FlakyBackend.reset()
    monkeypatch.setitem(REGISTRY, "demo", "triage.tests.factories.FlakyBackend")
    yield FlakyBackend
    FlakyBackend.reset()


@pytest.fixture
def source(db):
    return SourceFactory(name="prod")


@pytest.fixture
def member(source, user):
    MembershipFactory(team=source.team, user=user)
    return user


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def item(source):
    return ItemFactory(source=source)


@pytest.fixture
def team(sentry_source):
    """A team for the fake Sentry's source (`sentry_source` comes without one): its rules
    apply to that source."""
    sentry_source.team = TeamFactory()
    sentry_source.save()
    return sentry_source.team
