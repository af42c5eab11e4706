import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from vigie import schedules

pytestmark = pytest.mark.django_db


def _row_counts():
    from django.apps import apps

    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_demo_is_idempotent(settings, capsys):
    settings.DEBUG = True
    call_command("demo")
    first = _row_counts()
    call_command("demo")
    assert _row_counts() == first
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("vigie-demo")
    assert "Admin login: admin / vigie-demo" in capsys.readouterr().out


def test_quiet_demo_prints_only_the_login_with_the_url(settings, capsys):
    settings.DEBUG = True
    call_command("demo", verbosity=0, url="http://127.0.0.1:8000/")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Vigie on http://127.0.0.1:8000/ — Admin login: admin / vigie-demo"]


def test_demo_refuses_production_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo")


def test_schedules_are_synced_by_name(monkeypatch):
    monkeypatch.setattr(
        schedules, "SCHEDULES", {"vigie.heartbeat": ("vigie.tasks.heartbeat", "I", 1)}
    )
    Schedule.objects.all().delete()
    Schedule.objects.create(name="vigie.retired", func="vigie.tasks.heartbeat")
    Schedule.objects.create(name="kept by hand", func="vigie.tasks.heartbeat")
    assert schedules.sync_schedules() == (["vigie.heartbeat"], [], ["vigie.retired"])
    assert schedules.sync_schedules() == ([], [], [])
    monkeypatch.setitem(schedules.SCHEDULES, "vigie.heartbeat", ("vigie.tasks.heartbeat", "I", 2))
    assert schedules.sync_schedules() == ([], ["vigie.heartbeat"], [])
    assert Schedule.objects.get(name="vigie.heartbeat").minutes == 2
    assert Schedule.objects.filter(name="kept by hand").exists()


def test_migrate_declares_the_heartbeat():
    assert Schedule.objects.filter(name="vigie.heartbeat", func="vigie.tasks.heartbeat").exists()
