"""What every rotation page shares: the team and the user's place in it, refusals, confirms."""

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rotation.context_processors import current_watch
from rotation.models import Membership, Team


def get_team(request, slug):
    """The team and the user's membership in it; 404 for anyone outside the team."""
    own = current_watch(request).membership
    if own is not None and own.team.slug == slug:
        # The top bar's badge fetched it already.
        return own.team, own
    team = get_object_or_404(Team, slug=slug)
    membership = (
        Membership.objects.filter(team=team, user=request.user).select_related("user").first()
    )
    if membership is None and not request.user.is_superuser:
        raise Http404(_("Unknown team."))
    return team, membership


def bad_request(form):
    """A query the page cannot answer: say which value and why, as plain text."""
    lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")


def forbidden(request, team):
    messages.error(request, _("Only managers and admins change the rotation."))
    return redirect("rotation:team-calendar", team.slug)


def confirm(request, question, back):
    """The GET of a destructive action: a page whose POST form (same URL) does it."""
    return render(request, "rotation/confirm.html", {"question": question, "back": back})


# Destructive actions: a GET asks for confirmation (works without JavaScript), a POST does it.
confirmed_by_post = require_http_methods(["GET", "POST"])
