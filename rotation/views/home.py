"""The home page's rotation panel (registered in RotationConfig.ready())."""

from rotation import schedule
from rotation.context_processors import current_watch


def home_panel(request):
    """The home page's "who is on watch" panel, the team's escalation chain and the stretches
    of absence nobody covers."""
    watch = current_watch(request)
    if watch.team is None:
        return None
    escalation = watch.team.escalation_levels.select_related("membership__user__profile").order_by(
        "order"
    )
    return {
        "state": watch.state,
        "team": watch.team,
        "escalation": escalation,
        "uncovered": schedule.uncovered_absences(watch.team),
    }
