"""Fixtures for the fake upstream servers; the root conftest.py loads this module."""

import pytest

from tests.fakes.sentry import FakeSentry

SENTRY_TOKEN_ENV = "VIGIE_TEST_SENTRY_TOKEN"


@pytest.fixture
def fake_sentry():
    """A fake Sentry on loopback (organisation "acme", projects 74 and 75), empty."""
    fake = FakeSentry().start()
    yield fake
    fake.stop()


@pytest.fixture
def sentry_source(db, fake_sentry, monkeypatch):
    """A Source pointing at the fake, its token read from an environment variable."""
    from triage.models import Source

    monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)
    return Source.objects.create(
        kind="sentry",
        name="prod",
        base_url=fake_sentry.url,
        organization=fake_sentry.org,
        scopes=["74"],
        environment="production",
        secret_env=SENTRY_TOKEN_ENV,
        github_repository="betagouv/rdv-service-public",
    )


@pytest.fixture
def webhook_server():
    """A loopback receiver for the notification transports."""
    from tests.fakes.webhook import FakeWebhookServer

    with FakeWebhookServer() as server:
        yield server
