"""A real Bugsink, installed from PyPI in its own virtual environment (cached in var/) and run on
SQLite on loopback, for the end-to-end tests and bench/bugsink.py. Not a fake: the issue rule is
no fake Bugsink."""

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

VENV = Path(__file__).resolve().parent.parent / "var" / "bugsink-venv"
# The version triage/sources/bugsink.py is written against (a pip version specifier).
VERSION = "2.6.*"
# Bugsink's ingest quotas default to 1,000 events per 5 minutes: seeding needs more. No phoning
# home to bugsink.com from a test.
CONF = """
BUGSINK.update({
    "PHONEHOME": False,
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_PROJECT_PER_HOUR": 1_000_000,
    "MAX_EVENTS_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_HOUR": 1_000_000,
    "INGEST_STORE_BASE_DIR": %r,
})
DATABASES["default"]["NAME"] = %r
DATABASES["snappea"]["NAME"] = %r
"""


class Unavailable(Exception):
    """Bugsink could not be installed or started (no network to PyPI, say)."""


def install():
    VENV.parent.mkdir(exist_ok=True)
    # The SQLite and PostgreSQL runs of CI, or two workers, share it: one installs it.
    with open(VENV.parent / "bugsink-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manage = VENV / "bin" / "bugsink-manage"
        # A cache of another version (an older checkout's, unpinned) is installed again.
        if manage.exists() and list(
            VENV.glob(f"lib/python*/site-packages/bugsink-{VERSION}.dist-info")
        ):
            return manage
        shutil.rmtree(VENV, ignore_errors=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
            subprocess.run(
                [str(VENV / "bin" / "pip"), "install", "--quiet", f"bugsink=={VERSION}"],
                check=True,
                timeout=600,
                capture_output=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            shutil.rmtree(VENV, ignore_errors=True)
            raise Unavailable(str(exc)[:300]) from None
        return manage


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bugsink:
    """One Bugsink server in `home` (a scratch directory); `start()` then `stop()`."""

    def __init__(self, home):
        self.home = Path(home)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bugsink_conf"}
        self.env["PYTHONPATH"] = str(self.home)
        self.env.pop("DATABASE_URL", None)  # Vigie's, not Bugsink's
        self.server = None
        self.token = None

    def manage(self, *args):
        return self.run(str(VENV / "bin" / "bugsink-manage"), *args)

    def run(self, *command):
        """A command in Bugsink's directory and environment; its output."""
        return subprocess.run(
            command,
            cwd=self.home,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout

    def start(self):
        install()
        subprocess.run(
            [
                str(VENV / "bin" / "bugsink-create-conf"),
                "--template=local",
                f"--port={self.port}",
                "--host=127.0.0.1",
            ],
            cwd=self.home,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        with open(self.home / "bugsink_conf.py", "a") as conf:
            home = self.home
            conf.write(
                CONF % (str(home / "ingest"), str(home / "db.sqlite3"), str(home / "snappea.db"))
            )
        self.manage("migrate", "-v0")
        self.manage("migrate", "snappea", "--database=snappea", "-v0")
        self.token = self.manage("create_auth_token").strip()
        self.server = subprocess.Popen(
            [str(VENV / "bin" / "bugsink-manage"), "runserver", self.url[7:], "--noreload"],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(150):
            try:
                self.api("GET", "projects/")
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise Unavailable("its server did not answer")

    def stop(self):
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)

    def api(self, method, path, **kwargs):
        response = requests.request(
            method,
            f"{self.url}/api/canonical/0/{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def create_project(self, name):
        """A project of its own team; returns (its id as a string, its DSN)."""
        team = self.api("POST", "teams/", json={"name": name})
        project = self.api("POST", "projects/", json={"name": name, "team": team["id"]})
        project = self.api("GET", f"projects/{project['id']}/")
        return str(project["id"]), project["dsn"]

    def issues(self, project):
        """Every issue of the project, following Bugsink's `next` links."""
        page = self.api("GET", "issues/", params={"project": project})
        issues = page["results"]
        while page.get("next"):
            page = requests.get(
                page["next"], headers={"Authorization": f"Bearer {self.token}"}, timeout=30
            ).json()
            issues += page["results"]
        return issues

    def seed(self, dsn, count, *, threads=2):
        """`count` distinct issues, one event each, posted as the Sentry SDK does (an envelope
        to the ingest API). Bugsink groups by exception type and a message without its numbers,
        so each issue gets its own type name."""
        parts = urlsplit(dsn)
        url = f"{parts.scheme}://{parts.hostname}:{parts.port}/api{parts.path}/envelope/"
        headers = {"X-Sentry-Auth": f"Sentry sentry_key={parts.username}, sentry_version=7"}
        now = time.time()

        def send(session, number):
            event_id = uuid.uuid4().hex
            event = {
                "event_id": event_id,
                "timestamp": now - number,
                "platform": "python",
                "level": "error",
                "exception": {
                    "values": [
                        {
                            "type": f"Seed{_letters(number)}Error",
                            "value": "seeded",
                            "stacktrace": {
                                "frames": [
                                    {
                                        "filename": "shop/payment.py",
                                        "function": "charge",
                                        "lineno": 12,
                                        "in_app": True,
                                    }
                                ]
                            },
                        }
                    ]
                },
            }
            body = b"\n".join(
                json.dumps(part).encode()
                for part in ({"event_id": event_id}, {"type": "event"}, event)
            )
            session.post(url, data=body, headers=headers, timeout=30).raise_for_status()

        def worker(numbers):
            with requests.Session() as session:
                for number in numbers:
                    send(session, number)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, [range(count)[i::threads] for i in range(threads)]))


def _letters(number):
    """0 -> A, 25 -> Z, 26 -> BA: a name without digits (Bugsink drops them when grouping)."""
    name = ""
    while True:
        number, digit = divmod(number, 26)
        name = chr(ord("A") + digit) + name
        if not number:
            return name


class Proxy:
    """A loopback HTTP proxy in front of a real Bugsink: every answer is Bugsink's, except the
    faults queued with `fail()`, answered instead of forwarding the next requests whose path
    starts with a prefix (a 429 with Retry-After, a 503), as a loaded Bugsink or its reverse
    proxy would answer. `start()` then `stop()`; `url` replaces Bugsink's."""

    def __init__(self, target):
        self.target = target
        self.faults = []  # [prefix, status, headers], taken in order
        self.seen = []  # (path, status answered) of every request
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fault = proxy._take(self.path)
                if fault is not None:
                    status, headers = fault
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream = requests.request(
                    self.command, proxy.target + self.path, headers=headers, data=body, timeout=30
                )
                with proxy.lock:
                    proxy.seen.append((self.path, upstream.status_code))
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            do_GET = do_POST = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def fail(self, prefix, status, times=1, **headers):
        """Answer `status` (with `headers`, underscores as dashes) instead of Bugsink to the
        next `times` requests whose path starts with `prefix`."""
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        with self.lock:
            self.faults += [[prefix, status, headers] for _ in range(times)]

    def _take(self, path):
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault[0]):
                    self.faults.remove(fault)
                    self.seen.append((path, fault[1]))
                    return fault[1], fault[2]
        return None

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
