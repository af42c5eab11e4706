import pytest
from django.core import mail

from monitors.channels import TRANSPORTS, Message, TransportError, send
from monitors.models import Channel, notify_team
from rotation.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

MESSAGE = Message(
    subject="Camille prend la vigie jusqu'au lundi 7 décembre 10:00",
    url="https://vigie.example.org/rotation/core/handovers/1/",
)


@pytest.fixture
def team():
    return TeamFactory(slug="core")


def test_every_kind_has_a_transport():
    assert set(TRANSPORTS) == set(Channel.Kind.values)


def test_slack_posts_text_with_a_link(team, webhook_server):
    channel = Channel(team=team, kind="slack", name="#vigie", url=f"{webhook_server.url}/hook")
    send(channel, MESSAGE)
    [post] = webhook_server.posts
    assert post["content_type"] == "application/json"
    assert post["json"]["text"].startswith("*Camille prend la vigie")
    assert f"<{MESSAGE.url}|" in post["json"]["text"]


def test_mattermost_posts_markdown_as_vigie(team, webhook_server):
    channel = Channel(team=team, kind="mattermost", name="vigie", url=f"{webhook_server.url}/h")
    send(channel, MESSAGE)
    [post] = webhook_server.posts
    assert post["json"]["username"] == "Vigie"
    assert post["json"]["text"].startswith("**Camille")


def test_a_gone_webhook_is_a_permanent_error(team, webhook_server):
    channel = Channel(team=team, kind="slack", name="old", url=f"{webhook_server.url}/gone")
    with pytest.raises(TransportError) as info:
        send(channel, MESSAGE)
    assert info.value.permanent


def test_a_failing_server_is_retried_once_then_transient(team, webhook_server):
    channel = Channel(team=team, kind="slack", name="x", url=f"{webhook_server.url}/broken")
    with pytest.raises(TransportError) as info:
        send(channel, MESSAGE)
    assert not info.value.permanent
    assert len(webhook_server.posts) == 2


def test_email_goes_through_django_mail(team):
    channel = Channel(team=team, kind="email", name="équipe", address="tech@example.org")
    send(channel, MESSAGE)
    [email] = mail.outbox
    assert email.to == ["tech@example.org"]
    assert email.subject == MESSAGE.subject
    assert MESSAGE.url in email.body


def test_one_failing_channel_does_not_stop_the_others(team, webhook_server):
    broken = Channel.objects.create(
        team=team, kind="slack", name="old", url=f"{webhook_server.url}/gone"
    )
    Channel.objects.create(team=team, kind="email", name="mail", address="tech@example.org")
    Channel.objects.create(
        team=team, kind="slack", name="off", url=f"{webhook_server.url}/x", enabled=False
    )
    errors = notify_team(team, MESSAGE)
    assert len(errors) == 1
    assert len(mail.outbox) == 1
    assert [p["path"] for p in webhook_server.posts] == ["/gone"]
    broken.refresh_from_db()
    assert "404" in broken.last_error
    assert broken.last_error_at is not None
