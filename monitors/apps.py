from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorsConfig(AppConfig):
    name = "monitors"
    verbose_name = _("Monitors")

    def ready(self):
        from rotation import handover
        from vigie import health, metrics, navigation, notify, schedules

        navigation.register(_("Monitors"), "monitors:overview", order=30)
        navigation.register(_("Incidents"), "monitors:incidents", order=35)
        # Every minute; the task works one slot every few seconds until the minute ends.
        schedules.declare("monitors.tick", "monitors.tasks.tick", 1)
        schedules.declare("monitors.fold_and_prune", "monitors.tasks.fold_and_prune", 24 * 60)
        # The uptimes and percentiles /monitors shows, refreshed from the hourly aggregates.
        schedules.declare("monitors.summarize", "monitors.tasks.summarize", 5)
        health.register("scheduler", "monitors.health.check_scheduler", own=True)
        metrics.register_gauges("monitors.health.check_gauges")
        handover.register("alerts", "monitors.health.alerts", _("Alerts"))
        handover.register("incidents", "monitors.health.incidents", _("Incidents"))

        if "monitors.models.team_destinations" not in notify.TEAM_DESTINATIONS:
            notify.TEAM_DESTINATIONS.append("monitors.models.team_destinations")
