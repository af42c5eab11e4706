"""The home page's rotation panel (registered in RotationConfig.ready())."""

from rotation.context_processors import current_watch


def home_panel(request):
    """The home page's "who is on watch" panel and the team's escalation chain."""
    watch = current_watch(request)
    if watch.team is None:
        return None
    escalation = watch.team.escalation_levels.select_related("membership__user__profile").order_by(
        "order"
    )
    return {"state": watch.state, "team": watch.team, "escalation": escalation}
