from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RotationConfig(AppConfig):
    name = "rotation"
    verbose_name = _("Rotation")

    def ready(self):
        from vigie import home, navigation
        from vigie.schedules import declare

        declare("rotation.regenerate", "rotation.tasks.regenerate_rotations", 24 * 60)
        declare("rotation.handovers", "rotation.tasks.handover_tick", 5)
        navigation.register(_("Rotation"), "rotation:calendar", order=20)
        navigation.register(_("History"), "rotation:history", order=40)
        home.register(
            "rotation/_home.html",
            "rotation.views.home.home_panel",
            order=10,
            stylesheets=["rotation/rotation.css"],
        )
