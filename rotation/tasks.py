"""Periodic rotation work, declared in RotationConfig.ready()."""

from rotation import schedule, services
from rotation.models import Team


def regenerate_rotations():
    """Daily: keep six months of watches ahead, following absences and departures."""
    for team in Team.objects.all():
        schedule.generate(team)


def handover_tick():
    services.create_due_handovers()
    services.remind_unacknowledged()
