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
