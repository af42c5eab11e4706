"""Overrides: someone covers part or all of another's watch."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from rotation import services
from rotation.forms import OverrideForm
from rotation.models import Override
from rotation.views.common import confirm, confirmed_by_post, forbidden, get_team


def create_override(request, slug):
    team, membership = get_team(request, slug)
    if membership is None and not request.user.is_superuser:
        raise Http404
    actor = None if team.managed_by(request.user, membership) else membership
    form = OverrideForm(request.POST or None, team=team, actor=actor, user=request.user)
    if request.method == "POST" and form.is_valid():
        override = form.save(commit=False)
        override.created_by = request.user
        override.save()
        messages.success(
            request,
            _("%(name)s covers from %(start)s to %(end)s.")
            % {
                "name": override.membership.name,
                "start": services.format_local(team, override.start),
                "end": services.format_local(team, override.end),
            },
        )
        return redirect("rotation:team-calendar", team.slug)
    return render(request, "rotation/override_form.html", {"team": team, "form": form})


@confirmed_by_post
def delete_override(request, slug, pk):
    team, membership = get_team(request, slug)
    override = get_object_or_404(
        Override.objects.select_related("membership__user"), team=team, pk=pk
    )
    if not override.removable_by(request.user, membership):
        return forbidden(request, team)
    if request.method == "GET":
        question = _("Remove the override of %(name)s from %(start)s to %(end)s?") % {
            "name": override.membership.name,
            "start": services.format_local(team, override.start),
            "end": services.format_local(team, override.end),
        }
        return confirm(request, question, reverse("rotation:team-calendar", args=[team.slug]))
    override.delete()
    messages.success(request, _("Override removed."))
    return redirect("rotation:team-calendar", team.slug)
