"""Each transport's exact request; errors that never name a secret."""

import hashlib
import hmac
import json

import pytest
from django.core import mail

from vigie.notify import TRANSPORTS, Destination, Message, TransportError, send

MESSAGE = Message(
    subject="Camille prend la vigie jusqu'au lundi 7 décembre 10:00",
    url="https://vigie.example.org/rotation/core/handovers/1/",
)
ALERT = Message(
    subject="site is down",
    text="HTTP 502 from https://example.org/",
    url="https://vigie.example.org/incidents/4/",
    severity="critical",
    dedup_key="incident:4",
)


def test_every_kind_has_a_transport():
    assert set(TRANSPORTS) == {"slack", "mattermost", "email", "webhook", "pagerduty", "ntfy"}


def test_message_refuses_an_unknown_severity():
    with pytest.raises(ValueError):
        Message(subject="x", severity="fatal")


def test_slack_posts_text_with_a_link(webhook_server):
    send(Destination("slack", {"url": f"{webhook_server.url}/hook"}), MESSAGE, key="k1")
    [post] = webhook_server.posts
    assert post["content_type"] == "application/json"
    assert post["json"] == {
        "text": f"*{MESSAGE.subject}*\n<{MESSAGE.url}|{MESSAGE.url}>",
    }


def test_mattermost_posts_markdown_as_vigie(webhook_server):
    send(Destination("mattermost", {"url": f"{webhook_server.url}/h"}), MESSAGE, key="k1")
    [post] = webhook_server.posts
    assert post["json"] == {"text": f"**{MESSAGE.subject}**\n{MESSAGE.url}", "username": "Vigie"}


def test_webhook_body_is_signed_with_the_channel_secret(webhook_server):
    destination = Destination("webhook", {"url": f"{webhook_server.url}/in", "secret": "s3"})
    send(destination, ALERT, key="incident:4:open:webhook")
    [post] = webhook_server.posts
    assert json.loads(post["body"]) == {
        "key": "incident:4:open:webhook",
        "subject": "site is down",
        "text": "HTTP 502 from https://example.org/",
        "url": "https://vigie.example.org/incidents/4/",
        "severity": "critical",
        "event": "trigger",
        "dedup_key": "incident:4",
    }
    expected = hmac.new(b"s3", post["body"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-Vigie-Signature"] == f"sha256={expected}"
    assert post["headers"]["X-Vigie-Idempotency-Key"] == "incident:4:open:webhook"
    wrong = hmac.new(b"other", post["body"], hashlib.sha256).hexdigest()
    assert post["headers"]["X-Vigie-Signature"] != f"sha256={wrong}"


def test_webhook_without_a_secret_is_refused_for_good(webhook_server):
    with pytest.raises(TransportError) as info:
        send(Destination("webhook", {"url": f"{webhook_server.url}/in"}), ALERT, key="k")
    assert info.value.permanent
    assert webhook_server.posts == []


@pytest.mark.parametrize("event", ["trigger", "acknowledge", "resolve"])
def test_pagerduty_events_share_the_incident_dedup_key(webhook_server, settings, event):
    settings.VIGIE_BASE_URL = "https://vigie.example.org"
    url = f"{webhook_server.url}/v2/enqueue"
    message = Message(
        subject="site is down", severity="critical", event=event, dedup_key="incident:4"
    )
    send(Destination("pagerduty", {"routing_key": "R0UT1NG", "url": url}), message, key="k")
    [post] = webhook_server.posts
    assert post["path"] == "/v2/enqueue"
    expected = {"routing_key": "R0UT1NG", "event_action": event, "dedup_key": "incident:4"}
    if event == "trigger":
        expected["payload"] = {
            "summary": "site is down",
            "source": "https://vigie.example.org",
            "severity": "critical",
        }
    assert post["json"] == expected


def test_pagerduty_uses_the_notification_key_without_an_incident_key(webhook_server):
    url = f"{webhook_server.url}/v2/enqueue"
    send(Destination("pagerduty", {"routing_key": "R", "url": url}), MESSAGE, key="handover:1")
    assert webhook_server.posts[0]["json"]["dedup_key"] == "handover:1"


def test_pagerduty_defaults_to_the_events_endpoint():
    from vigie.notify.pagerduty import EVENTS_URL

    assert EVENTS_URL == "https://events.pagerduty.com/v2/enqueue"


def test_ntfy_posts_text_with_title_priority_and_click(webhook_server):
    send(Destination("ntfy", {"url": f"{webhook_server.url}/vigie-camille"}), ALERT, key="k")
    [post] = webhook_server.posts
    assert post["path"] == "/vigie-camille"
    assert post["body"].decode() == "HTTP 502 from https://example.org/"
    assert post["headers"]["Title"] == "site is down"
    assert post["headers"]["Priority"] == "5"
    assert post["headers"]["Click"] == "https://vigie.example.org/incidents/4/"


def test_ntfy_sends_a_french_title_as_an_encoded_word(webhook_server):
    from email.header import decode_header

    send(Destination("ntfy", {"url": f"{webhook_server.url}/t"}), MESSAGE, key="k")
    [post] = webhook_server.posts
    [(raw, charset)] = decode_header(post["headers"]["Title"])
    assert raw.decode(charset) == MESSAGE.subject
    assert post["headers"]["Priority"] == "3"
    assert post["body"].decode() == MESSAGE.subject


def test_a_gone_webhook_is_a_permanent_error(webhook_server):
    with pytest.raises(TransportError) as info:
        send(Destination("slack", {"url": f"{webhook_server.url}/gone"}), MESSAGE, key="k")
    assert info.value.permanent


def test_a_failing_server_is_a_transient_error_tried_once(webhook_server):
    # One attempt per delivery: the outbox retries later, with backoff.
    with pytest.raises(TransportError) as info:
        send(Destination("slack", {"url": f"{webhook_server.url}/broken"}), MESSAGE, key="k")
    assert not info.value.permanent
    assert len(webhook_server.posts) == 1


def test_errors_never_hold_the_webhook_url(webhook_server):
    url = f"{webhook_server.url}/gone"
    for kind in ("slack", "mattermost", "ntfy"):
        with pytest.raises(TransportError) as info:
            send(Destination(kind, {"url": url}), MESSAGE, key="k")
        assert "404" in str(info.value)
        assert webhook_server.url not in str(info.value)


def test_a_receiver_echoing_the_routing_key_is_redacted(webhook_server):
    webhook_server.answers["/v2/enqueue"] = (400, "invalid routing_key SECRET-RK-42")
    url = f"{webhook_server.url}/v2/enqueue"
    with pytest.raises(TransportError) as info:
        send(Destination("pagerduty", {"routing_key": "SECRET-RK-42", "url": url}), ALERT, key="k")
    assert info.value.permanent
    assert "SECRET-RK-42" not in str(info.value)
    assert "[redacted]" in str(info.value)


def test_variables_are_resolved_at_send_time(webhook_server, monkeypatch):
    monkeypatch.setenv("VIGIE_TEST_HOOK", f"{webhook_server.url}/from-env")
    send(Destination("slack", {"url": "${VIGIE_TEST_HOOK}"}), MESSAGE, key="k")
    assert webhook_server.posts[0]["path"] == "/from-env"


def test_a_missing_variable_is_a_retryable_configuration_fault_and_named(monkeypatch):
    monkeypatch.delenv("VIGIE_TEST_MISSING", raising=False)
    with pytest.raises(TransportError) as info:
        send(Destination("slack", {"url": "${VIGIE_TEST_MISSING}"}), MESSAGE, key="k")
    assert not info.value.permanent
    assert info.value.configuration
    assert "VIGIE_TEST_MISSING" in str(info.value)


def test_email_goes_through_django_mail():
    send(Destination("email", {"to": "tech@example.org"}), MESSAGE, key="handover:1")
    [email] = mail.outbox
    assert email.to == ["tech@example.org"]
    assert email.subject == MESSAGE.subject
    assert MESSAGE.url in email.body
    assert email.extra_headers["X-Vigie-Idempotency-Key"] == "handover:1"
