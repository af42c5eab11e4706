from django.urls import path

from rotation import api, feeds, views

app_name = "rotation"

urlpatterns = [
    path("rotation/", views.show_calendar, name="calendar"),
    path("rotation/mine/", views.my_watches, name="my-watches"),
    path("rotation/mine/tokens", views.issue_api_token, name="issue-api-token"),
    path("rotation/mine/tokens/<int:pk>/revoke", views.revoke_api_token, name="revoke-api-token"),
    path("rotation/<slug:slug>/", views.team_calendar, name="team-calendar"),
    path("rotation/<slug:slug>/members/", views.list_members, name="members"),
    path("rotation/<slug:slug>/members/<int:pk>/remove", views.remove_member, name="remove-member"),
    path("rotation/<slug:slug>/overrides/new", views.create_override, name="create-override"),
    path(
        "rotation/<slug:slug>/overrides/<int:pk>/delete",
        views.delete_override,
        name="delete-override",
    ),
    path("rotation/<slug:slug>/swap", views.swap_shifts, name="swap-shifts"),
    path("rotation/<slug:slug>/swap/<int:pk>", views.decide_swap, name="decide-swap"),
    path("rotation/<slug:slug>/generate", views.generate_shifts, name="generate-shifts"),
    path(
        "rotation/<slug:slug>/feed-token", views.regenerate_feed_token, name="regenerate-feed-token"
    ),
    path("rotation/<slug:slug>/fairness/", views.show_fairness, name="fairness"),
    path("rotation/<slug:slug>/history/", views.team_history, name="team-history"),
    path("rotation/<slug:slug>/handovers/<int:pk>/", views.show_handover, name="handover"),
    path(
        "rotation/<slug:slug>/handovers/<int:pk>/acknowledge",
        views.acknowledge_handover,
        name="acknowledge-handover",
    ),
    path("history/", views.show_history, name="history"),
    path("api/teams/<slug:slug>/oncall", api.oncall, name="api-oncall"),
    path("feeds/teams/<str:token>.ics", feeds.team_feed, name="team-feed"),
    path("feeds/members/<str:token>.ics", feeds.member_feed, name="member-feed"),
]
