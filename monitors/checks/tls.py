"""TLS certificate: valid for the host, trusted, and not about to expire."""

import contextlib
import ssl
from datetime import UTC, datetime

from cryptography import x509
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vigie.http import Deadline, ProbeError, open_connection
from vigie.phrases import Phrase

from .base import REQUIRED, Key, Outcome, clean_config, host_name, number

SCHEMA = {
    "host": Key(host_name, REQUIRED),
    "port": Key(number(minimum=1, maximum=65535, integer=True), 443),
    "sni": Key(host_name, None),  # None: the host
    "warn_days": Key(number(minimum=0, integer=True), 21),
    "critical_days": Key(number(minimum=0, integer=True), 7),
}

# OpenSSL verification codes, named the way a person would say them.
_VERIFY_FAILURES = {
    10: gettext_noop("expired certificate"),
    9: gettext_noop("certificate not yet valid"),
    18: gettext_noop("self-signed certificate"),
    19: gettext_noop("self-signed certificate in the chain"),
    20: gettext_noop("certificate signed by an unknown authority"),
    21: gettext_noop("certificate signed by an unknown authority"),
    62: gettext_noop("certificate for another host"),
}


def validate(config):
    cleaned = clean_config(SCHEMA, config)
    if cleaned["sni"] is None:
        cleaned["sni"] = cleaned["host"]
    if cleaned["critical_days"] > cleaned["warn_days"]:
        message = _("must not be more than warn_days (%(warn)s)") % {"warn": cleaned["warn_days"]}
        raise ValidationError({"critical_days": message})
    return cleaned


def targets(config):
    return {"host": None if "${" in config["host"] else config["host"]}


def _peer_certificate(config, *, deadline, allow_private, verify):
    sock = open_connection(
        config["host"],
        config["port"],
        deadline=deadline,
        allow_private=allow_private,
        tls_server_name=config["sni"],
        verify=verify,
    )
    try:
        return x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
    finally:
        deadline.cancel()
        sock.close()


def describe(certificate, now):
    expires_at = certificate.not_valid_after_utc
    return {
        "expires_at": expires_at.isoformat(),
        "days_left": (expires_at - now).days,
        "issuer": certificate.issuer.rfc4514_string(),
        "subject": certificate.subject.rfc4514_string(),
    }


def run(config, *, timeout, allow_private):
    deadline = Deadline(timeout)
    now = datetime.now(UTC)
    try:
        certificate = _peer_certificate(
            config, deadline=deadline, allow_private=allow_private, verify=True
        )
    except ProbeError as exc:
        cause = exc.cause
        if not isinstance(cause, ssl.SSLCertVerificationError):
            raise
        details = {}
        # Fetch the certificate again without verifying it, to say when it expires and who
        # issued it; the verdict stays the failure above.
        with contextlib.suppress(ProbeError, ValueError):
            unverified = _peer_certificate(
                config, deadline=deadline, allow_private=allow_private, verify=False
            )
            details = describe(unverified, now)
        reason = _VERIFY_FAILURES.get(cause.verify_code, gettext_noop("certificate verify failed"))
        message = Phrase(
            gettext_noop("TLS: %(reason)s (%(detail)s)"),
            reason=Phrase(reason),
            detail=cause.verify_message,
        )
        return Outcome(ok=False, message=message, details=details)
    details = describe(certificate, now)
    left = certificate.not_valid_after_utc - now
    expiry = Phrase(
        gettext_noop("certificate expires in %(count)s day (%(date)s)"),
        gettext_noop("certificate expires in %(count)s days (%(date)s)"),
        count=left.days,
        date=details["expires_at"][:10],
    )
    if left.days < config["critical_days"]:
        return Outcome(ok=False, message=expiry, details=details)
    if left.days < config["warn_days"]:
        return Outcome(ok=False, message=expiry, details=details, severity="warning")
    return Outcome(ok=True, message=expiry, details=details)
