"""checks.validate: unknown keys refused, types checked, defaults filled, for every kind."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from monitors import checks


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; French is checked once in test_checks_validate."""
    with translation.override("en"):
        yield


def errors(kind, config):
    with pytest.raises(ValidationError) as caught:
        checks.validate(kind, config)
    return caught.value.message_dict


def test_http_defaults():
    assert checks.validate("http", {"url": "https://app.example.org/health"}) == {
        "url": "https://app.example.org/health",
        "method": "GET",
        "headers": {},
        "body": "",
        "expect_status": None,
        "keyword": "",
        "absent_keyword": "",
        "max_latency": None,
    }


def test_http_refusals():
    assert errors(
        "http",
        {
            "url": "ftp://x",
            "method": "BREW",
            "timeout": 3,
            "max_latency": "2s",
            "expect_status": [200, 700],
            "headers": {"X": 1},
        },
    ) == {
        "url": ["expected an http:// or https:// URL"],
        "method": ["expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"],
        "timeout": ["unknown key"],
        "max_latency": ["expected a number"],
        "expect_status": ["expected HTTP statuses between 100 and 599"],
        "headers": ["expected a mapping of strings to strings"],
    }
    assert errors("http", {}) == {"url": ["this key is required"]}


def test_http_accepts_a_single_status_and_a_variable_url():
    cleaned = checks.validate(
        "http", {"url": "${SITE_URL}", "expect_status": 204, "method": "post"}
    )
    assert cleaned["expect_status"] == [204]
    assert cleaned["method"] == "POST"


def test_tls_defaults_and_refusals():
    cleaned = checks.validate("tls", {"host": "app.example.org"})
    assert cleaned == {
        "host": "app.example.org",
        "port": 443,
        "sni": "app.example.org",
        "warn_days": 21,
        "critical_days": 7,
    }
    assert errors("tls", {"host": "https://app.example.org", "port": 70000}) == {
        "host": ["expected a host name, without scheme, port or path"],
        "port": ["must be at most 65535"],
    }
    assert errors("tls", {"host": "a.org", "warn_days": 3, "critical_days": 7}) == {
        "critical_days": ["must not be more than warn_days (3)"]
    }
    assert errors("tls", {"host": "a.org", "port": True}) == {"port": ["expected a whole number"]}


def test_statuspage():
    assert checks.validate("statuspage", {"url": "https://status.sentry.io"}) == {
        "url": "https://status.sentry.io"
    }
    assert errors("statuspage", {"url": "https://s.io", "page": "x"}) == {"page": ["unknown key"]}


def test_sql():
    cleaned = checks.validate("sql", {"dsn": "${SHOP_RO_DSN}", "query": " SELECT 1 ; "})
    assert cleaned == {"dsn": "${SHOP_RO_DSN}", "query": "SELECT 1", "threshold": None}
    assert errors("sql", {"dsn": "mysql://x", "query": "SELECT 1", "threshold": "about 3"}) == {
        "dsn": ["expected postgres://... or sqlite:///path (or a ${VARIABLE})"],
        "threshold": ['expected an operator (<, <=, >, >=, ==, !=) and a number, e.g. "< 10"'],
    }
    assert (
        checks.validate("sql", {"dsn": "sqlite:///x", "query": "SELECT 1", "threshold": "<= 0.5"})[
            "threshold"
        ]
        == "<= 0.5"
    )


def test_heartbeat():
    assert checks.validate("heartbeat", {}) == {"period": 86400, "grace": 3600}
    assert errors("heartbeat", {"period": 0, "grace": -1}) == {
        "period": ["must be at least 1"],
        "grace": ["must be at least 0"],
    }


def test_unknown_kind_and_bad_shape():
    assert errors("smtp", {}) == {
        "type": [
            "unknown check type 'smtp' (expected one of http, tls, statuspage, sql, heartbeat)"
        ]
    }
    with pytest.raises(ValidationError):
        checks.validate("http", ["https://x"])


def test_run_never_raises():
    outcome = checks.run("http", {"url": 3}, timeout=1, allow_private=False)
    assert outcome.message == "invalid configuration: url: expected a string"
    assert checks.run("heartbeat", {}, timeout=1, allow_private=False).ok is False


def test_messages_are_translated():
    with translation.override("fr"):
        assert errors("sql", {"dsn": "sqlite:///x", "query": "DELETE FROM t", "x": 1}) == {
            "x": ["clé inconnue"],
            "query": ["seul un SELECT est autorisé, pas DELETE"],
        }


@pytest.mark.parametrize(
    ("kind", "config", "key", "kind_said"),
    [
        ("http", {"url": "http://127.0.0.1:8000/health"}, "url", "a loopback address"),
        ("http", {"url": "http://localhost/health"}, "url", "a loopback address"),
        ("http", {"url": "http://169.254.169.254/latest"}, "url", "a link-local address"),
        ("statuspage", {"url": "https://10.0.0.5"}, "url", "a private address"),
        ("tls", {"host": "[::1]"}, "host", "a loopback address"),
    ],
)
def test_a_plainly_internal_target_is_refused_unless_the_check_allows_it(
    kind, config, key, kind_said
):
    with pytest.raises(ValidationError) as caught:
        checks.validate(kind, config, allow_private=False)
    (message,) = caught.value.message_dict[key]
    assert kind_said in message and "allow_private" in message
    assert checks.validate(kind, config, allow_private=True)


def test_names_and_variables_are_left_to_the_run_guard():
    # No DNS lookup when saving: the run resolves and guards what it reaches.
    for url in ("https://app.example.org/health", "${SITE_URL}", "http://93.184.216.34/"):
        assert checks.validate("http", {"url": url}, allow_private=False)["url"] == url
