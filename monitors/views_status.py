"""The pages that answer "is it up?": the 2-minute page and its JSON, the public status page,
runbooks, and the status page updates the vigie writes on an incident."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from monitors import public, status
from monitors.models import Incident, Runbook
from monitors.views import _may_act
from rotation.api import _api_user
from rotation.context_processors import current_watch
from rotation.models import Membership, Team


def _team_for(user, slug, memberships):
    """The team asked for (else the user's first) when the user may read it, else None: its
    members and superusers only, as the rotation's pages (the page shows the vigie's phone)."""
    if slug:
        for membership in memberships:
            if membership.team.slug == slug:
                return membership.team
        return Team.objects.filter(slug=slug).first() if user.is_superuser else None
    if memberships:
        return memberships[0].team
    return Team.objects.first() if user.is_superuser else None


@require_GET
def status_page(request):
    watch = current_watch(request)
    slug = request.GET.get("team", "")
    team = _team_for(request.user, slug, watch.memberships)
    if team is None:
        if slug:
            raise Http404(_("Unknown team."))
        return render(request, "rotation/no_team.html")
    # The top bar's badge already asked who is on watch in the user's own team.
    state = watch.state if team == watch.team else None
    answers = status.team_status(team, timezone.now(), state)
    context = {"status": answers, "team": team, "teams": [m.team for m in watch.memberships]}
    if request.htmx:
        response = render(request, "monitors/status.html#status-board", context)
        # The page's script swaps only what carries this (not a login page after a logout).
        response["X-Vigie-Status"] = "1"
        return response
    return render(request, "monitors/status.html", context)


@login_not_required
@require_GET
def status_json(request):
    """`/status.json`: the page's answers for a session or an API token of "Mes vigies"."""
    user = _api_user(request)
    if user is None:
        response = JsonResponse({"error": "authentication required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="vigie"'
        return response
    memberships = [
        m
        for m in Membership.objects.filter(user=user).select_related("team").order_by("pk")
        if m.active
    ]
    slug = request.GET.get("team", "")
    team = _team_for(user, slug, memberships)
    if team is None:
        return JsonResponse({"error": f"unknown team: {slug}" if slug else "no team"}, status=404)
    return JsonResponse(status.as_json(status.team_status(team, timezone.now())))


@login_not_required
@require_GET
def public_status(request, slug):
    content = public.cached_page(slug)
    if content is None:
        raise Http404(_("Unknown team."))
    response = render(request, "monitors/public.html", content)
    response["Cache-Control"] = f"public, max-age={public.CACHE_SECONDS}"
    return response


@require_GET
def runbook_list(request):
    runbooks = Runbook.objects.select_related("team").order_by("team__name", "slug")
    return render(request, "monitors/runbooks.html", {"runbooks": runbooks})


@require_GET
def runbook_detail(request, team, slug):
    runbook = get_object_or_404(Runbook.objects.select_related("team"), team__slug=team, slug=slug)
    return render(request, "monitors/runbook.html", {"runbook": runbook})


@require_POST
def publish_update(request, pk):
    """A "status page update": the text users read on the public page."""
    incident = get_object_or_404(Incident.objects.select_related("team"), pk=pk)
    if not _may_act(request.user, incident.team):
        raise PermissionDenied
    title = request.POST.get("public_title", "").strip()[:200]
    if title and title != incident.public_title:
        incident.public_title = title
        incident.save(update_fields=["public_title"])
    text = request.POST.get("text", "").strip()[:5000]
    if text:
        incident.publish(request.user, text)
        public.forget(incident.team)
    else:
        messages.warning(request, _("Write the message users will read."))
    return redirect("monitors:incident", pk=incident.pk)
