from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitors import charts, runbooks
from monitors.models import (
    Check,
    Incident,
    MaintenanceWindow,
    latency_percentiles,
    read_ack_token,
)
from rotation.api import _api_user
from rotation.models import Membership, Team

WINDOWS = ("24h", "7d", "30d")
PER_PAGE = 50


def _may_act(user, team):
    return user.is_superuser or Membership.objects.filter(team=team, user=user).exists()


@require_GET
def overview(request):
    """Every check with its state, uptimes, sparkline: all read from the check rows (kept by
    record and summarize_checks), the down ones first, PER_PAGE a page (rendering 1,000 rows
    took 300 ms). Queries: count, checks with their teams, teams."""
    filters = {key: request.GET.get(key, "") for key in ("team", "state", "kind", "category")}
    rows = Check.objects.select_related("team")
    if filters["team"]:
        rows = rows.filter(team__slug=filters["team"])
    for key in ("state", "kind", "category"):
        if filters[key]:
            rows = rows.filter(**{key: filters[key]})
    problems_first = Case(
        When(state=Check.State.DOWN, then=Value(0)),
        When(state=Check.State.UNKNOWN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    page = Paginator(rows.order_by(problems_first, "team__name", "name"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = page.object_list
    in_maintenance = MaintenanceWindow.objects.covered(rows, timezone.now())
    for check in rows:
        check.in_maintenance = check.pk in in_maintenance
        check.uptimes = [(name, getattr(check, f"uptime_{name}")) for name in WINDOWS]
        check.spark = charts.sparkline(check.recent_latencies)
    context = {
        "checks": rows,
        "page": page,
        "filters": filters,
        "teams": Team.objects.order_by("name"),
        "states": Check.State.choices,
        "kinds": Check.Kind.choices,
        "categories": Check.Category.choices,
    }
    template = "monitors/overview.html"
    if request.headers.get("HX-Request"):
        template += "#check-table"
    return render(request, template, context)


@require_GET
def check_detail(request, pk):
    check = get_object_or_404(Check.objects.select_related("team"), pk=pk)
    now = timezone.now()
    start = now - timedelta(hours=24)
    results = list(check.results.filter(at__gte=start).order_by("at"))
    context = {
        "check": check,
        "bands": charts.bands(results, start, now),
        "lines": charts.latency_lines(results, start, now),
        "ticks": charts.time_ticks(start, now, timedelta(hours=3)),
        "incidents": check.incidents.all()[:20],
        "last_failure": check.results.filter(ok=False).first(),
        "percentiles": latency_percentiles(check.pk, now - timedelta(days=30), now),
        "runbook": runbooks.resolve_one(check.team, check.runbook),
    }
    return render(request, "monitors/check.html", context)


@require_GET
def incident_list(request):
    """Unresolved first (unacknowledged on top), then the recent ones. One query."""
    order = Case(
        When(state=Incident.State.OPEN, then=Value(0)),
        When(state=Incident.State.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    incidents = Incident.objects.select_related("team").order_by(order, "-opened_at")[:100]
    template = "monitors/incidents.html"
    if request.headers.get("HX-Request"):
        template += "#incident-table"
    return render(request, template, {"incidents": incidents})


@require_GET
def incident_detail(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("team", "monitor", "rule"), pk=pk)
    context = {
        "incident": incident,
        "events": incident.events.select_related("actor"),
        "notifications": incident.notifications(),
        "may_act": _may_act(request.user, incident.team),
        "runbook": runbooks.resolve_one(incident.team, incident.runbook_ref),
        "status_updates": incident.status_updates.select_related("author"),
    }
    return render(request, "monitors/incident.html", context)


@require_POST
def act_on_incident(request, pk, action):
    incident = get_object_or_404(Incident.objects.select_related("team"), pk=pk)
    if not _may_act(request.user, incident.team):
        raise PermissionDenied
    if action == "ack":
        done = incident.acknowledge(request.user, Incident.How.HAND)
    elif action == "resolve":
        done = incident.resolve(request.user, Incident.How.HAND)
        check = incident.monitor if done else None
        if check is not None and check.state == Check.State.DOWN:
            messages.warning(
                request,
                _(
                    "Incident resolved, but its check %(name)s is still down: its next failure "
                    "opens a new incident."
                )
                % {"name": check.name},
            )
    else:
        text = request.POST.get("text", "").strip()[:5000]
        done = bool(text) and incident.add_note(request.user, text) is not None
    if not done:
        messages.warning(request, _("Nothing changed: the incident had already moved on."))
    return redirect("monitors:incident", pk=incident.pk)


@login_not_required
@csrf_exempt  # the signed token is the credential; GET only shows the button
@require_http_methods(["GET", "POST"])
def ack_link(request, pk, token):
    incident = get_object_or_404(Incident, pk=pk)
    try:
        user_id = read_ack_token(pk, token)
    except signing.SignatureExpired:
        return render(request, "monitors/ack_link.html", {"outcome": "expired"}, status=410)
    except signing.BadSignature:
        return render(request, "monitors/ack_link.html", {"outcome": "invalid"}, status=404)
    if incident.state != Incident.State.OPEN:
        return render(request, "monitors/ack_link.html", {"outcome": "used", "incident": incident})
    if request.method == "GET":
        return render(request, "monitors/ack_link.html", {"outcome": "ask", "incident": incident})
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    done = incident.acknowledge(user, Incident.How.LINK)
    outcome = "done" if done else "used"
    return render(request, "monitors/ack_link.html", {"outcome": outcome, "incident": incident})


@login_not_required
@csrf_exempt  # bearer tokens, no cookie
@require_POST
def api_incident(request, pk, action):
    user = _api_user(request) if "Authorization" in request.headers else None
    if user is None:
        response = JsonResponse({"error": "authentication required"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="vigie"'
        return response
    incident = Incident.objects.filter(pk=pk).select_related("team").first()
    if incident is None or not _may_act(user, incident.team):
        return JsonResponse({"error": "not found"}, status=404)
    if action == "ack":
        done = incident.acknowledge(user, Incident.How.API)
    else:
        done = incident.resolve(user, Incident.How.API)
    incident.refresh_from_db()
    return JsonResponse({"id": incident.pk, "state": incident.state, "changed": done})


@login_not_required
@csrf_exempt  # pinged by cron jobs with curl, like healthchecks.io
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request, token, kind="success"):
    check = Check.objects.filter(ping_token=token, kind=Check.Kind.HEARTBEAT).first()
    if check is None:
        return HttpResponse("not found", status=404, content_type="text/plain")
    check.ping(kind, timezone.now())
    return HttpResponse("OK", content_type="text/plain")
