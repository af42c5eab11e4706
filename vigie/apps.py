from django.apps import AppConfig
from django.db.models.signals import post_migrate


class VigieConfig(AppConfig):
    name = "vigie"
    verbose_name = "Vigie"

    def ready(self):
        from django_q.signals import post_spawn

        from vigie import shutdown

        post_migrate.connect(_sync_schedules, sender=self)
        post_spawn.connect(shutdown.listen, dispatch_uid="vigie.shutdown")


def _sync_schedules(using, **kwargs):
    # Every `migrate` leaves django-q2's schedules matching the code.
    from vigie.schedules import sync_schedules

    sync_schedules()
