"""The team's members: absences, leaving the rotation, the calendar feeds' addresses."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rotation import schedule, services
from rotation.forms import AbsenceForm
from rotation.models import Absence, Membership
from rotation.views.common import confirm, confirmed_by_post, forbidden, get_team


def list_members(request, slug):
    team, membership = get_team(request, slug)
    now = timezone.now()
    # The team's own related manager: each member's `team` (for `active`) costs no query.
    members = sorted(
        team.memberships.select_related("user__profile").order_by("user__first_name"),
        key=lambda m: not m.active,
    )
    absences = (
        Absence.objects.filter(membership__team=team, end__gt=now)
        .select_related("membership__user")
        .order_by("start")
    )
    form = AbsenceForm(team=team, initial={"membership": membership})
    if request.method == "POST":
        form = AbsenceForm(request.POST, team=team)
        if form.is_valid():
            if not form.instance.declarable_by(request.user, membership):
                form.add_error("membership", _("You can only declare your own absences."))
            else:
                form.save()
                result = schedule.generate(team)
                messages.success(
                    request, _("Absence saved; the rotation was regenerated (%s).") % result
                )
                return redirect("rotation:members", team.slug)
    return render(
        request,
        "rotation/members.html",
        {
            "team": team,
            "membership": membership,
            "can_manage": team.managed_by(request.user, membership),
            "members": members,
            "absences": absences,
            "form": form,
        },
    )


@confirmed_by_post
def remove_member(request, slug, pk):
    team, membership = get_team(request, slug)
    if not team.managed_by(request.user, membership):
        return forbidden(request, team)
    leaving = get_object_or_404(Membership.objects.active(team.today()), team=team, pk=pk)
    if request.method == "GET":
        question = _("Remove %(name)s from the rotation?") % {"name": leaving.name}
        return confirm(request, question, reverse("rotation:members", args=[team.slug]))
    result = services.leave_team(leaving)
    messages.success(
        request,
        _("%(name)s left the rotation; their watches were handed to others (%(result)s).")
        % {"name": leaving.name, "result": result},
    )
    if result.skipped_slots:
        messages.warning(request, _("Some watches have nobody available: add a member."))
    return redirect("rotation:members", team.slug)


@confirmed_by_post
def regenerate_feed_token(request, slug):
    """A new address for a feed (?scope=me or team): every calendar subscribed to the old one
    stops being updated, so it asks first."""
    team, membership = get_team(request, slug)
    scope = request.GET.get("scope")
    if scope == "team":
        if not team.managed_by(request.user, membership):
            return forbidden(request, team)
        question = _(
            "Give the team feed a new address? Calendars subscribed to the old one will no "
            "longer be updated."
        )
    elif scope == "me" and membership is not None:
        question = _(
            "Give your feed a new address? Calendars subscribed to the old one will no longer "
            "be updated."
        )
    else:
        raise Http404(_("Unknown feed."))
    if request.method == "GET":
        return confirm(request, question, reverse("rotation:members", args=[team.slug]))
    if scope == "team":
        team.regenerate_feed_token()
    else:
        membership.regenerate_feed_token()
    messages.success(request, _("New feed address created; the old one no longer works."))
    return redirect("rotation:members", team.slug)
