"""JSON POSTs through Vigie's HTTP chokepoint, for chat webhooks and other JSON receivers."""

import urllib.parse

from django.conf import settings

from vigie import http
from vigie.http import UpstreamError

from .base import Transport, TransportError

# One attempt per delivery: the outbox retries later with backoff, honouring Retry-After.
POLICY = http.RetryPolicy(attempts=1)
TIMEOUT = (5, 15)


def guard(url, *, name):
    """Refuse a receiver inside the network Vigie runs in (the metadata service, the
    database…), unless VIGIE_NOTIFY_ALLOW_PRIVATE (development, tests): anyone who sets a
    contact URL must not make the worker read it. Checked at each delivery, as a name's DNS
    answer can change after the URL was saved. The error names neither the URL (a secret)
    nor the address (the inside of the network), only its kind."""
    if settings.VIGIE_NOTIFY_ALLOW_PRIVATE:
        return
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise TransportError(f"{name}: the URL has no host", permanent=True)
    try:
        kind = http.internal_kind(host)
    except http.ProbeError as exc:
        raise TransportError(f"{name}: {exc.message}") from None  # DNS: retried later
    if kind:
        raise TransportError(
            f"{name}: refused, the receiver's address is not public ({kind})", permanent=True
        )


def post(url, *, name, **kwargs):
    """POST once; an UpstreamError becomes a TransportError that never names the URL.

    Redirects are not followed: a receiver answering one could send the POST to an address
    the guard never saw."""
    guard(url, name=name)
    try:
        response = http.request(
            "POST",
            url,
            policy=POLICY,
            timeout=TIMEOUT,
            name=name,
            allow_redirects=False,
            **kwargs,
        )
    except UpstreamError as exc:
        raise TransportError(
            str(exc), permanent=exc.permanent, retry_after=exc.retry_after
        ) from exc
    if response.is_redirect:
        raise TransportError(
            f"{name}: the receiver answered with a redirect (HTTP {response.status_code}), "
            "not followed",
            permanent=True,
        )
    return response


class ChatTransport(Transport):
    """Slack-like incoming webhooks: the URL is the secret, the body a small JSON object."""

    name = "webhook"

    def payload(self, message):
        raise NotImplementedError

    def send(self, config, message, *, key):
        url = config.get("url")
        if not url:
            raise TransportError("no webhook URL configured", permanent=True)
        post(url, name=self.name, json=self.payload(message))
