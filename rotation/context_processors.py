from functools import cached_property

from rotation.models import Membership, Team
from rotation.schedule import on_watch


class CurrentWatch:
    """The user's team and who is on watch there, fetched at most once per request.

    Three queries: the membership with its team, then the watches and overrides around now.
    """

    def __init__(self, user):
        self.user = user

    @cached_property
    def memberships(self):
        """The user's active memberships; other parts of the page (the board's permissions)
        read them here rather than query them again."""
        if not self.user.is_authenticated:
            return []
        memberships = (
            Membership.objects.filter(user=self.user).select_related("team", "user").order_by("pk")
        )
        # Each team has its own "today": `active` reads it in the team's time zone.
        return [m for m in memberships if m.active]

    @cached_property
    def membership(self):
        return self.memberships[0] if self.memberships else None

    @cached_property
    def team(self):
        if self.membership:
            return self.membership.team
        # An administrator outside every team still sees the first team's watch.
        if self.user.is_authenticated and self.user.is_superuser:
            return Team.objects.first()
        return None

    @cached_property
    def state(self):
        return on_watch(self.team) if self.team else None


def current_watch(request):
    if not hasattr(request, "_current_watch"):
        request._current_watch = CurrentWatch(request.user)
    return request._current_watch


def watch_badge(request):
    return {"current_watch": current_watch(request)}
