"""Check messages are stored in English and read in the reader's language."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from monitors import checks
from monitors.checks import Outcome, heartbeat
from monitors.models import Incident
from monitors.tests.helpers import T0, make_check
from vigie.phrases import Phrase, spoken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


def test_a_phrase_is_english_text_that_a_page_says_again_in_french():
    rows = Phrase("%(count)s row", "%(count)s rows", count=3)
    assert rows == "3 rows"
    message = Phrase(
        "TLS: %(reason)s (%(detail)s)", reason=Phrase("expired certificate"), detail="x"
    )
    assert message == "TLS: expired certificate (x)"
    with translation.override("fr"):
        assert spoken(rows.said()) == "3 lignes"
        assert spoken(message.said()) == "TLS : certificat expiré (x)"
        assert spoken(None, "as stored") == "as stored"
        stored = {"id": "%(missing)s", "params": {"other": 1}}
        assert spoken(stored, "as stored") == "as stored"
    with translation.override("en"):
        assert spoken(rows.said()) == "3 rows"


def test_a_refused_connection_is_english_in_the_database_and_french_on_the_pages(
    user_client, admin_client
):
    check = make_check(name="site", alert_after=1, allow_private=True)
    outcome = checks.run(
        "http", {"url": "http://127.0.0.1:9/"}, timeout=2, allow_private=True
    )  # nothing listens on the discard port
    assert outcome.message == "connection refused"
    check.record(outcome, T0)
    check.refresh_from_db()
    assert check.last_message == "connection refused"
    assert check.results.get().message == "connection refused"
    incident = Incident.objects.get()
    assert incident.title == "site: connection refused"
    for url in (
        reverse("monitors:overview"),
        reverse("monitors:check", args=[check.pk]),
        reverse("monitors:incident", args=[incident.pk]),
    ):
        body = user_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "connexion refusée" in body, url
    status = reverse("monitors:status") + f"?team={check.team.slug}"  # members and superusers
    assert (
        "connexion refusée" in admin_client.get(status, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    for url in (reverse("monitors:incidents"), reverse("monitors:incident", args=[incident.pk])):
        body = user_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "site : connexion refusée" in body, url


def test_heartbeat_silence_in_french(user_client):
    check = make_check(name="cron", kind="heartbeat", config={"period": 60, "grace": 0})
    outcome = heartbeat.evaluate(
        check.config, last_ping_at=None, last_ping_kind=None, since=T0, now=T0 + timedelta(hours=1)
    )
    check.record(outcome, T0 + timedelta(hours=1))
    body = user_client.get(reverse("monitors:overview"), HTTP_ACCEPT_LANGUAGE="fr").content
    assert "aucun ping depuis 2026-03-02 10:00:00 CET" in body.decode()


def test_a_message_stored_before_phrases_is_shown_as_it_is(user_client):
    make_check(name="old").record(Outcome(ok=False, message="legacy text"), T0)
    body = user_client.get(reverse("monitors:overview"), HTTP_ACCEPT_LANGUAGE="fr").content
    assert "legacy text" in body.decode()


def test_an_incident_is_announced_in_the_instance_language_stored_in_english(outbox):
    from monitors.models import Channel

    check = make_check(name="site", alert_after=1)
    Channel.objects.create(
        team=check.team, kind="webhook", name="equipe", url="https://hooks.example/x"
    )
    check.record(Outcome(ok=False, message=Phrase("connection refused")), T0)
    incident = Incident.objects.get()
    assert incident.title == "site: connection refused"
    # The worker has no reader: it writes in LANGUAGE_CODE (French).
    assert incident.notifications().get().subject == "[critique] site : connexion refusée"
