"""Team channels as notification destinations, routed by severity."""

import pytest

from monitors.models import Channel, team_destinations
from rotation.tests.factories import TeamFactory
from vigie import notify
from vigie.models import Notification
from vigie.notify import Destination, Message
from vigie.notify.outbox import deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(slug="core")


def test_every_kind_has_a_transport():
    assert set(Channel.Kind.values) == set(notify.TRANSPORTS)


def test_monitors_registers_its_channels_as_team_destinations():
    assert "monitors.models.team_destinations" in notify.TEAM_DESTINATIONS


@pytest.mark.parametrize(
    ("fields", "config"),
    [
        ({"kind": "slack", "url": "${SLACK_URL}"}, {"url": "${SLACK_URL}"}),
        ({"kind": "ntfy", "url": "https://ntfy.sh/t"}, {"url": "https://ntfy.sh/t"}),
        (
            {"kind": "webhook", "url": "https://x.example/in", "secret": "${HOOK_SECRET}"},
            {"url": "https://x.example/in", "secret": "${HOOK_SECRET}"},
        ),
        ({"kind": "pagerduty", "routing_key": "${PD}"}, {"routing_key": "${PD}", "url": ""}),
        ({"kind": "email", "address": "tech@example.org"}, {"to": "tech@example.org"}),
    ],
)
def test_destination_carries_the_kind_keys_unresolved(team, fields, config):
    channel = Channel.objects.create(team=team, name="équipe", **fields)
    assert channel.destination() == Destination(
        fields["kind"], config, label=f"équipe (#{channel.pk})"
    )


def test_a_channel_hears_messages_at_or_above_its_min_severity(team):
    Channel.objects.create(team=team, kind="email", name="all", address="a@example.org")
    Channel.objects.create(
        team=team, kind="email", name="warn", address="w@example.org", min_severity="warning"
    )
    Channel.objects.create(
        team=team, kind="pagerduty", name="pd", routing_key="R", min_severity="critical"
    )
    Channel.objects.create(
        team=team, kind="email", name="off", address="o@example.org", enabled=False
    )
    Channel.objects.create(
        team=TeamFactory(slug="other"), kind="email", name="x", address="x@e.org"
    )

    def names(severity):
        return sorted(d.label.split(" ")[0] for d in team_destinations(team, severity))

    assert names("info") == ["all"]
    assert names("warning") == ["all", "warn"]
    assert names("critical") == ["all", "pd", "warn"]


def test_notify_team_reaches_the_channels_through_the_outbox(team, webhook_server):
    Channel.objects.create(team=team, kind="slack", name="#vigie", url=f"{webhook_server.url}/h")
    Channel.objects.create(team=team, kind="slack", name="old", url=f"{webhook_server.url}/gone")
    message = Message(subject="site is down", severity="warning")
    notify.notify_team(team, message, key="incident:1:open", group="incident:1")
    assert deliver_due() == 1
    states = dict(Notification.objects.filter(group="incident:1").values_list("label", "state"))
    assert sorted(states.values()) == ["failed", "sent"]
    assert sorted(p["path"] for p in webhook_server.posts) == ["/gone", "/h"]
