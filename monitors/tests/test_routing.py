import pytest
from django.core.exceptions import ValidationError

from monitors.models import Channel, Check, Incident
from monitors.tests.helpers import FAIL, OK, T0, make_check, make_team
from rotation import handover
from rotation.models import Profile
from tests.factories import UserFactory
from vigie.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(monkeypatch):
    team = make_team()
    person = UserFactory(username="camille", first_name="Camille", last_name="X")
    Profile.of(person)
    Profile.objects.filter(user=person).update(pagerduty_routing_key="pd-me")
    chain = [{"order": 1, "label": "Vigie", "delay_minutes": 0, "user_id": person.pk}]
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: chain)
    Channel.objects.create(
        team=team, kind="slack", name="alertes", url="http://127.0.0.1:9/s", min_severity="warning"
    )
    Channel.objects.create(
        team=team, kind="email", name="tout", address="t@example.org", min_severity="info"
    )
    Channel.objects.create(
        team=team, kind="pagerduty", name="pd", routing_key="pd-team", min_severity="critical"
    )
    return team


def kinds(incident):
    return sorted(
        (n.kind, n.label.split(" ")[0]) for n in Notification.objects.filter(group=incident.group)
    )


def test_critical_pages_the_person_and_every_channel_allowing_it(team):
    make_check(team, alert_after=1).record(FAIL, T0)
    incident = Incident.objects.get()
    assert kinds(incident) == [
        ("email", "Camille"),
        ("email", "tout"),
        ("pagerduty", "Camille"),
        ("pagerduty", "pd"),
        ("slack", "alertes"),
    ]
    assert "/ack/" in Notification.objects.get(kind="email", label__startswith="Camille").text


def test_warning_goes_to_channels_only(team, monkeypatch):
    lead = UserFactory(username="lead")
    chain = [
        {"order": 1, "label": "Vigie", "delay_minutes": 0, "user_id": lead.pk},
        {"order": 2, "label": "Tech lead", "delay_minutes": 15, "user_id": lead.pk},
    ]
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: chain)
    make_check(team, alert_after=1, severity=Check.Severity.WARNING).record(FAIL, T0)
    incident = Incident.objects.get()
    assert kinds(incident) == [("email", "tout"), ("slack", "alertes")]
    # Nobody is paged, so no level is announced as "next" and nothing escalates later.
    assert incident.next_level is None and incident.next_escalation_at is None


def test_statuspage_never_pages_a_person_or_pagerduty(team):
    make_check(
        team, alert_after=1, kind=Check.Kind.STATUSPAGE, config={"url": "http://127.0.0.1:9"}
    ).record(FAIL, T0)
    assert kinds(Incident.objects.get()) == [("email", "tout"), ("slack", "alertes")]


def test_ack_and_recovery_tell_pagerduty_with_the_incident_key(team):
    check = make_check(team, alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    incident.acknowledge(None, Incident.How.HAND, T0)
    check.record(OK, T0)
    events = Notification.objects.filter(group=incident.group, kind="pagerduty")
    assert sorted(events.values_list("event", flat=True)) == [
        "acknowledge",
        "acknowledge",
        "resolve",
        "resolve",
        "trigger",
        "trigger",
    ]
    assert set(events.values_list("dedup_key", flat=True)) == {f"check:{check.pk}"}


def test_handover_sections_list_the_incidents_of_the_watch(team):
    make_check(team, alert_after=1).record(FAIL, T0)
    snapshot = handover.build_snapshot(team, T0, T0.replace(hour=23))
    assert snapshot["sections"]["incidents"]["count"] == 1
    assert snapshot["sections"]["alerts"]["count"] == 1
    assert (
        handover.build_snapshot(team, T0.replace(hour=10), T0.replace(hour=11))["sections"][
            "incidents"
        ]["count"]
        == 0
    )


def test_clean_validates_the_config_and_the_interval(team):
    check = Check(team=team, name="x", kind="http", config={}, interval=5)
    with pytest.raises(ValidationError) as exc:
        check.full_clean()
    assert set(exc.value.message_dict) >= {"config", "interval"}
