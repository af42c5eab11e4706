"""Stopping a worker: SIGINT reaches the minute-long tasks, `serve` sends it to the group."""

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.utils import timezone

from vigie import shutdown
from vigie.management.commands.serve import _terminate
from vigie.models import Notification
from vigie.notify import Destination, Message, enqueue
from vigie.notify.outbox import deliver_due


@pytest.fixture
def stop_requested():
    shutdown.requested.set()
    yield
    shutdown.requested.clear()


def test_sigint_in_a_worker_requests_the_stop():
    previous = signal.getsignal(signal.SIGINT)
    try:
        shutdown.listen()
        assert shutdown.sleep(0) is False
        os.kill(os.getpid(), signal.SIGINT)
        assert shutdown.requested.is_set()
        assert shutdown.sleep(3600) is True  # answers at once, sleeps no hour
    finally:
        signal.signal(signal.SIGINT, previous)
        shutdown.requested.clear()


@pytest.mark.django_db
def test_a_stopping_outbox_leaves_its_rows_pending(stop_requested, webhook_server):
    dest = Destination("slack", {"url": f"{webhook_server.url}/ok"}, label="#x")
    row = enqueue(dest, Message(subject="s", severity="info"), key="k")
    assert deliver_due(window=55) == 0  # one look, no minute-long window
    row.refresh_from_db()
    assert (row.state, row.attempts, row.claimed_until) == (Notification.State.PENDING, 0, None)
    assert webhook_server.posts == []


@pytest.mark.django_db
def test_the_outbox_window_ends_when_the_worker_stops():
    now = timezone.now()

    class Clock:
        at = now

        def __call__(self):
            return self.at

    stops = []

    def sleep(seconds):
        stops.append(seconds)
        return True

    assert deliver_due(window=55, clock=Clock(), sleep=sleep) == 0
    assert len(stops) == 1
    assert Clock.at - now < timedelta(seconds=1)


# A child that says which signal it got, in a file, then exits; a worker-like child also starts
# a grandchild in its process group, as qcluster starts its sentinel and workers.
CHILD = textwrap.dedent(
    """
    import signal, subprocess, sys
    out, name, spawn = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    def stop(signum, frame):
        with open(out, "a") as f:
            f.write(f"{name}:{signal.Signals(signum).name}\\n")
        sys.exit(0)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    grandchild = None
    if spawn:
        grandchild = subprocess.Popen(
            [sys.executable, "-c", sys.argv[4], out, name + "-child", "0", ""],
            stdout=subprocess.PIPE, text=True,
        )
        grandchild.stdout.readline()
    print("ready", flush=True)
    signal.pause()
    """
)


def start(tmp_path, name, spawn):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "got"), name, "1" if spawn else "0", CHILD],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout.readline().strip() == "ready"
    return child


def test_serve_stops_the_web_with_sigterm_and_the_worker_group_with_sigint(tmp_path):
    children = {"web": start(tmp_path, "web", False), "worker": start(tmp_path, "worker", True)}
    _terminate(children, grace=30)
    got = sorted((tmp_path / "got").read_text().split())
    assert got == ["web:SIGTERM", "worker-child:SIGINT", "worker:SIGINT"]
    assert [child.returncode for child in children.values()] == [0, 0]
