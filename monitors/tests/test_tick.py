import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection

from monitors import tasks
from monitors.checks import Outcome
from monitors.models import (
    Check,
    CheckHourly,
    CheckResult,
    MaintenanceWindow,
    latency_percentiles,
    prune_results,
    summarize_checks,
)
from monitors.tests.helpers import OK, T0, make_check, make_team
from vigie.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


@pytest.fixture
def runs(monkeypatch):
    """The checks run (by name); every run succeeds."""
    seen = []

    def run(kind, config, *, timeout, allow_private):
        seen.append(config["url"])
        return OK

    monkeypatch.setattr("monitors.checks.run", run)
    return seen


def test_run_due_runs_each_due_check_once_and_plans_the_next_slot(runs):
    due = make_check(name="due", config={"url": "http://127.0.0.1:9/a"}, interval=30)
    make_check(
        name="later", config={"url": "http://127.0.0.1:9/b"}, next_run_at=T0 + timedelta(minutes=1)
    )
    with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
        tasks.run_due()
        tasks.run_due()
    assert runs == ["http://127.0.0.1:9/a"]
    due.refresh_from_db()
    assert due.next_run_at == T0 + timedelta(seconds=30)
    assert (due.claimed_until, due.state, due.last_ok) == (None, Check.State.UP, True)
    assert Heartbeat.objects.filter(name=tasks.SCHEDULER).exists()


def test_a_slot_is_claimed_by_one_worker_only():
    check = make_check()
    other = Check.objects.get(pk=check.pk)  # a second worker read the same row
    now = T0 + timedelta(seconds=1)
    assert check.claim(now) is True
    assert other.claim(now) is False


def test_an_expired_claim_is_reclaimed():
    check = make_check(timeout=10)
    now = T0 + timedelta(seconds=1)
    assert check.claim(now)
    Check.objects.filter(pk=check.pk).update(next_run_at=T0)  # the worker died mid-run
    stale = Check.objects.get(pk=check.pk)
    assert stale.claim(now + timedelta(seconds=5)) is False  # still held
    assert stale.claim(now + timedelta(minutes=5)) is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections")
@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_run_each_check_once(runs):
    team = make_team()
    for index in range(10):
        make_check(team, name=f"c{index}", config={"url": f"http://127.0.0.1:9/{index}"})
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        tasks.run_due(T0 + timedelta(seconds=1))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(runs) == sorted(f"http://127.0.0.1:9/{i}" for i in range(10))
    assert CheckResult.objects.count() == 10


def test_heartbeat_is_evaluated_by_the_tick(runs):
    check = make_check(
        kind=Check.Kind.HEARTBEAT, config={"period": 60, "grace": 30}, alert_after=1, started_at=T0
    )
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        tasks.run_due()
    check.refresh_from_db()
    assert (check.state, check.last_ok) == (Check.State.DOWN, False)
    assert runs == []


def test_tick_works_a_slot_every_two_seconds_for_a_minute(monkeypatch):
    slept, steps = [], []
    clock = iter(range(1000))  # each reading of the clock one second later
    monkeypatch.setattr(tasks, "step", lambda now, pending: steps.append(now) or pending)
    tasks.tick(clock=lambda: next(clock), sleep=slept.append)
    assert len(steps) == 30
    assert slept[:3] == [1, 2, 3] and len(slept) == 29  # slot n starts 2n s after the first


def test_weekly_maintenance_in_the_team_zone_across_dst():
    team = make_team()
    check = make_check(team)
    window = MaintenanceWindow.objects.create(
        team=team, name="deploy", weekday=1, weekly_start=time(7, 0), weekly_end=time(7, 30)
    )
    window.checks.add(check)
    # Paris: 07:10 on a Tuesday is 06:10 UTC in winter, 05:10 UTC in summer.
    winter, summer = (
        datetime(2026, 3, 24, 6, 10, tzinfo=UTC),
        datetime(2026, 3, 31, 5, 10, tzinfo=UTC),
    )
    assert MaintenanceWindow.objects.covering(check, winter) == [window]
    assert MaintenanceWindow.objects.covering(check, summer) == [window]
    assert MaintenanceWindow.objects.covering(check, datetime(2026, 3, 31, 6, 10, tzinfo=UTC)) == []
    assert MaintenanceWindow.objects.covering(check, datetime(2026, 3, 25, 6, 10, tzinfo=UTC)) == []


def test_one_off_maintenance_is_half_open():
    check = make_check()
    window = MaintenanceWindow.objects.create(
        team=check.team, name="migration", start=T0, end=T0 + timedelta(hours=1)
    )
    window.checks.add(check)
    assert MaintenanceWindow.objects.covering(check, T0) == [window]
    assert MaintenanceWindow.objects.covering(check, T0 + timedelta(hours=1)) == []
    assert MaintenanceWindow.objects.covering(make_check(name="other"), T0) == []


def test_prune_keeps_uptime_and_percentiles_in_the_hourly_rows():
    check = make_check()
    old = T0 - timedelta(days=10)
    for index in range(10):
        latency = 0.04 if index < 9 else 3.0
        check.record(
            Outcome(ok=index != 5, message="", latency=latency), old + timedelta(minutes=index)
        )
    before = check.uptime(old - timedelta(hours=1), T0)
    assert prune_results(T0) == 10
    assert CheckResult.objects.count() == 0
    row = CheckHourly.objects.get()
    assert (row.total, row.failures) == (10, 1)
    from monitors.models import percentile

    assert percentile(row.histogram, 0.5) == 0.05 and percentile(row.histogram, 0.95) == 5
    assert check.uptime(old - timedelta(hours=1), T0) == before == pytest.approx(0.9)
    check.record(Outcome(ok=True, message="", latency=0.2), T0 - timedelta(minutes=1))
    # 9 at <= 0.05 s and 1 at <= 5 s ten days ago, 1 at <= 0.25 s now
    assert latency_percentiles(check.pk, old - timedelta(hours=1), T0) == (0.05, 5)
    prune_results(T0 + timedelta(days=100))
    assert not CheckHourly.objects.exists()
    assert not CheckResult.objects.exists()


def test_summary_reads_the_windows_from_the_hourly_rows():
    check = make_check()
    idle = make_check(name="idle")
    now = T0 + timedelta(days=40)
    # One failure in each window's own part: 2 h, 3 days and 20 days ago; one outside them all.
    for ago, ok in [
        (timedelta(hours=2), False),
        (timedelta(hours=2, minutes=1), True),
        (timedelta(days=3), False),
        (timedelta(days=3, minutes=1), True),
        (timedelta(days=20), False),
        (timedelta(days=20, minutes=1), True),
        (timedelta(days=35), False),
    ]:
        check.record(Outcome(ok=ok, message="", latency=0.3 if ok else 4.0), now - ago)
    assert summarize_checks(now) == 2
    check.refresh_from_db()
    idle.refresh_from_db()
    assert (check.uptime_24h, check.uptime_7d, check.uptime_30d) == (0.5, 0.5, 0.5)
    assert (check.latency_p50, check.latency_p95) == (0.5, 5)  # 0.3 s and 4 s in 24 h
    assert check.summarized_at == now
    assert (idle.uptime_24h, idle.uptime_30d, idle.latency_p50) == (None, None, None)
    assert check.recent_latencies == [4.0, 0.3] * 3 + [4.0]  # in the order recorded
