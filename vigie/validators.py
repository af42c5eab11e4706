"""Text no database stores and no person types: refused at the edge, with a message."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
