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
