import pytest

from tests.factories import UserFactory

# Fake upstream servers, as fixtures every app can use.
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.github", "tests.browser"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def latest_schema_after():
    """For a test that migrates the test database back: every app at its latest migration
    again afterwards, or the next test on this worker meets an old schema."""
    yield
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
