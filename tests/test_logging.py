import json
import logging

import pytest
import structlog
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from vigie.logging import REDACTED, build_logging, redact_secrets, redact_text


@login_not_required
def logging_view(request):
    structlog.get_logger("vigie.test").info("inside_view", token="ghp_abcdef123456")
    return HttpResponse("ok")


urlpatterns = [path("log", logging_view)]


@pytest.fixture
def json_lines(caplog):
    build_logging(level="INFO", fmt="json")
    formatter = logging.getLogger().handlers[0].formatter
    caplog.set_level(logging.INFO)

    def lines():
        return [json.loads(formatter.format(record)) for record in caplog.records]

    return lines


@pytest.mark.urls("tests.test_logging")
def test_every_line_of_a_request_carries_its_request_id(client, json_lines):
    response = client.get("/log", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"
    line = next(line for line in json_lines() if line["event"] == "inside_view")
    assert line["request_id"] == "abc-123"
    assert line["token"] == REDACTED


@pytest.mark.urls("tests.test_logging")
def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/log", headers={"X-Request-ID": "<script>"})
    assert len(response["X-Request-ID"]) == 32


def test_stdlib_loggers_are_structured_and_redacted(json_lines):
    logging.getLogger("django_q").warning(
        "calling https://user:hunter2@sentry.example.org/api/0/ with Bearer sntrys_abcdefgh1234"
    )
    (line,) = json_lines()
    assert "hunter2" not in line["event"]
    assert "sntrys_abcdefgh1234" not in line["event"]
    assert line["level"] == "warning"
    assert line["logger"] == "django_q"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop",
        "postgres://vigie:pa55word@db:5432/vigie",
        "GET /feed?token=0123456789abcdef",
    ],
)
def test_secrets_inside_text_are_redacted(text):
    assert REDACTED in redact_text(text)


def test_secret_keys_are_redacted():
    event = redact_secrets(None, "info", {"password": "x", "api_key": "y", "count": 3})
    assert event == {"password": REDACTED, "api_key": REDACTED, "count": 3}
