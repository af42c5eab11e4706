from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitors.models import Check, Incident
from monitors.tests.helpers import FAIL, T0, make_check
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return [
        UserFactory(username=name, first_name=name, last_name="X")
        for name in ("camille", "dominique", "emma")
    ]


def chain(people, first=True):
    levels = [(1, 0, people[0] if first else None), (2, 15, people[1]), (3, 30, people[2])]
    return [
        {
            "order": order,
            "label": f"L{order}",
            "delay_minutes": delay,
            "user_id": user.pk if user else None,
            "name": user.username if user else "",
            "phone": "",
            "chat_handle": "",
        }
        for order, delay, user in levels
    ]


def open_incident(monkeypatch, levels, **check_fields):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: levels)
    check = make_check(alert_after=1, **check_fields)
    check.record(FAIL, T0)
    return Incident.objects.get()


def paged(outbox, incident):
    """The users paged, per (level, round), from the outbox keys."""
    found = set()
    for key in outbox:
        parts = key.split(":")
        if parts[:2] == ["incident", str(incident.pk)] and parts[2].startswith("L"):
            found.add((parts[2], int(parts[3]), parts[5].split(" ")[0]))
    return found


def test_l1_at_once_l2_at_15_l3_at_30(monkeypatch, outbox, people):
    incident = open_incident(monkeypatch, chain(people))
    assert incident.escalation == chain(people)  # frozen at open
    assert paged(outbox, incident) == {("L1", 0, "camille")}
    for minutes, expected in ((14, 1), (15, 2), (29, 2), (30, 3)):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            Incident.objects.escalate_due(timezone.now())
        incident.refresh_from_db()
        assert incident.current_level == expected, minutes
    assert paged(outbox, incident) == {
        ("L1", 0, "camille"),
        ("L2", 0, "dominique"),
        ("L3", 0, "emma"),
    }
    assert [e.kind for e in incident.events.all()].count("escalated") == 2


def test_acknowledged_stops_escalating(monkeypatch, outbox, people):
    incident = open_incident(monkeypatch, chain(people))
    assert incident.acknowledge(people[0], Incident.How.HAND, T0 + timedelta(minutes=3))
    Incident.objects.escalate_due(T0 + timedelta(hours=2))
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert paged(outbox, incident) == {("L1", 0, "camille")}
    assert not incident.acknowledge(people[1], Incident.How.HAND)  # already acknowledged


def test_unacknowledged_renotifies_its_level_every_30_minutes(monkeypatch, outbox, people):
    incident = open_incident(monkeypatch, chain(people)[:1])
    Incident.objects.escalate_due(T0 + timedelta(minutes=29))
    assert paged(outbox, incident) == {("L1", 0, "camille")}
    Incident.objects.escalate_due(T0 + timedelta(minutes=30))
    Incident.objects.escalate_due(T0 + timedelta(minutes=31))
    assert paged(outbox, incident) == {("L1", 0, "camille"), ("L1", 1, "camille")}
    Incident.objects.escalate_due(T0 + timedelta(minutes=60))
    assert ("L1", 2, "camille") in paged(outbox, incident)


def test_the_renotify_period_is_a_setting(monkeypatch, outbox, people, settings):
    settings.MONITORS_RENOTIFY_MINUTES = 5
    incident = open_incident(monkeypatch, chain(people)[:1])
    Incident.objects.escalate_due(T0 + timedelta(minutes=4))
    assert paged(outbox, incident) == {("L1", 0, "camille")}
    Incident.objects.escalate_due(T0 + timedelta(minutes=5))
    assert paged(outbox, incident) == {("L1", 0, "camille"), ("L1", 1, "camille")}


def test_nobody_on_watch_pages_l2_at_once(monkeypatch, outbox, people):
    incident = open_incident(monkeypatch, chain(people, first=False))
    assert incident.current_level == 2
    assert paged(outbox, incident) == {("L2", 0, "dominique")}
    Incident.objects.escalate_due(T0 + timedelta(minutes=30))
    incident.refresh_from_db()
    assert incident.current_level == 3


def test_warning_pages_nobody_and_statuspage_never_pages_a_person(monkeypatch, outbox, people):
    warning = open_incident(monkeypatch, chain(people), severity=Check.Severity.WARNING)
    assert paged(outbox, warning) == set()
    Incident.objects.all().delete()
    status = open_incident(
        monkeypatch,
        chain(people),
        name="sentry",
        kind=Check.Kind.STATUSPAGE,
        config={"url": "http://127.0.0.1:9"},
    )
    assert status.severity == Check.Severity.WARNING
    assert paged(outbox, status) == set()


def test_each_notification_is_enqueued_once(monkeypatch, outbox, people):
    incident = open_incident(monkeypatch, chain(people))
    Incident.objects.escalate_due(T0 + timedelta(minutes=15))
    Incident.objects.escalate_due(T0 + timedelta(minutes=15))
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert len(paged(outbox, incident)) == 2


def test_one_incident_failing_does_not_stop_the_others(monkeypatch, outbox, people):
    first = open_incident(monkeypatch, chain(people))
    second_check = make_check(name="other", alert_after=1)
    second_check.record(FAIL, T0)
    second = Incident.objects.exclude(pk=first.pk).get()
    original = Incident.escalate_due

    def flaky(self, now):
        if self.pk == first.pk:
            raise RuntimeError("boom")
        return original(self, now)

    monkeypatch.setattr(Incident, "escalate_due", flaky)
    assert Incident.objects.escalate_due(T0 + timedelta(minutes=15)) == 1
    second.refresh_from_db()
    assert second.current_level == 2
