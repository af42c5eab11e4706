"""`/public/<team>`: no login, only what the team published, cached, and never a leak."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from monitors.checks import Outcome
from monitors.models import CheckHourly, CheckResult, Incident
from monitors.tests.helpers import T0, make_check, make_team
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


def url(slug):
    return reverse("monitors:public-status", args=[slug])


def test_unknown_team_is_404_and_a_team_without_public_checks_a_plain_page(client):
    assert client.get(url("nope")).status_code == 404
    team = make_team("quiet")
    make_check(team, name="private-one")
    response = client.get(url(team.slug))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cette équipe ne publie pas d'état." in body
    assert "private-one" not in body


def test_shows_public_checks_their_days_and_public_updates_only(client):
    team = make_team("acme")
    vigie = MembershipFactory(team=team, user=UserFactory(first_name="Camille", last_name="Secret"))
    site = make_check(
        team,
        name="Réservations",
        public=True,
        alert_after=1,
        config={"url": "http://10.0.0.7:8080/internal-health?token=abc"},
    )
    make_check(team, name="base-interne", public=False)
    with time_machine.travel(T0, tick=False):
        site.record(Outcome(ok=False, message="HTTP 500 from http://10.0.0.7:8080 row id=42"), T0)
        incident = Incident.objects.get()
        incident.add_note(vigie.user, "Camille: pg_stat_activity shows 97 connections")
        incident.public_title = "Réservations indisponibles"
        incident.save()
        incident.publish(vigie.user, "Les réservations sont indisponibles, nous intervenons.")
        # Ten days ago, folded: 2 failures out of 100.
        CheckHourly.objects.create(
            monitor=site, hour=T0 - timedelta(days=10), total=100, failures=2
        )
        response = client.get(url(team.slug))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Réservations indisponibles" in body
    assert "Les réservations sont indisponibles, nous intervenons." in body
    assert "Certains services sont perturbés." in body
    assert (
        "<title>20/02/2026 : 98.0 %</title>" in body or "<title>20/02/2026 : 98,0 %</title>" in body
    )
    assert (
        "<title>02/03/2026 : 0.0 %</title>" in body or "<title>02/03/2026 : 0,0 %</title>" in body
    )
    assert body.count("<rect") == 90
    for secret in (
        "10.0.0.7",
        "internal-health",
        "token=abc",
        "HTTP 500",
        "id=42",
        "pg_stat_activity",
        "Camille",
        "Secret",
        "base-interne",
        incident.title,
        f"/incidents/{incident.pk}",
    ):
        assert secret not in body, secret


def test_an_incident_not_marked_public_stays_off_and_hostile_updates_are_escaped(client):
    team = make_team("acme")
    site = make_check(team, name="site", public=True, alert_after=1)
    site.record(Outcome(ok=False, message="down"), T0)
    incident = Incident.objects.get()
    body = client.get(url(team.slug)).content.decode()
    assert "Perturbation du service" not in body
    cache.clear()
    incident.publish(None, "<script>alert(1)</script>")
    body = client.get(url(team.slug)).content.decode()
    assert "Perturbation du service" in body  # no public title: a neutral one
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_cached_answers_cost_no_query(client, django_assert_num_queries):
    team = make_team("acme")
    make_check(team, name="site", public=True).record(Outcome(ok=True, message="200"), T0)
    client.get(url(team.slug))
    client.get(url("nope"))
    with django_assert_num_queries(0):
        assert client.get(url(team.slug)).status_code == 200
        assert client.get(url("nope")).status_code == 404
    assert "public" in client.get(url(team.slug))["Cache-Control"]


def test_publishing_from_the_incident_page_shows_at_once(client):
    team = make_team("acme")
    member = MembershipFactory(team=team)
    site = make_check(team, name="site", public=True, alert_after=1)
    site.record(Outcome(ok=False, message="down"), T0)
    incident = Incident.objects.get()
    assert "Perturbation" not in client.get(url(team.slug)).content.decode()  # now cached
    client.force_login(member.user)
    response = client.post(
        reverse("monitors:publish-update", args=[incident.pk]),
        {"public_title": "Site lent", "text": "Nous enquêtons."},
    )
    assert response.status_code == 302
    client.logout()
    body = client.get(url(team.slug)).content.decode()
    assert "Site lent" in body and "Nous enquêtons." in body
    incident.refresh_from_db()
    assert incident.public and incident.status_updates.get().author == member.user


def test_only_members_publish(user_client):
    team = make_team("acme")
    site = make_check(team, name="site", public=True, alert_after=1)
    site.record(Outcome(ok=False, message="down"), T0)
    incident = Incident.objects.get()
    response = user_client.post(
        reverse("monitors:publish-update", args=[incident.pk]), {"text": "hello"}
    )
    assert response.status_code == 403
    assert not incident.status_updates.exists()
    assert CheckResult.objects.count() == 1


def test_the_admin_publishes_an_update_in_the_authors_name(client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("chef", "chef@example.org", "pw")
    team = make_team("acme")
    site = make_check(team, name="site", public=True, alert_after=1)
    site.record(Outcome(ok=False, message="down"), T0)
    incident = Incident.objects.get()
    client.force_login(admin)
    url = reverse("admin:monitors_incident_change", args=[incident.pk])
    assert client.get(url).status_code == 200
    events = incident.events.count()
    response = client.post(
        url,
        {
            "public": "on",
            "public_title": "Site indisponible",
            "status_updates-TOTAL_FORMS": "1",
            "status_updates-INITIAL_FORMS": "0",
            "status_updates-0-at_0": "02/03/2026",
            "status_updates-0-at_1": "10:05:00",
            "status_updates-0-text": "Nous relançons le service.",
            "events-TOTAL_FORMS": str(events),
            "events-INITIAL_FORMS": str(events),
            **{f"events-{n}-id": str(e.pk) for n, e in enumerate(incident.events.all())},
            **{f"events-{n}-incident": str(incident.pk) for n in range(events)},
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    incident.refresh_from_db()
    assert incident.public and incident.public_title == "Site indisponible"
    update = incident.status_updates.get()
    assert (update.text, update.author) == ("Nous relançons le service.", admin)
    assert incident.title.startswith("site:")  # the rest stays read-only
