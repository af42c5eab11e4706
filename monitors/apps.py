from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorsConfig(AppConfig):
    name = "monitors"
    verbose_name = _("Monitors")

    def ready(self):
        from vigie import notify

        if "monitors.models.team_destinations" not in notify.TEAM_DESTINATIONS:
            notify.TEAM_DESTINATIONS.append("monitors.models.team_destinations")
