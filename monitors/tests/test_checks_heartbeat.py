"""heartbeat.evaluate: silence, failure and unfinished runs, on an injected clock."""

from datetime import UTC, datetime, timedelta

from monitors.checks import heartbeat

CONFIG = {"period": 3600, "grace": 600}
SINCE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def evaluate(now, last_ping_at=None, last_ping_kind=None, since=SINCE):
    return heartbeat.evaluate(
        CONFIG, last_ping_at=last_ping_at, last_ping_kind=last_ping_kind, since=since, now=now
    )


def test_new_check_waits_period_and_grace():
    assert evaluate(SINCE + timedelta(minutes=69)).ok
    outcome = evaluate(SINCE + timedelta(minutes=71))
    assert not outcome.ok
    assert outcome.message == "no ping since 2026-12-01 09:00:00 CET"


def test_success_ping_resets_the_wait():
    ping = SINCE + timedelta(minutes=50)
    assert evaluate(ping + timedelta(minutes=69), ping, "success").ok
    outcome = evaluate(ping + timedelta(minutes=71), ping, "success")
    assert outcome.message == "no ping since 2026-12-01 09:50:00 CET"
    assert outcome.details["expected_by"] == "2026-12-01T10:00:00+00:00"


def test_failure_ping_fails_at_once():
    ping = SINCE + timedelta(minutes=5)
    outcome = evaluate(ping + timedelta(seconds=1), ping, "fail")
    assert not outcome.ok
    assert outcome.message == "the job reported a failure at 2026-12-01 09:05:00 CET"


def test_start_without_completion_past_grace():
    start = SINCE + timedelta(minutes=5)
    running = evaluate(start + timedelta(minutes=9), start, "start")
    assert running.ok
    assert running.message == "running since 2026-12-01 09:05:00 CET"
    outcome = evaluate(start + timedelta(minutes=11), start, "start")
    assert outcome.message == "started at 2026-12-01 09:05:00 CET and never finished"


def test_ping_before_a_resume_does_not_count():
    old_failure = SINCE - timedelta(days=2)
    assert evaluate(SINCE + timedelta(minutes=1), old_failure, "fail").ok
    outcome = evaluate(SINCE + timedelta(minutes=71), old_failure, "fail")
    assert outcome.message == "no ping since 2026-12-01 09:00:00 CET"
