"""Chat incoming webhooks: one JSON POST through Vigie's HTTP chokepoint."""

from vigie import http
from vigie.http import UpstreamError
from vigie.logging import register_secret

from .base import Transport, TransportError

# A chat message is worth one quick retry, not a minute of a worker.
POLICY = http.RetryPolicy(attempts=2, backoff=0.2)


class WebhookTransport(Transport):
    def payload(self, message):
        raise NotImplementedError

    def send(self, channel, message):
        if not channel.url:
            raise TransportError("no webhook URL configured", permanent=True)
        register_secret(channel.url)  # the URL is the credential: never echoed in an error
        try:
            http.request("POST", channel.url, json=self.payload(message), policy=POLICY)
        except UpstreamError as exc:
            raise TransportError(str(exc), permanent=exc.permanent) from exc
