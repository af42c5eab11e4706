"""The tls check (and HTTPS probes) against loopback TLS servers with test certificates."""

import pytest

from monitors import checks
from monitors.tests.certificates import Authority, server_context
from monitors.tests.probe_servers import (
    FakeSite,
    RawServer,
    free_port,
    handshake_only,
    never_answer,
)


@pytest.fixture
def authority(tmp_path, monkeypatch):
    """A test CA trusted through SSL_CERT_FILE, as a company CA would be."""
    ca = Authority()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.pem())
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return ca


def serve(tmp_path, pem_and_key):
    return RawServer(handshake_only, tls_context=server_context(tmp_path, *pem_and_key))


def check(server, **config):
    config = {"host": "127.0.0.1", "port": server.port, "sni": "localhost", **config}
    return checks.run("tls", config, timeout=2, allow_private=True)


def test_valid_certificate(tmp_path, authority):
    with serve(tmp_path, authority.issue(days_left=90)) as server:
        outcome = check(server)
    assert outcome.ok, outcome.message
    assert outcome.severity is None
    assert outcome.details["days_left"] in (89, 90)
    assert outcome.details["issuer"] == "CN=Vigie Test CA"
    assert outcome.details["subject"] == "CN=localhost"
    assert outcome.message.startswith("certificate expires in ")


def test_expiring_within_warning_days_is_a_warning(tmp_path, authority):
    with serve(tmp_path, authority.issue(days_left=15)) as server:
        outcome = check(server)
    assert not outcome.ok
    assert outcome.severity == "warning"
    assert outcome.message.startswith("certificate expires in 14 days")


def test_expiring_within_critical_days_keeps_the_check_severity(tmp_path, authority):
    with serve(tmp_path, authority.issue(days_left=5)) as server:
        outcome = check(server)
        relaxed = check(server, warn_days=4, critical_days=2)
    assert not outcome.ok
    assert outcome.severity is None
    assert outcome.message.startswith("certificate expires in 4 days")
    assert relaxed.ok


def test_expired(tmp_path, authority):
    with serve(tmp_path, authority.issue(expired=True)) as server:
        outcome = check(server)
    assert not outcome.ok
    assert outcome.message.startswith("TLS: expired certificate (certificate has expired")
    assert outcome.details["days_left"] < 0  # read from the certificate it refused


def test_self_signed(tmp_path, authority):
    with serve(tmp_path, authority.issue(self_signed=True)) as server:
        outcome = check(server)
    assert outcome.message.startswith("TLS: self-signed certificate")


def test_wrong_host(tmp_path, authority):
    with serve(tmp_path, authority.issue(host="localhost")) as server:
        outcome = check(server, sni="app.example.org")
    assert outcome.message.startswith("TLS: certificate for another host (Hostname mismatch")


def test_untrusted_authority(tmp_path, authority, monkeypatch):
    other = Authority("Someone Else")
    with serve(tmp_path, other.issue()) as server:
        outcome = check(server)
    assert outcome.message.startswith("TLS: certificate signed by an unknown authority")


def test_unreachable():
    outcome = checks.run(
        "tls", {"host": "127.0.0.1", "port": free_port()}, timeout=1, allow_private=True
    )
    assert outcome.message == "connection refused"


def test_server_that_never_handshakes():
    with RawServer(never_answer) as server:
        outcome = checks.run(
            "tls", {"host": "127.0.0.1", "port": server.port}, timeout=0.5, allow_private=True
        )
    assert outcome.message == "timeout after 0.5 s"


def test_handshake_error_on_a_plain_server(authority):
    with FakeSite({}) as site:
        port = int(site.url.rsplit(":", 1)[1])
        outcome = checks.run(
            "tls", {"host": "127.0.0.1", "port": port}, timeout=1, allow_private=True
        )
    assert outcome.message.startswith("TLS: handshake failed: ")


def test_private_address_refused():
    outcome = checks.run("tls", {"host": "127.0.0.1"}, timeout=1, allow_private=False)
    assert outcome.message.startswith("refused: 127.0.0.1 is a loopback address")


def test_https_probe_trusts_ssl_cert_file(tmp_path, authority):
    context = server_context(tmp_path, *authority.issue())

    def ok(conn, server):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    with RawServer(ok, tls_context=context) as server:
        url = f"https://127.0.0.1:{server.port}/"
        outcome = checks.run("http", {"url": url, "keyword": "ok"}, timeout=2, allow_private=True)
    assert outcome.ok, outcome.message


def test_https_probe_reports_a_bad_certificate(tmp_path, authority):
    context = server_context(tmp_path, *authority.issue(self_signed=True))
    with RawServer(handshake_only, tls_context=context) as server:
        url = f"https://127.0.0.1:{server.port}/"
        outcome = checks.run("http", {"url": url}, timeout=2, allow_private=True)
    assert outcome.message.startswith("TLS: certificate verify failed: self-signed certificate")
