from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorsConfig(AppConfig):
    name = "monitors"
    verbose_name = _("Monitors")

    def ready(self):
        from monitors import rules
        from rotation import handover
        from triage.signals import sync_finished
        from vigie import health, metrics, navigation, notify, schedules

        navigation.register(_("Status"), "monitors:status", order=5)
        navigation.register(_("Monitors"), "monitors:overview", order=30)
        navigation.register(_("Incidents"), "monitors:incidents", order=35)
        # Every minute; the task works one slot every few seconds until the minute ends.
        schedules.declare("monitors.tick", "monitors.tasks.tick", 1)
        schedules.declare("monitors.fold_and_prune", "monitors.tasks.fold_and_prune", 24 * 60)
        # Digests are due at 9:00 in each team's time zone; a round every 5 minutes sends them.
        schedules.declare("monitors.send_digests", "monitors.digests.send_due", 5)
        sync_finished.connect(rules.after_sync, dispatch_uid="monitors.rules.after_sync")
        # The uptimes and percentiles /monitors shows, refreshed from the hourly aggregates.
        schedules.declare("monitors.summarize", "monitors.tasks.summarize", 5)
        health.register(
            "scheduler", "monitors.health.check_scheduler", own=True, label=_("Check scheduler")
        )
        metrics.register_gauges("monitors.health.check_gauges")
        handover.register("alerts", "monitors.health.alerts", _("Alerts"))
        handover.register("incidents", "monitors.health.incidents", _("Incidents"))

        from monitors.models import record_notification_outcome
        from vigie.notify import outbox

        outbox.settled.connect(record_notification_outcome, dispatch_uid="monitors.timeline")
        if "monitors.models.team_destinations" not in notify.TEAM_DESTINATIONS:
            notify.TEAM_DESTINATIONS.append("monitors.models.team_destinations")
