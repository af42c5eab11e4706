"""A stopping worker ends the check tick at its next slot and leaves no check claimed."""

from concurrent.futures import Future
from datetime import timedelta

import pytest
import time_machine

from monitors import tasks
from monitors.models import Check
from monitors.tests.helpers import OK, T0, make_check

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


def stop_at(call):
    """A sleep that answers "stopping" from its `call`-th call on."""
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        return len(calls) >= call

    return sleep


@pytest.mark.parametrize("call", [1, 3])
def test_the_tick_ends_at_the_next_slot_once_stopping(monkeypatch, call):
    steps = []
    monkeypatch.setattr(tasks, "step", lambda now, pending: steps.append(now) or pending)
    tasks.tick(clock=lambda: 0, sleep=stop_at(call))
    assert len(steps) == call  # not the six slots of a minute


def test_a_stopping_tick_records_what_it_ran_and_settles_every_claim(monkeypatch):
    monkeypatch.setattr("monitors.checks.run", lambda kind, config, **kw: OK)
    # The test's transaction is the connection: a worker's reconnect would close it.
    monkeypatch.setattr(tasks, "close_old_connections", lambda: None)
    check = make_check(interval=10)
    with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
        tasks.tick(clock=lambda: 0, sleep=stop_at(1))
    check.refresh_from_db()
    assert (check.claimed_until, check.claim_token, check.last_ok) == (None, "", True)
    assert check.results.count() == 1


def test_checks_not_started_give_their_slot_back(monkeypatch):
    monkeypatch.setattr("monitors.checks.run", lambda kind, config, **kw: OK)
    queued, ran = make_check(name="queued"), make_check(name="ran")
    now = T0 + timedelta(seconds=1)
    assert queued.claim(now) and ran.claim(now)
    done = Future()
    done.set_result(OK)
    pending = {Future(): queued, done: ran}  # the first never started in the pool
    with time_machine.travel(now, tick=False):
        tasks.finish(pending, stopping=True)
    queued.refresh_from_db()
    ran.refresh_from_db()
    assert (queued.claimed_until, queued.next_run_at, queued.results.count()) == (None, T0, 0)
    assert Check.objects.due(now).filter(pk=queued.pk).exists()  # the next worker runs it now
    assert (ran.claimed_until, ran.results.count()) == (None, 1)
    assert pending == {}
