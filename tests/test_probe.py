import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from vigie.probe import probe


@pytest.fixture
def health_server():
    answer = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(answer["status"])
            self.end_headers()
            self.wfile.write(json.dumps(answer["body"]).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield answer, f"http://127.0.0.1:{server.server_port}/health"
    server.shutdown()


def test_web_is_healthy_while_only_the_worker_is_stale(health_server):
    answer, url = health_server
    answer["status"] = 503
    answer["body"] = {"checks": {"database": "ok", "migrations": "ok", "worker": "stale: 300 s"}}
    assert probe("web", url)[0] is True
    assert probe("worker", url) == (False, {"worker": "stale: 300 s"})


def test_pending_migrations_make_web_unhealthy(health_server):
    answer, url = health_server
    answer["status"] = 503
    answer["body"] = {"checks": {"database": "ok", "migrations": "pending: 2", "worker": "ok"}}
    assert probe("web", url)[0] is False


def test_unreachable_server():
    healthy, detail = probe("web", "http://127.0.0.1:9/health", timeout=1)
    assert healthy is False
    assert detail.startswith("unreachable")
