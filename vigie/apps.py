from django.apps import AppConfig
from django.db.models.signals import post_migrate


class VigieConfig(AppConfig):
    name = "vigie"
    verbose_name = "Vigie"

    def ready(self):
        from django_q.signals import post_spawn

        from vigie import shutdown

        post_migrate.connect(_sync_schedules, sender=self)
        post_migrate.connect(create_cache_table, sender=self)
        post_spawn.connect(shutdown.listen, dispatch_uid="vigie.shutdown")


def _sync_schedules(using, **kwargs):
    # Every `migrate` leaves django-q2's schedules matching the code.
    from vigie.schedules import sync_schedules

    sync_schedules()


def create_cache_table(using, **kwargs):
    # VIGIE_CACHE=database: `migrate` makes its table (a no-op when it exists or is not used).
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
