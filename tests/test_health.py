import json
import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.helpers import manage, vigie_env
from vigie.models import Heartbeat
from vigie.tasks import WORKER, heartbeat

pytestmark = pytest.mark.django_db


def test_healthy_when_worker_beat_recently(client):
    heartbeat()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "worker": "ok",
            "outbox": "ok",
            "notify_config": "ok",
            "sources": {"ok": 0, "failing": 0},
            "sync_claims": {"stuck": 0},
            "scheduler": "ok",
        },
        "outbox": {"pending": 0, "oldest_due_seconds": None},
    }


def test_degraded_when_the_worker_never_ran(client):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["worker"] == "never seen"


def test_degraded_when_the_heartbeat_is_older_than_two_minutes(client):
    with time_machine.travel(timezone.now() - timedelta(minutes=2, seconds=5)):
        heartbeat()
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"].startswith("stale")


def _notification(**fields):
    from vigie.models import Notification

    defaults = {"key": "k", "kind": "slack", "subject": "s", "severity": "info"}
    return Notification.objects.create(**(defaults | fields))


def test_an_outbox_backlog_is_information_not_a_fault(client):
    heartbeat()
    now = timezone.now()
    _notification(key="due", next_attempt_at=now - timedelta(minutes=14))
    _notification(key="retry", next_attempt_at=now + timedelta(hours=1))
    with time_machine.travel(now, tick=False):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"] == "ok"
    assert response.json()["outbox"] == {"pending": 2, "oldest_due_seconds": 14 * 60}


def test_a_notification_due_for_15_minutes_means_delivery_is_stuck(client):
    heartbeat()
    now = timezone.now()
    _notification(next_attempt_at=now - timedelta(minutes=16))
    with time_machine.travel(now, tick=False):
        body = client.get("/health").json()
    assert body["checks"]["outbox"] == "stuck: a notification due for 16 min"


def test_heartbeat_keeps_one_row():
    heartbeat()
    heartbeat()
    assert Heartbeat.objects.filter(name=WORKER).count() == 1


def test_health_needs_no_login_and_is_not_cached(client):
    response = client.get("/health")
    assert "no-cache" in response["Cache-Control"]


def _health_in_child(data_dir, *setup, database_url=None):
    """/health answered by a fresh process whose database went through `setup` commands."""
    env = vigie_env(VIGIE_DATA_DIR=str(data_dir), ALLOWED_HOSTS="testserver")
    if database_url:
        env["DATABASE_URL"] = database_url
    for command in setup:
        manage(*command, env=env, check=True)
    script = (
        "import json; from django.test import Client; r = Client().get('/health'); "
        "print(json.dumps([r.status_code, json.loads(r.content)]))"
    )
    result = manage("shell", "-c", script, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    return status, body


def test_pending_migrations_make_it_degraded(tmp_path):
    status, body = _health_in_child(
        tmp_path,
        ("migrate", "--no-input"),
        ("migrate", "vigie", "0002_notifications", "--no-input"),
    )
    assert status == 503
    assert body["checks"]["migrations"] == "pending: 1"


def test_database_down_answers_503_without_a_traceback(tmp_path):
    # Port 9 (discard) refuses connections on loopback.
    status, body = _health_in_child(tmp_path, database_url="postgres://vigie@127.0.0.1:9/vigie")
    assert status == 503
    assert body == {"status": "degraded", "checks": {"database": "error"}}


def test_a_database_that_never_answers_is_given_up_after_the_connect_timeout(tmp_path):
    # A listening socket nobody accepts from: the TCP handshake succeeds, PostgreSQL's never
    # starts. Without a connect timeout the child would wait until `manage` kills it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        url = f"postgres://vigie@127.0.0.1:{port}/vigie?connect_timeout=1"
        status, body = _health_in_child(tmp_path, database_url=url)
    assert status == 503
    assert body == {"status": "degraded", "checks": {"database": "error"}}


def test_pages_show_a_clear_error_when_the_database_is_down(tmp_path):
    env = vigie_env(
        VIGIE_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://vigie@127.0.0.1:9/vigie",
        DEBUG="false",
        VIGIE_ENCRYPTION_KEYS="Cb5bYMBbC2nCcS5XXyAOpu2Ly0fLGrN8OLH6gfvdo3w=",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
    )
    script = (
        "from django.test import Client; c = Client(raise_request_exception=False); "
        "c.cookies['sessionid'] = 'x' * 32; r = c.get('/'); "
        "import json; print(json.dumps([r.status_code, r.content.decode()]))"
    )
    result = manage("shell", "-c", script, env=env)
    status, page = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert "Base de données indisponible" in page
    assert "Traceback" not in page


def test_a_notification_waiting_for_a_missing_variable_is_flagged_not_a_503(client, monkeypatch):
    from vigie.notify import Destination, Message, enqueue
    from vigie.notify.outbox import deliver_due

    heartbeat()
    monkeypatch.delenv("AM_HOOK_URL", raising=False)
    enqueue(Destination("webhook", {"url": "${AM_HOOK_URL}", "secret": "s"}), Message("x"), key="k")
    deliver_due()
    response = client.get("/health")
    assert response.status_code == 200  # the page keeps answering: the operator must read it
    assert response.json()["checks"]["notify_config"] == (
        "misconfigured: 1 notification(s) waiting: AM_HOOK_URL: environment variable is not set"
    )
