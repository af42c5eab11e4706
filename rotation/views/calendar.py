"""The team's calendar: months of watches, the upcoming overrides, regenerating the rotation."""

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rotation import schedule
from rotation.context_processors import current_watch
from rotation.forms import MonthsForm
from rotation.models import Membership, Override, Team
from rotation.reports import PALETTE_SIZE, month_grid
from rotation.views.common import bad_request, confirm, confirmed_by_post, forbidden, get_team


def show_calendar(request):
    """The rotation entry of the navigation: the user's own team."""
    team = current_watch(request).team
    if team is None:
        team = Team.objects.first() if request.user.is_superuser else None
    if team is None:
        return render(request, "rotation/no_team.html")
    return redirect("rotation:team-calendar", team.slug)


def team_calendar(request, slug):
    team, membership = get_team(request, slug)
    today = team.local(timezone.now()).date()
    window = MonthsForm(request.GET, today=today)
    if not window.is_valid():
        return bad_request(window)
    first, months = window.cleaned_data["from"], window.cleaned_data["months"]
    members = list(Membership.objects.filter(team=team).select_related("user").order_by("pk"))
    grid = month_grid(team, first, months, members)
    overrides = list(
        Override.objects.filter(team=team, end__gt=timezone.now())
        .select_related("membership__user", "covered__user")
        .order_by("start")[:50]
    )
    for override in overrides:
        override.removable = override.removable_by(request.user, membership)
    return render(
        request,
        "rotation/calendar.html",
        {
            "team": team,
            "membership": membership,
            "can_manage": team.managed_by(request.user, membership),
            "overrides": overrides,
            "uncovered": schedule.uncovered_absences(team),
            "grid": grid,
            "legend": [
                (m, i % PALETTE_SIZE) for i, m in enumerate(members) if not m.has_left_by(today)
            ],
            "weekdays": [formats.date_format(date(2024, 1, d), "D") for d in range(1, 8)],
            "months": months,
            "previous": _shift_month(first, -months),
            "following": _shift_month(first, months),
            "today": today,
        },
    )


def _shift_month(first, delta):
    index = first.year * 12 + first.month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@confirmed_by_post
def generate_shifts(request, slug):
    team, membership = get_team(request, slug)
    if not team.managed_by(request.user, membership):
        return forbidden(request, team)
    if request.method == "GET":
        back = reverse("rotation:team-calendar", args=[team.slug])
        return confirm(request, _("Regenerate the future watches?"), back)
    result = schedule.generate(team)
    if result.created == 0 and result.skipped_slots:
        messages.error(request, _("No active member can take a watch: add members first."))
    else:
        messages.success(request, _("Rotation regenerated: %s.") % result)
    return redirect("rotation:team-calendar", team.slug)
