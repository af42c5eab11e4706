"""Secrets stored in the database, encrypted at rest (Fernet, keys from the environment).

`VIGIE_ENCRYPTION_KEYS` holds comma-separated Fernet keys: the first encrypts, all decrypt
(MultiFernet), so a key is rotated by putting the new one first, running
`manage.py rotate_encryption_key`, then removing the old one. A database dump alone gives
nothing: the column holds `fernet:<token>`, never the secret.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from vigie.logging import register_secret

PREFIX = "fernet:"


@cache
def _fernet(keys):
    return MultiFernet([Fernet(key) for key in keys])


def fernet():
    return _fernet(tuple(settings.VIGIE_ENCRYPTION_KEYS))


def encrypt(value):
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored):
    """The plaintext of a stored value; a value stored before encryption comes back as is."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted with VIGIE_ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?)"
        ) from None


class EncryptedTextField(models.TextField):
    """A secret: encrypted when written, decrypted (and registered for redaction) when read.
    Only emptiness can be filtered on: equal secrets encrypt differently."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return register_secret(decrypt(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value or value.startswith(PREFIX):
            return value
        return encrypt(value)


def encrypted_fields():
    """(model, field name) of every encrypted field of the installed apps."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def reencrypt_all():
    """Re-encrypt every stored secret with the first key. Returns how many were rewritten."""
    count = 0
    for model, name in encrypted_fields():
        for pk, value in model._default_manager.exclude(**{name: ""}).values_list("pk", name):
            # `value` is the plaintext (from_db_value): saving encrypts it with the first key.
            model._default_manager.filter(pk=pk).update(**{name: value})
            count += 1
    return count
