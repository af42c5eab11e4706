import pytest

from tests.factories import UserFactory

pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client
