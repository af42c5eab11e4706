from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from monitors import health
from monitors.models import Check
from monitors.tests.helpers import FAIL, OK, T0, make_check
from vigie import metrics
from vigie.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_scheduler_health_from_the_tick_heartbeat():
    assert health.check_scheduler().english == "ok"  # nothing to run
    make_check()
    assert health.check_scheduler().english == "never seen"
    with time_machine.travel(T0, tick=False):
        Heartbeat.beat("check-scheduler")
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert health.check_scheduler().english == "ok"
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert health.check_scheduler().english == "stale: last tick 300 s ago"


def test_metrics(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])
    make_check(name="up").record(OK, T0)
    make_check(name="down", alert_after=1).record(FAIL, T0)
    text = metrics.render_latest().decode()
    assert 'vigie_check_up{check="up",team="demo"} 1.0' in text
    assert 'vigie_check_up{check="down",team="demo"} 0.0' in text
    assert 'vigie_check_latency_seconds{check="up",team="demo"} 0.05' in text
    assert "vigie_incidents_open 1.0" in text


def test_allow_private_is_for_superusers_only(client, django_user_model):
    check = make_check()
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_check", "view_check"])
    )
    client.force_login(staff)
    body = client.get(reverse("admin:monitors_check_change", args=[check.pk])).content.decode()
    assert 'name="allow_private"' not in body and 'name="interval"' in body
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin)
    body = client.get(reverse("admin:monitors_check_change", args=[check.pk])).content.decode()
    assert 'name="allow_private"' in body
    assert Check.objects.count() == 1


def test_the_admin_refuses_an_internal_target_unless_allowed(client, django_user_model):
    team = make_check().team
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.org", "x"))
    form = {
        "team": team.pk,
        "name": "api",
        "kind": "http",
        "config": '{"url": "http://127.0.0.1:8000/health"}',
        "interval": 60,
        "timeout": 10,
        "alert_after": 2,
        "recover_after": 1,
        "severity": "critical",
        "category": "technical",
        "enabled": "on",
    }
    response = client.post(reverse("admin:monitors_check_add"), form)
    assert response.status_code == 200  # the form again, with its error
    assert (  # the admin speaks French
        "url: 127.0.0.1 est une adresse de bouclage : une sonde n’atteint les adresses privées"
        in response.content.decode()
    )
    assert not Check.objects.filter(name="api").exists()
    response = client.post(reverse("admin:monitors_check_add"), {**form, "allow_private": "on"})
    assert response.status_code == 302
    assert Check.objects.get(name="api").allow_private


def test_the_check_form_names_every_field_in_french(client, django_user_model):
    check = make_check()
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.org", "x"))
    body = client.get(
        reverse("admin:monitors_check_change", args=[check.pk]), headers={"accept-language": "fr"}
    ).content.decode()
    for label in ("Équipe", "Dernier message", "Dernière vérification", "Prochaine vérification",
                  "Jeton de ping", "Dernier ping"):  # fmt: skip
        assert f"{label}" in body, label
    for english in ("Last message", "Last checked at", "Next run at", "Ping token"):
        assert english not in body, english
