from datetime import UTC, datetime, timedelta

import factory

from rotation.tests.factories import TeamFactory
from tests.factories import UserFactory
from triage.models import Action, Item, Source
from triage.sources.base import SourceBackend
from triage.sources.demo import DemoBackend


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ["name"]

    kind = "demo"
    name = factory.Sequence(lambda n: f"source-{n}")
    team = factory.SubFactory(TeamFactory)
    github_repository = "acme/app"
    state = Source.State.OK


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    source = factory.SubFactory(SourceFactory)
    external_id = factory.Sequence(lambda n: str(4_000_000 + n))
    short_id = factory.Sequence(lambda n: f"APP-{n + 1:X}")
    title = factory.Sequence(lambda n: f"ZeroDivisionError: division by zero ({n})")
    origin = "app.views.invoice_total"
    level = "error"
    environment = "production"
    upstream_status = "unresolved"
    first_seen = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    last_seen = factory.Sequence(
        lambda n: datetime(2026, 11, 23, 11, 0, tzinfo=UTC) - timedelta(minutes=n)
    )
    tally = 42
    user_count = 7
    permalink = factory.LazyAttribute(lambda i: f"https://sentry.example/issues/{i.external_id}/")
    recent_counts = factory.LazyFunction(lambda: [0, 1, 3, 2, 8, 5])
    payload = factory.LazyFunction(
        lambda: {
            "release": "app@1.4.2",
            "tags": {"browser": "Firefox 133", "server_name": "web-1"},
            "frames": [
                {
                    "filename": "app/views.py",
                    "lineno": 42,
                    "function": "invoice_total",
                    "context_line": "return total / count",
                },
            ],
        }
    )


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    item = factory.SubFactory(ItemFactory)
    user = factory.SubFactory(UserFactory)
    action = "temporary"
    params = factory.LazyFunction(lambda: {"ignoreCount": 1})
    upstream_ok = True


class FlakyBackend(DemoBackend):
    """The demo backend with knobs, registered as kind "demo" by the `flaky_backend` fixture:
    fail the next writes, confirm another status than asked (Sentry's silent bulk update)."""

    # It stands for a real upstream: Bug goes to GitHub, messages name it.
    demo = False
    issue_tracker = SourceBackend.issue_tracker
    calls = []
    fail = None  # a SourceError raised by every write while set
    comment_fail = None  # a SourceError raised by comment() while set
    confirm = None  # the status the read-back reports, instead of the one asked

    def set_status(self, item, status, details=None):
        type(self).calls.append(("set_status", item.external_id, status, details))
        if self.fail:
            raise self.fail
        state = super().set_status(item, status, details)
        if self.confirm:
            state.status = self.confirm
        return state

    def comment(self, item, text, *, retrying=False):
        type(self).calls.append(("comment", item.external_id, text))
        if self.comment_fail:
            raise self.comment_fail
        return super().comment(item, text, retrying=retrying)

    @classmethod
    def reset(cls):
        cls.calls, cls.fail, cls.comment_fail, cls.confirm = [], None, None, None
