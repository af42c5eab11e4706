from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = _("Triage")

    def ready(self):
        from vigie import health, metrics, schedules

        schedules.declare("triage.sync_due_sources", "triage.tasks.sync_due_sources", 1)
        health.CHECKS["sources"] = "triage.health.check_sources"
        metrics.register_gauges("triage.health.source_gauges")
