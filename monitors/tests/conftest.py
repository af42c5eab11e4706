import pytest

from monitors.tests.fake_webhook import FakeWebhookServer


@pytest.fixture
def webhook_server():
    with FakeWebhookServer() as server:
        yield server


import importlib.util  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class _Destination:
    kind: str
    config: dict = field(hash=False)
    label: str = ""


@dataclass
class _Message:
    subject: str
    text: str = ""
    url: str = ""
    severity: str = "info"
    event: str = "trigger"
    dedup_key: str = ""


@pytest.fixture
def outbox(monkeypatch):
    """What the incidents enqueue, keyed like the outbox: `{key: (destination, message)}`.

    Until branch `notify` is merged, a test double of `vigie.notify` stands in for it (the
    state-machine tests only); once it is, the real outbox rows are read back."""
    if importlib.util.find_spec("vigie.notify") is not None:
        from vigie.models import Notification

        class Real:
            def keys(self):
                return list(Notification.objects.values_list("key", flat=True))

        yield Real()
        return
    sent = {}

    def enqueue(destination, message, *, key, group=""):
        sent.setdefault(key, (destination, message, group))
        return sent[key]

    module = types.ModuleType("vigie.notify")
    module.Destination, module.Message, module.enqueue = _Destination, _Message, enqueue
    module.TEAM_DESTINATIONS = []
    monkeypatch.setitem(sys.modules, "vigie.notify", module)
    monkeypatch.setattr("monitors.models.Incident._tell_pagerduty", lambda self, e, at: None)
    yield sent
