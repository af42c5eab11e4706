import pytest


class Outbox:
    """The keys of the outbox rows (vigie.models.Notification) the incidents enqueued."""

    def __iter__(self):
        from vigie.models import Notification

        return iter(Notification.objects.values_list("key", flat=True))


@pytest.fixture
def outbox(db):
    return Outbox()
