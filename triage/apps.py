from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = _("Triage")

    def ready(self):
        from rotation import handover
        from vigie import health, metrics, schedules

        schedules.declare("triage.sync_due_sources", "triage.tasks.sync_due_sources", 1)
        health.register("sources", "triage.health.check_sources")
        metrics.register_gauges("triage.health.source_gauges")
        handover.register("qualified", "triage.handover.qualified_items")
        handover.register("bugs", "triage.handover.bugs_opened")
        handover.register("unqualified", "triage.handover.unqualified_items")
        handover.register("discarded_jobs", "triage.handover.discarded_jobs")
        handover.register(
            "small_requests", "triage.handover.small_requests", _("Small requests handled")
        )
