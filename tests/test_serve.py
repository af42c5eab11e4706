"""`manage.py serve`: web and worker on one SQLite file, writing at once, stopped together."""

import concurrent.futures
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.helpers import ROOT, manage, vigie_env

pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def vigie_server(tmp_path):
    env = vigie_env(
        VIGIE_DATA_DIR=str(tmp_path), VIGIE_WORKERS="4"
    )  # two hold the monitors and outbox rounds
    manage("migrate", "--no-input", env=env, check=True, timeout=120)
    manage("demo", env=env, check=True, timeout=120)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, f"http://127.0.0.1:{port}", tmp_path / "vigie.sqlite3", env
    if process.poll() is None:
        process.kill()
        process.wait()


def test_web_and_worker_share_one_sqlite_file(vigie_server):
    process, base, db_path, env = vigie_server
    # The monitors' scheduler reports "never seen" until django-q2's scheduler (every 30 s)
    # has run the first tick; on a loaded 2-core machine that takes more than a minute.
    deadline = time.monotonic() + 150
    body = {}
    while time.monotonic() < deadline:
        try:
            status, raw = _get(f"{base}/health")
            body = json.loads(raw)
            if status == 200:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    assert body.get("status") == "healthy", body

    # The worker writes (100 tasks and their results) while the web server writes sessions.
    enqueue = (
        "from django_q.tasks import async_task\n"
        "for _ in range(100): async_task('vigie.tasks.heartbeat', group='load')"
    )
    manage("shell", "-c", enqueue, env=env, check=True)

    def login_page(_):
        return _get(f"{base}/accounts/login/")[0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(login_page, range(200)))
    assert set(statuses) == {200}

    deadline = time.monotonic() + 180  # a bound on the wait, not a speed target
    done = 0
    while time.monotonic() < deadline:
        with sqlite3.connect(db_path, timeout=20) as conn:
            done = conn.execute(
                "SELECT count(*) FROM django_q_task WHERE \"group\" = 'load' AND success"
            ).fetchone()[0]
        if done == 100:
            break
        time.sleep(0.5)
    assert done == 100

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=100)  # a monitors round ends within 60 s
    assert "database is locked" not in output
    assert process.returncode == 0
    with pytest.raises(OSError):
        _get(f"{base}/health")
    pids = [int(pid) for pid in re.findall(r"(?:web|worker) pid (\d+)", output)]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_ctrl_c_lets_the_worker_stop_cleanly(vigie_server):
    process, base, _db_path, _env = vigie_server
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline and status != 200:
        with contextlib.suppress(OSError):
            status = _get(f"{base}/health")[0]  # 200 once the worker's heartbeat is in
        time.sleep(0.5)
    assert status == 200
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=100)  # a monitors round ends within 60 s
    assert process.returncode == 0, output
    # django-q2 stopped its own sentinel and workers and said so: nothing was killed.
    assert "has stopped" in output or "arrêté" in output, output
