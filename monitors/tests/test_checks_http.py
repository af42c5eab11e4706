"""The http check and vigie.http.probe against loopback servers that misbehave."""

import pytest

from monitors import checks
from monitors.tests.probe_servers import (
    FakeSite,
    RawServer,
    drip,
    drip_headers,
    free_port,
    huge_body,
    never_answer,
)
from vigie.http import MAX_BODY, ProbeError, guard_address


def run(url, timeout=2.0, allow_private=True, **config):
    return checks.run("http", {"url": url, **config}, timeout=timeout, allow_private=allow_private)


def slow_page(handler, site):
    site.stopped.wait(0.3)
    return 200, {}, "late"


@pytest.fixture
def site():
    routes = {
        "/ok": (200, {"Content-Type": "text/plain; charset=utf-8"}, '{"status": "ok"}'),
        "/down": (503, {}, "maintenance"),
        "/loop": (302, {"Location": "/loop"}, ""),
        "/ping-a": (302, {"Location": "/ping-b"}, ""),
        "/ping-b": (301, {"Location": "/ping-a"}, ""),
        "/moved": (302, {"Location": "/ok"}, ""),
        "/slow": slow_page,
        "/echo": lambda handler, site: (
            200,
            {},
            handler.command + " " + repr(handler.request_body),
        ),
    }
    for hop in range(10):
        routes[f"/chain/{hop}"] = (302, {"Location": f"/chain/{hop + 1}"}, "")
    with FakeSite(routes) as server:
        yield server


def test_up_with_keyword(site):
    outcome = run(site.url + "/ok", keyword='"status": "ok"')
    assert outcome.ok, outcome.message
    assert outcome.message == "HTTP 200"
    assert outcome.status_code == 200
    assert outcome.latency is not None


def test_missing_keyword_fails(site):
    outcome = run(site.url + "/ok", keyword="healthy")
    assert not outcome.ok
    assert outcome.message == "keyword not found: healthy"


def test_absent_keyword_present_fails(site):
    outcome = run(site.url + "/ok", absent_keyword="status")
    assert not outcome.ok
    assert outcome.message == "forbidden keyword found: status"
    assert run(site.url + "/ok", absent_keyword="error").ok


def test_unexpected_status(site):
    outcome = run(site.url + "/down")
    assert not outcome.ok
    assert outcome.message == "HTTP 503"
    assert outcome.status_code == 503
    assert run(site.url + "/down", expect_status=[503]).ok
    assert run(site.url + "/ok", expect_status=[201]).message == "HTTP 200"


def test_redirect_followed(site):
    outcome = run(site.url + "/moved")
    assert outcome.ok
    assert outcome.details["redirects"] == 1


def test_redirect_loop(site):
    outcome = run(site.url + "/loop")
    assert not outcome.ok
    assert outcome.message.startswith("redirect loop")
    assert run(site.url + "/ping-a").message.startswith("redirect loop: back to ")


def test_too_many_redirects(site):
    outcome = run(site.url + "/chain/0")
    assert outcome.message == "too many redirects (more than 5)"
    assert run(site.url + "/chain/5").ok is False  # 5 hops to /chain/10, which is 404
    assert run(site.url + "/chain/5").message == "HTTP 404"


def test_slow(site):
    outcome = run(site.url + "/slow", max_latency=0.05)
    assert not outcome.ok
    assert outcome.message.startswith("slow: ")
    assert outcome.message.endswith(" s > 0.05 s")


def test_method_and_body_sent(site):
    outcome = run(site.url + "/echo", method="POST", body="hello", keyword="POST b'hello'")
    assert outcome.ok, outcome.message


def test_credentials_not_forwarded_to_another_origin(site):
    def headers(handler, site):
        return 200, {}, repr(sorted(k.lower() for k in handler.headers))

    site.routes["/headers"] = headers
    site.routes["/here"] = (302, {"Location": "/headers"}, "")
    sent = {"Authorization": "Bearer x", "X-Trace": "1"}
    same = run(site.url + "/here", headers=sent, keyword="'authorization'")
    assert same.ok, same.message
    with FakeSite({"/headers": headers}) as other:  # another port: another origin
        site.routes["/away"] = (302, {"Location": other.url + "/headers"}, "")
        away = run(site.url + "/away", headers=sent, keyword="'x-trace'", absent_keyword="auth")
    assert away.ok, away.message


def test_header_from_environment(site, monkeypatch):
    outcome = run(site.url + "/ok", headers={"Authorization": "Bearer ${VIGIE_TEST_TOKEN}"})
    assert outcome.message == "environment variable VIGIE_TEST_TOKEN is not set"
    monkeypatch.setenv("VIGIE_TEST_TOKEN", "t0ken")
    assert run(site.url + "/ok", headers={"Authorization": "Bearer ${VIGIE_TEST_TOKEN}"}).ok


def test_dns_failure():
    outcome = run("http://nothing-here.invalid/health")
    assert outcome.message == "DNS: name does not resolve"


def test_connection_refused():
    outcome = run(f"http://127.0.0.1:{free_port()}/")
    assert outcome.message == "connection refused"


def test_accept_and_never_answer():
    with RawServer(never_answer) as server:
        outcome = run(server.url + "/", timeout=0.5)
    assert outcome.message == "timeout after 0.5 s"


def test_drip_fails_at_the_deadline():
    with RawServer(drip) as server:
        outcome = run(server.url + "/", timeout=0.5)
        sent = server.sent
    assert outcome.message == "timeout after 0.5 s"
    assert sent < 100_000  # it did not wait for the whole body


def test_dripped_headers_fail_at_the_deadline():
    with RawServer(drip_headers) as server:
        outcome = run(server.url + "/", timeout=0.5)
        sent = server.sent
    assert outcome.message == "timeout after 0.5 s"
    assert sent < 10_000


def test_huge_body_stops_after_one_megabyte():
    with RawServer(huge_body) as server:
        outcome = run(server.url + "/", timeout=10, keyword="never there")
        sent = server.sent
    assert outcome.message == "keyword not found in the first 1 MB: never there"
    assert outcome.details["bytes_read"] == MAX_BODY
    assert outcome.details["truncated"] is True
    # Kernel buffers take a few MB more; the 2 GB were never sent.
    assert sent < 64 * 1024 * 1024


def test_private_target_refused_unless_allowed(site):
    outcome = run(site.url + "/ok", allow_private=False)
    assert not outcome.ok
    assert outcome.message == (
        "refused: 127.0.0.1 is a loopback address; allow private targets on this check to reach it"
    )
    assert run(site.url + "/ok", allow_private=True).ok


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "a loopback"),
        ("::1", "a loopback"),
        ("169.254.169.254", "a link-local"),
        ("10.1.2.3", "a private"),
        ("192.168.0.10", "a private"),
        ("::ffff:172.16.0.1", "a private"),
        ("0.0.0.0", "an unspecified"),
        ("224.0.0.1", "a multicast"),
        ("240.0.0.1", "a reserved"),
    ],
)
def test_guard_address_refuses(host, kind):
    with pytest.raises(ProbeError, match=f"^refused: .* is {kind} address;"):
        guard_address(host, allow_private=False)
    assert guard_address(host, allow_private=True)


def test_guard_address_lets_public_addresses_through():
    assert guard_address("93.184.216.34", allow_private=False) == "93.184.216.34"
