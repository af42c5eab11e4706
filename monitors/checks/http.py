"""HTTP(S): a URL answers with an expected status, the right content, fast enough."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vigie.http import format_seconds, probe
from vigie.phrases import Phrase

from .base import (
    REQUIRED,
    Key,
    Outcome,
    clean_config,
    expand,
    http_url,
    number,
    string_map,
    text,
    url_host,
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def method(value):
    value = text(value).upper()
    if value not in METHODS:
        raise ValueError(_("expected one of %(choices)s") % {"choices": ", ".join(METHODS)})
    return value


def statuses(value):
    values = value if isinstance(value, list) else [value]
    parse = number(minimum=100, maximum=599, integer=True)
    try:
        return [parse(status) for status in values]
    except ValueError:
        raise ValueError(_("expected HTTP statuses between 100 and 599")) from None


SCHEMA = {
    "url": Key(http_url, REQUIRED),
    "method": Key(method, "GET"),
    "headers": Key(string_map, {}),
    "body": Key(text, ""),
    "expect_status": Key(statuses, None),  # None: any status from 200 to 399
    "keyword": Key(text, ""),
    "absent_keyword": Key(text, ""),
    "max_latency": Key(number(minimum=0), None),  # seconds
}


def validate(config):
    return clean_config(SCHEMA, config)


def targets(config):
    return {"url": url_host(config["url"])}


def run(config, *, timeout, allow_private):
    response = probe(
        config["method"],
        expand(config["url"]),
        headers={name: expand(value) for name, value in config["headers"].items()},
        body=expand(config["body"]).encode() or None,
        timeout=timeout,
        allow_private=allow_private,
    )
    latency = response.elapsed
    details = {"redirects": response.redirects, "bytes_read": len(response.body)}
    if response.truncated:
        details["truncated"] = True
    outcome = Outcome(
        ok=False, message="", latency=latency, status_code=response.status, details=details
    )
    expected = config["expect_status"]
    status_ok = response.status in expected if expected else 200 <= response.status < 400
    if not status_ok:
        outcome.message = f"HTTP {response.status}"
    elif config["keyword"] and config["keyword"] not in response.text():
        outcome.message = Phrase(
            gettext_noop("keyword not found in the first 1 MB: %(keyword)s")
            if response.truncated
            else gettext_noop("keyword not found: %(keyword)s"),
            keyword=config["keyword"],
        )
    elif config["absent_keyword"] and config["absent_keyword"] in response.text():
        outcome.message = Phrase(
            gettext_noop("forbidden keyword found: %(keyword)s"), keyword=config["absent_keyword"]
        )
    elif config["max_latency"] is not None and latency > config["max_latency"]:
        outcome.message = Phrase(
            gettext_noop("slow: %(latency)s > %(limit)s"),
            latency=format_seconds(latency),
            limit=format_seconds(config["max_latency"]),
        )
    else:
        outcome.ok = True
        outcome.message = f"HTTP {response.status}"
    return outcome
