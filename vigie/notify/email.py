"""Email through Django's configured backend (SMTP in production, locmem in tests)."""

import smtplib

from django.core.mail import EmailMessage

from .base import Transport, TransportError


class EmailTransport(Transport):
    secret_keys = ()

    def send(self, config, message, *, key):
        to = config.get("to")
        if not to:
            raise TransportError("no email address configured", permanent=True)
        email = EmailMessage(
            message.subject,
            message.as_plain_text(),
            to=[to],
            headers={"X-Vigie-Idempotency-Key": key},
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {to}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email not sent: {exc.__class__.__name__}") from exc
