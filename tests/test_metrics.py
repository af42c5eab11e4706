import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_metrics(settings):
    """Development: DEBUG and no token."""
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""


def test_metrics_are_off_in_production_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response.content == b"metrics are off: set METRICS_TOKEN to read them\n"
    assert "vigie_" not in response.content.decode()


def test_metrics_are_open_in_debug_without_a_token(client, open_metrics):
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'vigie_http_requests_total{method="GET",status="503",view="health"}' in text
    assert "vigie_http_request_duration_seconds_bucket" in text
    assert "vigie_task_queue_length 0.0" in text


def test_metrics_need_the_bearer_token_when_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200


def test_queue_length_counts_waiting_tasks(client, open_metrics):
    from django_q.brokers import get_broker

    get_broker().enqueue("payload")
    assert "vigie_task_queue_length 1.0" in client.get("/metrics").content.decode()


def test_unknown_methods_do_not_grow_the_label_set(client, open_metrics):
    client.generic("BREW", "/health")
    text = client.get("/metrics").content.decode()
    assert 'method="other"' in text
    assert "BREW" not in text


def test_notification_figures_come_from_the_outbox(client, open_metrics):
    from vigie.models import Notification

    base = {"kind": "slack", "subject": "s", "severity": "info"}
    Notification.objects.create(key="a", state="failed", **base)
    Notification.objects.create(key="b", state="failed", **base)
    Notification.objects.create(key="c", state="pending", **base)
    Notification.objects.create(key="d", state="sent", **base)
    text = client.get("/metrics").content.decode()
    assert 'vigie_notifications_failed_total{kind="slack"} 2.0' in text
    assert "vigie_notifications_pending 1.0" in text
