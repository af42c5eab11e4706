import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand
from django_q.tasks import async_task


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker together; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address:port to serve on.")
        parser.add_argument(
            "--gunicorn", action="store_true", help="Serve with gunicorn instead of runserver."
        )

    def handle(self, *args, addr, gunicorn, **options):
        manage = [sys.executable, "manage.py"]
        web = (
            [
                sys.executable,
                "-m",
                "gunicorn",
                "vigie.wsgi",
                "--bind",
                addr,
                "--access-logfile",
                "-",
            ]
            if gunicorn
            else [*manage, "runserver", addr, "--noreload"]
        )
        # Queued now, so the worker proves it is alive as soon as it starts.
        async_task("vigie.tasks.heartbeat")
        # Links in what both send point at this address unless VIGIE_BASE_URL says otherwise.
        env = {**os.environ, "VIGIE_ADDR": addr}
        # Own sessions: Ctrl-C reaches only us, and we stop both children the same way.
        children = {
            "web": subprocess.Popen(web, start_new_session=True, env=env),
            "worker": subprocess.Popen([*manage, "qcluster"], start_new_session=True, env=env),
        }
        self.stdout.write(
            self.style.SUCCESS(f"Vigie on http://{addr}/ (Ctrl-C stops web and worker)")
            + "".join(f"\n{name} pid {child.pid}" for name, child in children.items()),
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"the {name} exited with {child.returncode}; stopping")
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.2)
        _terminate(children)
        sys.exit(exit_code)


def _terminate(children, grace=75):
    """Stop each child the way it expects; what is still alive after `grace` seconds is
    killed, group and all.

    The web server gets SIGTERM. The worker gets SIGINT to its whole process group, as Ctrl-C
    in a terminal would: django-q2's main process stops its sentinel and workers, the sentinel
    ignores it, and each worker's minute-long task (the check tick, the outbox delivery) ends
    at its next slot and settles its claims (vigie.shutdown). SIGTERM to the group would kill
    the sentinel and the workers first and leave the cluster waiting for them.
    """
    for name, child in children.items():
        if child.poll() is None:
            if name == "worker":
                os.killpg(child.pid, signal.SIGINT)
            else:
                child.terminate()
    deadline = time.monotonic() + grace
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
