"""What an incident tells after its page: acknowledgement and resolution through the outbox,
escalations that say so and never page one person twice, a webhook body a receiver can use."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from monitors.models import Channel, Incident
from monitors.tests.helpers import FAIL, OK, T0, make_check, make_team
from rotation.models import Profile
from tests.factories import UserFactory
from vigie.models import Notification
from vigie.notify.outbox import deliver_due

pytestmark = pytest.mark.django_db


def level(order, delay, user, label):
    return {
        "order": order, "label": label, "delay_minutes": delay, "user_id": user.pk,
        "name": user.username, "phone": "", "chat_handle": "",
    }  # fmt: skip


@pytest.fixture
def camille():
    user = UserFactory(username="camille", first_name="Camille", last_name="X")
    user.email = "camille@example.org"
    user.save()
    return user


@pytest.fixture
def team(webhook_server, camille):
    team = make_team()
    Channel.objects.create(team=team, kind="slack", name="alertes", url=f"{webhook_server.url}/s")
    Channel.objects.create(
        team=team, kind="webhook", name="hook", url=f"{webhook_server.url}/w", secret="s3"
    )
    Profile.of(camille)
    Profile.objects.filter(user=camille).update(ntfy_topic=f"{webhook_server.url}/ntfy")
    return team


def chain(monkeypatch, levels):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: levels)


def posts(server, path, event=None):
    found = [p for p in server.posts if p["path"] == path]
    if path == "/w" and event:
        found = [p for p in found if p["json"]["event"] == event]
    return found


def test_resolution_reaches_the_channels_and_the_people_paged_once(
    team, camille, webhook_server, monkeypatch
):
    chain(monkeypatch, [level(1, 0, camille, "Vigie")])
    check = make_check(team, alert_after=1)
    check.record(FAIL, T0)
    deliver_due()
    check.record(OK, T0 + timedelta(minutes=12))
    incident = Incident.objects.get()
    assert not incident.resolve(None, Incident.How.HAND)  # already resolved: nothing more
    incident._announce("resolve", T0 + timedelta(minutes=13))  # a retry: the same rows
    deliver_due()
    deliver_due()
    resolved = Notification.objects.filter(group=incident.group, event="resolve")
    assert sorted(resolved.values_list("kind", flat=True)) == ["email", "ntfy", "slack", "webhook"]
    assert set(resolved.values_list("state", flat=True)) == {"sent"}
    subject = "[critique] Résolu : site : connection refused"
    [slack] = posts(webhook_server, "/s")[1:]
    assert slack["json"]["text"].startswith(f"*{subject}*\nRésolu automatiquement après 12")
    [hook] = posts(webhook_server, "/w", "resolve")
    assert hook["json"]["subject"] == subject
    assert hook["json"]["duration_seconds"] == 12 * 60
    assert hook["json"]["state"] == "resolved"
    [ntfy] = posts(webhook_server, "/ntfy")[1:]
    assert ntfy["headers"]["Title"].startswith("=?utf-8?b?")  # "Résolu" encoded
    assert [m.subject for m in mail.outbox][1:] == [subject]


def test_acknowledgement_tells_the_channels_who_took_it_in_the_instance_language(
    team, camille, webhook_server, monkeypatch
):
    chain(monkeypatch, [level(1, 0, camille, "Vigie")])
    make_check(team, alert_after=1).record(FAIL, T0)
    incident = Incident.objects.get()
    with translation.override("en"):  # clicked by a reader of English
        assert incident.acknowledge(camille, Incident.How.HAND, T0 + timedelta(minutes=4))
    deliver_due()
    acked = Notification.objects.filter(group=incident.group, event="acknowledge")
    # The team's channels; the people paged hear the resolution, not this.
    channels = [channel.destination().label for channel in Channel.objects.order_by("name")]
    assert sorted(acked.values_list("label", flat=True)) == channels  # alertes, hook
    [slack] = posts(webhook_server, "/s")[1:]
    assert slack["json"]["text"].startswith(
        "*[critique] Pris en compte par Camille X : site : connection refused*\n"
        "Pris en compte par Camille X au bout de 4"
    )
    [hook] = posts(webhook_server, "/w", "acknowledge")
    assert hook["json"]["acknowledged_by"] == "Camille X"
    # The timeline names each recipient told.
    assert incident.events.filter(data__event="acknowledge").count() == 2


def test_a_resolution_whose_receiver_is_down_is_retried_and_sent_once(
    team, camille, webhook_server, monkeypatch
):
    chain(monkeypatch, [level(1, 0, camille, "Vigie")])
    check = make_check(team, alert_after=1)
    check.record(FAIL, T0)
    deliver_due()
    webhook_server.answers["/s"] = [(503, "down"), (200, "ok")]
    check.record(OK, T0 + timedelta(minutes=5))
    deliver_due()
    row = Notification.objects.get(kind="slack", event="resolve")
    assert row.state == "pending"
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        deliver_due()
        deliver_due()
    row.refresh_from_db()
    assert row.state == "sent"
    assert len(posts(webhook_server, "/s")) == 3  # the page, the failed try, the resolution


def test_escalation_skips_a_level_whose_person_was_paged_and_says_it_escalates(
    team, camille, webhook_server, monkeypatch
):
    emma = UserFactory(username="emma", first_name="Emma", last_name="Y")
    # The demo's chain: the tech lead is also the vigie on watch.
    levels = [
        level(1, 0, camille, "Vigie"),
        level(2, 15, camille, "Tech lead"),
        level(3, 30, emma, "CTO"),
    ]
    chain(monkeypatch, levels)
    make_check(team, alert_after=1).record(FAIL, T0)
    incident = Incident.objects.get()
    camille_rows = Notification.objects.filter(label__startswith="Camille").count()
    Incident.objects.escalate_due(T0 + timedelta(minutes=15))
    incident.refresh_from_db()
    assert incident.current_level == 2
    assert Notification.objects.filter(label__startswith="Camille").count() == camille_rows
    skipped = incident.events.get(data__skipped=True)
    assert skipped.kind == "escalated"
    assert skipped.text == "Tech lead: Camille X already got the page (Vigie), not paged twice"
    with translation.override("fr"):
        from vigie.phrases import spoken

        assert spoken(skipped.data["said"]) == (
            "Tech lead : Camille X a déjà reçu l’alerte (Vigie), pas de second appel"
        )
    Incident.objects.escalate_due(T0 + timedelta(minutes=30))
    [page] = Notification.objects.filter(label__startswith="Emma")
    assert page.text.startswith("Escaladé : non pris en compte depuis 30 min\n")
    assert "/ack/" in page.text


def test_a_first_page_does_not_say_escalated(team, camille, monkeypatch):
    chain(monkeypatch, [level(1, 0, camille, "Vigie")])
    make_check(team, alert_after=1).record(FAIL, T0)
    page = Notification.objects.get(kind="email")
    assert "Escaladé" not in page.text
    assert page.text.startswith("connection refused\nÉquipe Demo, ouvert le ")


def test_the_webhook_body_names_the_check_team_opening_and_failure(
    team, webhook_server, monkeypatch
):
    chain(monkeypatch, [])
    make_check(team, name="API", alert_after=1).record(FAIL, T0)
    deliver_due()
    [post] = posts(webhook_server, "/w")
    body = post["json"]
    incident = Incident.objects.get()
    assert body["check"] == "API"
    assert (body["team"], body["team_slug"]) == ("Demo", "demo")
    assert body["opened_at"] == T0.isoformat()
    assert body["message"] == "connection refused"
    assert body["text"].startswith("connection refused\n")
    assert (body["event"], body["dedup_key"], body["incident"]) == (
        "trigger", incident.key, incident.pk,
    )  # fmt: skip
    key = Notification.objects.get(kind="webhook").key
    assert body["key"] == key == post["headers"]["X-Vigie-Idempotency-Key"]
    expected = hmac.new(b"s3", post["body"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-Vigie-Signature"] == f"sha256={expected}"
    assert json.loads(post["body"]) == body
