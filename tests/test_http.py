import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from vigie import http


@pytest.fixture
def upstream():
    """A loopback server answering a scripted list of (status, headers, body)."""
    script, seen = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            status, headers, body = script.pop(0) if script else (200, {}, b"ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield script, seen, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_retries_5xx_then_succeeds(upstream):
    script, seen, url = upstream
    script += [(502, {}, b"bad gateway"), (503, {}, b"down")]
    waits = []
    response = http.request("GET", f"{url}/x", sleep=waits.append)
    assert response.status_code == 200
    assert len(seen) == 3
    assert len(waits) == 2
    assert waits[1] > waits[0]


def test_429_waits_as_told(upstream):
    script, _seen, url = upstream
    script += [(429, {"Retry-After": "7"}, b"slow down")]
    waits = []
    http.request("GET", f"{url}/x", sleep=waits.append)
    assert waits == [7.0]


def test_429_without_retry_after_asks_the_api_specific_reader(upstream):
    script, _seen, url = upstream
    script += [(429, {"X-Rate-Reset": "3"}, b"")]
    waits = []
    http.request(
        "GET",
        f"{url}/x",
        sleep=waits.append,
        rate_limit_wait=lambda r: float(r.headers["X-Rate-Reset"]),
    )
    assert waits == [3.0]


def test_a_too_long_wait_gives_up_instead_of_blocking_the_worker(upstream):
    script, seen, url = upstream
    script += [(429, {"Retry-After": "3600"}, b"")]
    with pytest.raises(http.UpstreamError) as error:
        http.request("GET", f"{url}/x", sleep=lambda s: None)
    assert error.value.status == 429
    assert error.value.retry_after == 3600
    assert not error.value.permanent
    assert len(seen) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 400])
def test_client_errors_are_permanent_and_not_retried(upstream, status):
    script, seen, url = upstream
    script += [(status, {}, b"nope")]
    with pytest.raises(http.UpstreamError) as error:
        http.request("GET", f"{url}/x", sleep=lambda s: None)
    assert error.value.permanent
    assert error.value.status == status
    assert len(seen) == 1


def test_connection_errors_retry_then_fail_transiently():
    waits = []
    with pytest.raises(http.UpstreamError) as error:
        http.request("GET", "http://127.0.0.1:9/x", sleep=waits.append, timeout=1)
    assert not error.value.permanent
    assert len(waits) == http.RetryPolicy().attempts - 1


def test_errors_never_carry_a_token(upstream):
    script, _seen, url = upstream
    script += [(401, {}, b"invalid token Bearer abcdefghijkl0123")]
    with pytest.raises(http.UpstreamError) as error:
        http.request("GET", f"{url}/x?token=s3cr3tvalue", sleep=lambda s: None)
    assert "s3cr3tvalue" not in str(error.value)
    assert "abcdefghijkl0123" not in str(error.value)


@pytest.fixture
def hanging():
    """A loopback server that takes connections and never answers; counts them."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield accepted, f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for connection in accepted:
        connection.close()


def test_within_a_budget_an_upstream_that_hangs_is_given_up_on_after_one_try(hanging):
    accepted, url = hanging
    waits = []
    with http.budget(0.5), pytest.raises(http.UpstreamError) as error:
        http.request("GET", f"{url}/x", sleep=waits.append)
    # The read waited for what was left of the budget, not 30 s; no retry after it.
    assert error.value.reason == "ReadTimeout"
    assert len(accepted) == 1 and waits == []


def test_a_spent_budget_sends_nothing_and_an_inner_one_does_not_extend_it(upstream):
    _script, seen, url = upstream
    with http.budget(0), http.budget(3600), pytest.raises(http.UpstreamError) as error:
        http.request("GET", f"{url}/x")
    assert error.value.reason == "Timeout" and "no time left" in str(error.value)
    assert seen == []


def test_a_budget_leaves_room_for_the_usual_retries(upstream):
    script, seen, url = upstream
    script += [(502, {}, b"bad gateway")]
    waits = []
    with http.budget(3600):
        assert http.request("GET", f"{url}/x", sleep=waits.append).status_code == 200
    assert len(seen) == 2 and len(waits) == 1
