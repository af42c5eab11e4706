"""Stored source secrets are encrypted at rest (Fernet); keys rotate without losing them."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from triage.models import Source
from triage.tests.factories import SourceFactory
from vigie.crypto import PREFIX, decrypt

pytestmark = pytest.mark.django_db

TOKEN = "sntrys_real_looking_token_0123456789abcdef"


def raw_token(source):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM triage_source WHERE id = %s", [source.pk])
        return cursor.fetchone()[0]


def test_the_column_holds_ciphertext_and_the_model_the_token():
    source = SourceFactory(secret=TOKEN)
    stored = raw_token(source)
    assert stored.startswith(PREFIX) and TOKEN not in stored
    assert Source.objects.get(pk=source.pk).secret == TOKEN


def test_rotation_re_encrypts_with_the_new_key_and_the_old_one_can_go(settings):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    settings.VIGIE_ENCRYPTION_KEYS = [old]
    source = SourceFactory(secret=TOKEN)
    before = raw_token(source)
    settings.VIGIE_ENCRYPTION_KEYS = [new, old]
    assert Source.objects.get(pk=source.pk).secret == TOKEN  # the old key still decrypts
    call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = raw_token(source)
    assert after != before
    settings.VIGIE_ENCRYPTION_KEYS = [new]
    assert Source.objects.get(pk=source.pk).secret == TOKEN
    settings.VIGIE_ENCRYPTION_KEYS = [old]
    with pytest.raises(ImproperlyConfigured, match="VIGIE_ENCRYPTION_KEYS"):
        decrypt(after)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_plaintext_tokens():
    before = [("triage", "0006_writeback_none")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_source = executor.loader.project_state(before).apps.get_model("triage", "Source")
    pk = old_source.objects.create(name="old", kind="sentry", token=TOKEN).pk  # plaintext then
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    source = Source.objects.get(pk=pk)
    assert raw_token(source).startswith(PREFIX)
    assert source.secret == TOKEN
