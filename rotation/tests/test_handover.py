from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from rotation import handover as registry
from rotation import services
from rotation.models import Handover, Shift
from rotation.tests.conftest import paris
from tests.fakes.webhook import FakeWebhookServer
from vigie import notify
from vigie.notify.outbox import deliver_due

pytestmark = pytest.mark.django_db

FIRST_END = paris(2026, 12, 7, 10, 0)


class Calls(list):
    """The provider's calls, and the rows it answers with (`upstream`, changeable)."""

    upstream = ()


# What the upstream app holds when the provider is asked; a test may change it afterwards.
UPSTREAM = [{"title": "TypeError in checkout", "url": "https://sentry.example.org/1/"}]


@pytest.fixture
def provider(monkeypatch):
    calls = Calls()
    upstream = [dict(row) for row in UPSTREAM]

    def qualified(team, start, end):
        calls.append((team.slug, start, end))
        return [dict(row) for row in upstream]

    monkeypatch.setattr(registry, "PROVIDERS", {"qualified": qualified})
    calls.upstream = upstream
    return calls


@pytest.fixture
def webhook():
    with FakeWebhookServer() as server:
        yield server


# The team's destinations, as an app registers them in vigie.notify.TEAM_DESTINATIONS.
CHANNELS = []


def team_channels(team, severity):
    return list(CHANNELS)


@pytest.fixture
def channels(monkeypatch):
    monkeypatch.setattr(notify, "TEAM_DESTINATIONS", [f"{__name__}.team_channels"])
    monkeypatch.setattr(f"{__name__}.CHANNELS", [])
    return CHANNELS


EMAIL = notify.Destination("email", {"to": "tech@example.org"}, label="tech")


def test_a_watch_that_ended_gets_one_frozen_handover_and_a_notification(
    rotation, members, provider, webhook, channels
):
    channels.append(notify.Destination("slack", {"url": f"{webhook.url}/h"}, label="#vigie"))
    channels.append(EMAIL)
    with time_machine.travel(FIRST_END + timedelta(minutes=3), tick=False):
        assert services.create_due_handovers() == 1
        assert services.create_due_handovers() == 0
        # Enqueued in the outbox, nothing sent inline; the worker's round delivers both.
        assert webhook.posts == [] and mail.outbox == []
        assert deliver_due() == 2
    handover = Handover.objects.get()
    assert handover.shift.membership == members[0]
    assert handover.incoming == members[1]
    assert provider == [("core", paris(2026, 11, 23, 10), FIRST_END)]
    sections = handover.snapshot["sections"]
    assert sections["qualified"]["count"] == 1
    assert sections["bugs"] == {"data": [], "count": 0, "error": ""}
    text = "Dominique prend la vigie jusqu'au lundi 21 décembre 10:00"
    assert text in webhook.posts[0]["json"]["text"]
    assert mail.outbox[0].subject == text
    assert Handover.objects.get().notified_at is not None


def test_the_snapshot_does_not_follow_later_changes(client, rotation, members, provider):
    with time_machine.travel(FIRST_END, tick=False):
        services.create_due_handovers()
    # Upstream, the item is renamed and a second one appears after the watch.
    provider.upstream[0]["title"] = "Renamed since"
    provider.upstream.append({"title": "Opened the next day"})
    handover = Handover.objects.get()
    client.force_login(members[1].user)
    page = client.get(reverse("rotation:handover", args=["core", handover.pk])).content.decode()
    assert "TypeError in checkout" in page
    assert "Renamed since" not in page and "Opened the next day" not in page
    assert len(provider) == 1  # shown from the snapshot: the provider is not asked again


def test_a_failing_provider_empties_only_its_section(rotation, monkeypatch):
    def broken(team, start, end):
        raise RuntimeError("triage is down")

    monkeypatch.setitem(registry.SECTIONS, "alerts", "Alerts")
    monkeypatch.setattr(registry, "PROVIDERS", {"bugs": broken, "alerts": lambda *a: {"count": 2}})
    with time_machine.travel(FIRST_END, tick=False):
        services.create_due_handovers()
    sections = Handover.objects.get().snapshot["sections"]
    assert "triage is down" in sections["bugs"]["error"]
    assert sections["alerts"]["count"] == 2


def test_reminder_after_24_hours_once(rotation, provider, channels):
    channels.append(EMAIL)
    with time_machine.travel(FIRST_END, tick=False):
        services.create_due_handovers()
        deliver_due()
    mail.outbox.clear()
    with time_machine.travel(FIRST_END + timedelta(hours=23), tick=False):
        assert services.remind_unacknowledged() == 0
    with time_machine.travel(FIRST_END + timedelta(hours=25), tick=False):
        assert services.remind_unacknowledged() == 1
        assert services.remind_unacknowledged() == 0
        assert deliver_due() == 1
    assert mail.outbox[0].subject == "Rappel : Dominique n'a pas encore lu la passation"


def test_note_is_markdown_sanitised_and_only_incoming_acknowledges(client, rotation, members):
    with time_machine.travel(FIRST_END, tick=False):
        services.create_due_handovers()
    handover = Handover.objects.get()
    url = reverse("rotation:handover", args=["core", handover.pk])
    client.force_login(members[0].user)
    note = "**Sentry** calme.\n\n<script>alert(1)</script><a href='javascript:x()'>clic</a>"
    assert client.post(url, {"note": note}).status_code == 302
    page = client.get(url).content.decode()
    rendered = page.split('<div class="note">')[1].split("</div>")[0]
    assert "<strong>Sentry</strong>" in rendered
    assert "<script" not in rendered
    assert "javascript:" not in rendered
    ack = reverse("rotation:acknowledge-handover", args=["core", handover.pk])
    client.post(ack)
    handover.refresh_from_db()
    assert handover.acknowledged_at is None  # Camille is the outgoing vigie
    client.force_login(members[1].user)
    client.post(ack)
    handover.refresh_from_db()
    assert handover.acknowledged_by == members[1].user
    assert handover.acknowledgement_delay is not None


def test_the_scheduled_tasks_run_handovers_reminders_and_generation(rotation, provider, channels):
    from django.utils.module_loading import import_string

    from vigie.schedules import SCHEDULES

    channels.append(EMAIL)
    handovers = import_string(SCHEDULES["rotation.handovers"][0])
    with time_machine.travel(FIRST_END + timedelta(minutes=3), tick=False):
        handovers()
        deliver_due()
    assert Handover.objects.count() == 1
    assert [m.subject for m in mail.outbox] == [
        "Dominique prend la vigie jusqu'au lundi 21 décembre 10:00"
    ]
    with time_machine.travel(FIRST_END + timedelta(hours=25), tick=False):
        handovers()
        deliver_due()
    assert mail.outbox[-1].subject == "Rappel : Dominique n'a pas encore lu la passation"

    later = FIRST_END + timedelta(days=200)  # past the six generated months
    with time_machine.travel(later, tick=False):
        assert not Shift.objects.filter(team=rotation).covering(later).exists()
        import_string(SCHEDULES["rotation.regenerate"][0])()
        assert Shift.objects.filter(team=rotation).covering(later).exists()


def test_shifts_never_end_without_their_handover_being_found(rotation):
    # The task looks back a week: a worker down for a day still catches up.
    with time_machine.travel(FIRST_END + timedelta(days=2), tick=False):
        assert services.create_due_handovers() == 1
    assert Shift.objects.filter(handover__isnull=False).count() == 1
