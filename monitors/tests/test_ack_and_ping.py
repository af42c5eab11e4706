from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from monitors.models import Check, Incident
from monitors.tests.helpers import FAIL, T0, make_check
from rotation.models import ApiToken, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])
    check = make_check(alert_after=1)
    check.record(FAIL, T0)
    return Incident.objects.get()


def link_path(incident, user):
    url = incident.ack_url(user.pk)
    assert url.startswith(settings.VIGIE_BASE_URL.rstrip("/") + "/incidents/")
    assert "/ack/" in url
    return url.removeprefix(settings.VIGIE_BASE_URL.rstrip("/"))


def test_ack_link_without_login_single_use(client, incident):
    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        path = link_path(incident, user)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert "<form" in client.get(path).content.decode()  # GET only asks
        incident.refresh_from_db()
        assert incident.state == Incident.State.OPEN
        response = client.post(path)
        assert response.status_code == 200
        # The incident's word, not the handover's ("Lue"): the same English, another sense.
        assert "<h1>Pris en compte</h1>" in response.content.decode()
        incident.refresh_from_db()
        assert (incident.state, incident.acknowledged_by) == (Incident.State.ACKNOWLEDGED, user)
        assert incident.acknowledged_how == Incident.How.LINK
        again = client.post(path)
    assert "Déjà utilisé" in again.content.decode()  # French first, whatever the browser


def test_ack_link_expires_and_is_bound_to_its_incident(client, incident):
    user = UserFactory()
    with time_machine.travel(T0, tick=False):
        path = link_path(incident, user)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert client.post(path).status_code == 410
    other = path.replace(f"/incidents/{incident.pk}/", f"/incidents/{incident.pk + 1}/")
    assert client.post(other).status_code == 404
    incident.refresh_from_db()
    assert incident.state == Incident.State.OPEN


def test_api_ack_and_resolve_with_a_bearer_token(client, incident):
    user = UserFactory()
    Membership.objects.create(team=incident.team, user=user)
    _token, secret = ApiToken.objects.issue(user, "bot")
    url = reverse("monitors:api-ack", args=[incident.pk])
    assert client.post(url).status_code == 401
    assert client.post(url, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.json() == {"id": incident.pk, "state": "acknowledged", "changed": True}
    response = client.post(
        reverse("monitors:api-resolve", args=[incident.pk]), HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.json()["state"] == "resolved"
    incident.refresh_from_db()
    assert (incident.resolved_by, incident.resolved_how) == (user, "api")


def test_api_refuses_an_outsider(client, incident):
    _token, secret = ApiToken.objects.issue(UserFactory(), "bot")
    url = reverse("monitors:api-ack", args=[incident.pk])
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 404


@pytest.mark.parametrize(
    ("suffix", "kind"), [("", "success"), ("/fail", "fail"), ("/start", "start")]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_ping_endpoints(client, suffix, kind, method):
    check = make_check(kind=Check.Kind.HEARTBEAT, config={"period": 3600, "grace": 60})
    with time_machine.travel(T0, tick=False):
        response = getattr(client, method)(f"/ping/{check.ping_token}{suffix}")
    assert (response.status_code, response.content, response["Content-Type"]) == (
        200,
        b"OK",
        "text/plain",
    )
    check.refresh_from_db()
    assert (check.last_ping_at, check.last_ping_kind) == (T0, kind)


def test_ping_unknown_token(client):
    assert client.get("/ping/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_fail_ping_takes_the_check_down_at_once(client, monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])
    with time_machine.travel(T0, tick=False):  # 09:00 UTC, 10:00 in Paris
        check = make_check(
            kind=Check.Kind.HEARTBEAT, config={"period": 3600, "grace": 60}, alert_after=2
        )
        assert client.post(f"/ping/{check.ping_token}/fail").status_code == 200
    check.refresh_from_db()
    assert (check.state, check.consecutive_failures) == (Check.State.DOWN, 1)
    result = check.results.get()
    assert not result.ok
    assert result.message == "the job reported a failure at 2026-03-02 10:00:00 CET"
    incident = Incident.objects.get()
    assert incident.title == "site: the job reported a failure at 2026-03-02 10:00:00 CET"
    assert incident.opened_at == T0


def test_a_fail_ping_of_a_disabled_check_only_records_the_ping(client):
    check = make_check(kind=Check.Kind.HEARTBEAT, config={"period": 3600}, enabled=False)
    assert client.post(f"/ping/{check.ping_token}/fail").status_code == 200
    check.refresh_from_db()
    assert check.last_ping_kind == "fail" and check.state == Check.State.UNKNOWN
    assert not check.results.exists() and not Incident.objects.exists()
