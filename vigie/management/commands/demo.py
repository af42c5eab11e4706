import importlib
import inspect
import os

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = (
        "Load the demo data of every app (each app's demo.load()). Idempotent: running it again "
        "neither fails nor duplicates anything."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Load even with DEBUG off (not for production)."
        )
        parser.add_argument("--url", default="", help="Where Vigie answers, shown with the login.")

    def handle(self, *args, force=False, url="", verbosity=1, **options):
        if not settings.DEBUG and not force:
            raise CommandError("demo data is for development: set DEBUG=true or pass --force")
        password = os.environ.get("VIGIE_DEMO_PASSWORD", "vigie-demo")
        with transaction.atomic():
            admin, created = get_user_model().objects.get_or_create(
                username=DEMO_ADMIN,
                defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.org"},
            )
            if created:
                admin.set_password(password)
                admin.save()
            for app in apps.get_app_configs():
                try:
                    module = importlib.import_module(f"{app.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app.name}.demo":
                        raise
                    continue
                # An app whose demo points at Vigie itself takes the address it is served on.
                wants_url = "url" in inspect.signature(module.load).parameters
                summary = module.load(url=url) if wants_url else module.load()
                if verbosity >= 1:
                    self.stdout.write(f"{app.label}: {summary}")
        # Always printed, even at --verbosity 0: `make run` shows only this line.
        self.stdout.write(
            self.style.SUCCESS(
                (f"Vigie on {url} — " if url else "")
                + f"Admin login: {DEMO_ADMIN} / "
                + (password if created else "(unchanged since the first demo load)")
            )
        )
