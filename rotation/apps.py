from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RotationConfig(AppConfig):
    name = "rotation"
    verbose_name = _("Rotation")

    def ready(self):
        from vigie.schedules import declare

        declare("rotation.regenerate", "rotation.tasks.regenerate_rotations", 24 * 60)
        declare("rotation.handovers", "rotation.tasks.handover_tick", 5)
