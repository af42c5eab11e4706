import pytest

from monitors.tests.fake_webhook import FakeWebhookServer


@pytest.fixture
def webhook_server():
    with FakeWebhookServer() as server:
        yield server
