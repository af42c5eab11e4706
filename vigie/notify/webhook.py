"""Generic JSON webhook: the message as JSON, signed with HMAC-SHA256 of the channel's secret.

The receiver recomputes `hmac_sha256(secret, raw body)` and compares it with
`X-Vigie-Signature: sha256=<hex>`; `X-Vigie-Idempotency-Key` is the same on every retry of
one notification, so a receiver that saw it already can answer 2xx and do nothing.

The body holds the message's `details` (an incident's check, team, opened_at, failure
message…) beside its own fields, which always win; `text` is never empty (the subject when
the message has no more to say)."""

import hashlib
import hmac

from .base import Transport, TransportError, json_body
from .chat import post

SIGNATURE_HEADER = "X-Vigie-Signature"
IDEMPOTENCY_HEADER = "X-Vigie-Idempotency-Key"


def signature(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport(Transport):
    secret_keys = ("url", "secret")

    def send(self, config, message, *, key):
        url, secret = config.get("url"), config.get("secret")
        if not url:
            raise TransportError("no webhook URL configured", permanent=True)
        if not secret:
            raise TransportError("no signing secret configured", permanent=True)
        body = json_body(
            {
                **message.details,
                "key": key,
                "subject": message.subject,
                "text": message.text or message.subject,
                "url": message.url,
                "severity": message.severity,
                "event": message.event,
                "dedup_key": message.dedup_key,
            }
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, body),
            IDEMPOTENCY_HEADER: key,
        }
        post(url, name="webhook", data=body, headers=headers)
