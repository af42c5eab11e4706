"""A worker asked to stop: the minute-long tasks (the check tick, the outbox delivery) end at
their next slot instead of running out their minute.

django-q2 stops a cluster by letting each worker finish the task it holds; it never tells the
task. A worker learns of the stop from SIGINT, which Ctrl-C sends to the whole process group
of `qcluster` and which `manage.py serve` sends the same way: the cluster's main process stops
its sentinel, the sentinel ignores SIGINT, and each worker sets `requested` here. SIGTERM stays
django-q2's own: it terminates a worker whose task ran past its timeout."""

import signal
import threading

requested = threading.Event()


def _on_sigint(signum, frame):
    requested.set()


def listen(sender=None, **kwargs):
    """Receiver of django-q2's post_spawn, so it runs in each worker process."""
    requested.clear()
    signal.signal(signal.SIGINT, _on_sigint)


def sleep(seconds):
    """Wait up to `seconds`; True as soon as a stop is requested (at once if it already was)."""
    return requested.wait(max(0.0, seconds))
