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


@pytest.fixture
def provider(monkeypatch):
    calls = []

    def qualified(team, start, end):
        calls.append((team.slug, start, end))
        return [{"title": "TypeError in checkout", "url": "https://sentry.example.org/1/"}]

    monkeypatch.setattr(registry, "PROVIDERS", {"qualified": qualified})
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


def test_the_snapshot_does_not_follow_later_changes(rotation, provider, monkeypatch):
    with time_machine.travel(FIRST_END, tick=False):
        services.create_due_handovers()
    monkeypatch.setattr(registry, "PROVIDERS", {"qualified": lambda *a: []})
    handover = Handover.objects.get()
    assert handover.snapshot["sections"]["qualified"]["count"] == 1


def test_a_failing_provider_empties_only_its_section(rotation, monkeypatch):
    def broken(team, start, end):
        raise RuntimeError("triage is down")

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


def test_the_handover_task_is_scheduled():
    from vigie.schedules import SCHEDULES

    assert SCHEDULES["rotation.handovers"][0] == "rotation.tasks.handover_tick"
    assert SCHEDULES["rotation.regenerate"][0] == "rotation.tasks.regenerate_rotations"


def test_shifts_never_end_without_their_handover_being_found(rotation):
    # The task looks back a week: a worker down for a day still catches up.
    with time_machine.travel(FIRST_END + timedelta(days=2), tick=False):
        assert services.create_due_handovers() == 1
    assert Shift.objects.filter(handover__isnull=False).count() == 1
