"""An incident's notifications, delivered or given up by the outbox, land on its timeline."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from monitors.models import Channel, Incident, IncidentEvent
from monitors.tests.helpers import FAIL, T0, make_check, make_team
from tests.factories import UserFactory
from vigie.models import Notification
from vigie.notify import Destination, Message, enqueue
from vigie.notify.outbox import deliver_due, settled

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(monkeypatch, webhook_server):
    team = make_team()
    person = UserFactory(username="camille", first_name="Camille", last_name="X")
    chain = [{"order": 1, "label": "L1", "delay_minutes": 0, "user_id": person.pk, "name": "c"}]
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: chain)
    for name, path in (("refuse", "/gone"), ("panne", "/broken")):
        Channel.objects.create(
            team=team, kind="slack", name=name, url=f"{webhook_server.url}{path}"
        )
    with time_machine.travel(T0, tick=False):
        make_check(team, alert_after=1).record(FAIL, T0)
    return Incident.objects.get()


def events(incident, kind):
    return [(e.text.split(" ")[0], e.data) for e in incident.events.filter(kind=kind)]


def test_sent_permanent_and_given_up_notifications_on_the_timeline(incident, user_client):
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        deliver_due()
    # The email to Camille went out: its "notified" event is marked sent, not written twice.
    notified = events(incident, IncidentEvent.Kind.NOTIFIED)
    assert sorted(label for label, _data in notified) == ["Camille", "panne", "refuse"]
    assert [data.get("sent") for label, data in notified if label == "Camille"] == [True]
    assert [label for label, data in notified if data.get("sent")] == ["Camille"]
    # 404 is permanent: failed at once, with the reason.
    failed = events(incident, IncidentEvent.Kind.NOTIFY_FAILED)
    assert [label for label, _data in failed] == ["refuse"]
    assert "404" in failed[0][1]["reason"]

    # 500 is retried until the give-up deadline, then failed with why.
    with time_machine.travel(T0 + timedelta(hours=24, seconds=1), tick=False):
        deliver_due()
    assert Notification.objects.get(label__startswith="panne").state == "failed"
    failed = events(incident, IncidentEvent.Kind.NOTIFY_FAILED)
    assert [label for label, _data in failed] == ["refuse", "panne"]
    assert failed[1][1]["reason"].startswith("gave up after 24 h")

    body = user_client.get(
        reverse("monitors:incident", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "notification échouée: refuse" in body
    assert "gave up after 24 h" in body
    assert "envoyée" in body


def test_a_notification_without_event_is_written_once_sent(incident, webhook_server):
    dest = Destination("slack", {"url": f"{webhook_server.url}/ok"}, label="pd-like")
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        enqueue(dest, Message(subject="ack", severity="info"), key="extra", group=incident.group)
        deliver_due()
    assert [data["sent"] for label, data in events(incident, "notified") if label == "pd-like"] == [
        True
    ]


def test_other_groups_and_a_broken_receiver_never_stop_the_outbox(webhook_server):
    def broken(sender, **kwargs):
        raise RuntimeError("boom")

    settled.connect(broken)
    try:
        dest = Destination("slack", {"url": f"{webhook_server.url}/ok"}, label="#x")
        enqueue(dest, Message(subject="handover", severity="info"), key="a", group="handover:3")
        enqueue(dest, Message(subject="other", severity="info"), key="b", group="incident:999")
        assert deliver_due() == 2
    finally:
        settled.disconnect(broken)
    assert IncidentEvent.objects.count() == 0
