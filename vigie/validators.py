"""Text no database stores and no person types: refused at the edge, with a message."""

import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vigie.http import literal_refusal

BAD_CHARACTERS_MESSAGE = _(
    "The text holds a NUL byte or an invalid character (a lone surrogate): remove it."
)


def has_bad_characters(text):
    """NUL bytes (PostgreSQL refuses them in text) and lone surrogates (not encodable)."""
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def no_bad_characters(text):
    """A form/model validator."""
    if has_bad_characters(str(text)):
        raise ValidationError(BAD_CHARACTERS_MESSAGE, code="bad_characters")


def receiver_url(value):
    """A model validator for a URL notifications are posted to (an ntfy topic, a chat
    webhook): https:// and no plainly internal host, unless VIGIE_NOTIFY_ALLOW_PRIVATE.
    A name is not resolved here: each delivery guards the address it reaches
    (vigie.notify.chat.guard)."""
    if settings.VIGIE_NOTIFY_ALLOW_PRIVATE:
        return
    try:
        parts = urllib.parse.urlsplit(value)
        host = parts.hostname
    except ValueError:
        return  # the URL field's own validator says what is wrong with it
    if parts.scheme != "https":
        raise ValidationError(
            _("Use an https:// address: notifications are sent encrypted only."),
            code="not_https",
        )
    refusal = literal_refusal(host)
    if refusal:
        raise ValidationError(
            _("%(host)s is %(kind)s: notifications are sent to public addresses only."),
            code="internal_address",
            params={"host": host, "kind": gettext(refusal.msgid)},
        )
