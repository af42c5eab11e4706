"""Periodic rotation work, declared in RotationConfig.ready()."""

import structlog

from rotation import schedule, services
from rotation.models import Team

logger = structlog.get_logger(__name__)


def regenerate_rotations():
    """Daily: keep six months of watches ahead, following absences and departures."""
    for team in Team.objects.all():
        try:
            result = schedule.generate(team)
        except Exception:
            # One team's broken data must not leave every other team without watches.
            logger.exception("rotation_generation_failed", team=team.slug)
            continue
        if result.skipped_slots:
            logger.warning("rotation_has_holes", team=team.slug, slots=result.skipped_slots)
        if result.uncovered:
            # The managers were told by email; the log keeps it for whoever reads the worker.
            logger.warning(
                "rotation_absences_uncovered", team=team.slug, stretches=len(result.uncovered)
            )


def handover_tick():
    services.create_due_handovers()
    services.remind_unacknowledged()
