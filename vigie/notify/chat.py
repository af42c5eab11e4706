"""JSON POSTs through Vigie's HTTP chokepoint, for chat webhooks and other JSON receivers."""

from vigie import http
from vigie.http import UpstreamError

from .base import Transport, TransportError

# One attempt per delivery: the outbox retries later with backoff, honouring Retry-After.
POLICY = http.RetryPolicy(attempts=1)
TIMEOUT = (5, 15)


def post(url, *, name, **kwargs):
    """POST once; an UpstreamError becomes a TransportError that never names the URL."""
    try:
        return http.request("POST", url, policy=POLICY, timeout=TIMEOUT, name=name, **kwargs)
    except UpstreamError as exc:
        raise TransportError(
            str(exc), permanent=exc.permanent, retry_after=exc.retry_after
        ) from exc


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
