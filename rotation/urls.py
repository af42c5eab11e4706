from django.urls import path

from rotation import api, feeds
from rotation.views import calendar, fairness, handovers, members, mine, overrides, swaps

app_name = "rotation"

urlpatterns = [
    path("rotation/", calendar.show_calendar, name="calendar"),
    path("rotation/mine/", mine.my_watches, name="my-watches"),
    path("rotation/mine/tokens", mine.issue_api_token, name="issue-api-token"),
    path("rotation/mine/tokens/<int:pk>/revoke", mine.revoke_api_token, name="revoke-api-token"),
    path("rotation/<slug:slug>/", calendar.team_calendar, name="team-calendar"),
    path("rotation/<slug:slug>/members/", members.list_members, name="members"),
    path(
        "rotation/<slug:slug>/members/<int:pk>/remove", members.remove_member, name="remove-member"
    ),
    path("rotation/<slug:slug>/overrides/new", overrides.create_override, name="create-override"),
    path(
        "rotation/<slug:slug>/overrides/<int:pk>/delete",
        overrides.delete_override,
        name="delete-override",
    ),
    path("rotation/<slug:slug>/swap", swaps.swap_shifts, name="swap-shifts"),
    path("rotation/<slug:slug>/swap/<int:pk>", swaps.decide_swap, name="decide-swap"),
    path("rotation/<slug:slug>/generate", calendar.generate_shifts, name="generate-shifts"),
    path(
        "rotation/<slug:slug>/feed-token",
        members.regenerate_feed_token,
        name="regenerate-feed-token",
    ),
    path("rotation/<slug:slug>/fairness/", fairness.show_fairness, name="fairness"),
    path("rotation/<slug:slug>/history/", handovers.team_history, name="team-history"),
    path(
        "rotation/<slug:slug>/watches/<int:pk>/note", handovers.write_watch_note, name="watch-note"
    ),
    path("rotation/<slug:slug>/handovers/<int:pk>/", handovers.show_handover, name="handover"),
    path(
        "rotation/<slug:slug>/handovers/<int:pk>/acknowledge",
        handovers.acknowledge_handover,
        name="acknowledge-handover",
    ),
    path("history/", handovers.show_history, name="history"),
    path("api/teams/<slug:slug>/oncall", api.oncall, name="api-oncall"),
    path("feeds/teams/<str:token>.ics", feeds.team_feed, name="team-feed"),
    path("feeds/members/<str:token>.ics", feeds.member_feed, name="member-feed"),
]
