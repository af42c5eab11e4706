"""JSON API: who is on watch, for scripts and chat bots (session or bearer token)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from rotation.models import ApiToken, Membership, Team
from rotation.schedule import on_watch


def _api_user(request):
    if request.user.is_authenticated:
        return request.user
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = ApiToken.objects.matching(header.removeprefix("Bearer ").strip())
    token = token.select_related("user").first()
    if token is None or not token.user.is_active:
        return None
    # At most one write a minute per token: the API is polled by bots.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _segment(team, segment):
    if segment is None:
        return None
    user = segment.membership.user
    return {
        "name": segment.membership.name,
        "email": user.email,
        "phone": segment.membership.profile.phone,
        "chat_handle": segment.membership.profile.chat_handle,
        "start": team.local(segment.start).isoformat(),
        "end": team.local(segment.end).isoformat(),
        "override": segment.is_override,
    }


@login_not_required
@require_GET
def oncall(request, slug):
    """`{"now": {...} | null, "next": {...} | null}`; times in the team's zone, with offset."""
    user = _api_user(request)
    if user is None:
        response = JsonResponse({"error": "authentication required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="vigie"'
        return response
    # One query: the team and whether this user may read it.
    team = (
        Team.objects.filter(slug=slug)
        .annotate(is_member=Exists(Membership.objects.filter(team=OuterRef("pk"), user=user)))
        .first()
    )
    if team is None or not (team.is_member or user.is_superuser):
        return JsonResponse({"error": f"unknown team: {slug}"}, status=404)
    state = on_watch(team)
    return JsonResponse(
        {
            "team": team.slug,
            "timezone": team.timezone,
            "now": _segment(team, state.now),
            "next": _segment(team, state.next),
        }
    )
