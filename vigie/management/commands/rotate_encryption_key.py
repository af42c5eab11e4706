"""Re-encrypt every stored secret with the first key of VIGIE_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from vigie.crypto import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored secrets with the first key of VIGIE_ENCRYPTION_KEYS; the old "
        "keys may then be removed from the list."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            count = reencrypt_all()
        self.stdout.write(f"{count} stored secret(s) re-encrypted with the first key.")
