from datetime import timedelta

import pytest

from monitors.models import Check, CheckResult, Incident, MaintenanceWindow
from monitors.tests.helpers import FAIL, OK, T0, make_check

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


def test_goes_down_after_alert_after_failures_and_records_each_result():
    check = make_check(alert_after=2)
    check.record(OK, T0)
    assert (check.state, check.state_changed_at) == (Check.State.UP, T0)
    check.record(FAIL, T0 + timedelta(minutes=1))
    assert check.state == Check.State.UP
    assert not Incident.objects.exists()
    check.record(FAIL, T0 + timedelta(minutes=2))
    check.refresh_from_db()
    assert (check.state, check.state_changed_at) == (Check.State.DOWN, T0 + timedelta(minutes=2))
    assert check.consecutive_failures == 2
    assert CheckResult.objects.filter(monitor=check).count() == 3
    incident = Incident.objects.get()
    assert incident.key == f"check:{check.pk}" and incident.state == Incident.State.OPEN
    assert [e.kind for e in incident.events.all()] == ["opened"]


def test_recovers_after_recover_after_successes_and_resolves_the_incident():
    check = make_check(alert_after=1, recover_after=2)
    check.record(FAIL, T0)
    check.record(OK, T0 + timedelta(minutes=1))
    assert check.state == Check.State.DOWN
    check.record(OK, T0 + timedelta(minutes=2))
    assert (check.state, check.state_changed_at) == (Check.State.UP, T0 + timedelta(minutes=2))
    incident = Incident.objects.get()
    assert incident.state == Incident.State.RESOLVED
    assert incident.resolved_how == Incident.How.AUTO
    assert incident.resolved_at == T0 + timedelta(minutes=2)


def test_a_success_between_failures_restarts_the_count():
    check = make_check(alert_after=2)
    for outcome in (FAIL, OK, FAIL):
        check.record(outcome, T0)
    assert check.state == Check.State.UP


def test_going_down_again_joins_the_open_incident():
    check = make_check(alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    incident.acknowledge(None, Incident.How.HAND, T0)
    Check.objects.filter(pk=check.pk).update(state=Check.State.UP)
    check.state = Check.State.UP
    check.record(FAIL, T0 + timedelta(minutes=5))
    assert Incident.objects.get() == incident


def test_in_maintenance_results_are_recorded_but_no_incident_opens():
    check = make_check(alert_after=1)
    window = MaintenanceWindow.objects.create(
        team=check.team, name="deploy", start=T0 - timedelta(minutes=5), end=T0 + timedelta(hours=1)
    )
    window.checks.add(check)
    check.record(FAIL, T0)
    assert check.state == Check.State.DOWN
    assert CheckResult.objects.count() == 1
    assert not Incident.objects.exists()


def test_an_outage_begun_in_maintenance_alerts_once_the_window_ends():
    check = make_check(alert_after=1)
    window = MaintenanceWindow.objects.create(
        team=check.team, name="deploy", start=T0 - timedelta(minutes=5), end=T0 + timedelta(hours=1)
    )
    window.checks.add(check)
    check.record(FAIL, T0)
    check.record(FAIL, T0 + timedelta(minutes=59))
    assert not Incident.objects.exists()
    check.record(FAIL, T0 + timedelta(hours=1))  # the window is half-open: it has ended
    incident = Incident.objects.get()
    assert (incident.state, incident.opened_at) == (Incident.State.OPEN, T0 + timedelta(hours=1))
    assert [e.kind for e in incident.events.all()] == ["opened"]
    check.record(FAIL, T0 + timedelta(hours=1, minutes=1))
    assert Incident.objects.get() == incident  # joined, not opened twice


def test_a_check_still_failing_after_a_resolve_by_hand_opens_a_new_incident():
    check = make_check(alert_after=2, recover_after=2)
    check.record(FAIL, T0)
    check.record(FAIL, T0 + timedelta(minutes=1))
    first = Incident.objects.get()
    assert first.resolve(None, Incident.How.HAND, T0 + timedelta(minutes=2))
    check.record(OK, T0 + timedelta(minutes=3))  # one success of two: still down, no alert
    assert check.state == Check.State.DOWN
    assert not Incident.objects.unresolved().exists()
    check.record(FAIL, T0 + timedelta(minutes=4))
    second = Incident.objects.unresolved().get()
    assert second != first and second.opened_at == T0 + timedelta(minutes=4)
    assert second.key == first.key == check.incident_key
    first.refresh_from_db()
    assert first.state == Incident.State.RESOLVED


def test_a_result_s_own_severity_is_kept_for_a_down_check():
    check = make_check(alert_after=1)
    check.record(FAIL, T0)
    assert check.down_severity == Check.Severity.CRITICAL
    from monitors.checks import Outcome

    check.record(Outcome(ok=False, message="expires in 9 days", severity="warning"), T0)
    check.refresh_from_db()
    assert check.down_severity == Check.Severity.WARNING
    statuspage = make_check(check.team, name="stripe", kind=Check.Kind.STATUSPAGE)
    assert statuspage.down_severity == Check.Severity.WARNING
