"""iCalendar feeds (RFC 5545): a team's rotation, or one member's watches.

No login: the secret token in the URL is the credential; regenerating it revokes the old URL.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from rotation.models import HORIZON, Membership, Team
from rotation.reports import team_segments

PAST = timedelta(days=90)


def _calendar(team, name, timeline):
    cal = Calendar()
    cal.add("prodid", "-//Vigie//rotation//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", team.timezone)
    stamp = timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        for segment in timeline:
            event = Event()
            source = segment.override or segment.shift
            kind = "override" if segment.is_override else "shift"
            event.add("uid", f"{kind}-{source.pk}-{int(segment.start.timestamp())}@vigie")
            event.add("dtstamp", stamp)
            event.add("dtstart", segment.start)
            event.add("dtend", segment.end)
            summary = _("Vigie: %(name)s") % {"name": segment.membership.name}
            if segment.is_override:
                summary += " " + _("(covering)")
            event.add("summary", summary)
            if segment.membership.profile.phone:
                event.add("description", segment.membership.profile.phone)
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
    return cal


def _response(cal, filename):
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}.ics"'
    return response


def _window():
    now = timezone.now()
    return now - PAST, now + HORIZON


@login_not_required
@require_GET
def team_feed(request, token):
    team = Team.objects.filter(feed_token=token).first()
    if team is None:
        raise Http404("unknown feed")
    timeline = team_segments(team, *_window())
    return _response(_calendar(team, f"Vigie · {team.name}", timeline), f"vigie-{team.slug}")


@login_not_required
@require_GET
def member_feed(request, token):
    membership = Membership.objects.filter(feed_token=token).select_related("team", "user").first()
    if membership is None or not membership.active:
        raise Http404("unknown feed")
    team = membership.team
    timeline = [s for s in team_segments(team, *_window()) if s.membership.pk == membership.pk]
    return _response(
        _calendar(team, f"Vigie · {team.name} · {membership.name}", timeline),
        f"vigie-{team.slug}-{membership.user.get_username()}",
    )
