import pytest

from monitors import demo
from monitors.models import Check, CheckResult, Incident

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_opens_one_incident_with_its_timeline():
    demo.load()
    demo.load()
    assert Check.objects.count() == 4
    assert CheckResult.objects.count() == 3
    incident = Incident.objects.get()
    assert incident.state == Incident.State.OPEN
    assert incident.events.first().kind == "opened"
    assert incident.events.filter(kind="note").count() == 1
    sql = Check.objects.get(name="intervalles-courts")
    assert sql.config["dsn"].startswith(("sqlite:///", "${VIGIE_DEMO_SQL_DSN}"))


def test_the_health_check_follows_the_address_vigie_is_served_on(settings):
    settings.VIGIE_BASE_URL = "http://127.0.0.1:8000"
    demo.load()
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8000/health"
    demo.load(url="http://127.0.0.1:8081/")
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8081/health"
    assert Check.objects.filter(name="vigie-health").count() == 1


def test_the_demo_command_passes_its_url(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("demo", "--url", "http://127.0.0.1:8123/", verbosity=0)
    assert Check.objects.get(name="vigie-health").config["url"] == "http://127.0.0.1:8123/health"
