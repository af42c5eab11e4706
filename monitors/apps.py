from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorsConfig(AppConfig):
    name = "monitors"
    verbose_name = _("Monitors")

    def ready(self):
        from vigie import navigation

        # Shown once these pages exist (an unresolved URL name is left out of the navigation).
        navigation.register(_("Monitors"), "monitors:overview", order=30)
        navigation.register(_("Incidents"), "monitors:incidents", order=35)
