"""Email through Django's configured backend (SMTP in production, locmem in tests)."""

import smtplib

from django.core.mail import send_mail

from .base import Transport, TransportError


class EmailTransport(Transport):
    def send(self, channel, message):
        if not channel.address:
            raise TransportError("no email address configured", permanent=True)
        try:
            send_mail(message.subject, message.as_plain_text(), None, [channel.address])
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {channel.address}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email not sent: {exc.__class__.__name__}") from exc
