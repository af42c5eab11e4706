import secrets
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from vigie.auth import bearer_token
from vigie.health import evaluate, page_rows, run_checks
from vigie.home import panels as home_panels
from vigie.metrics import render_latest


def home(request):
    healthy, facts = evaluate()
    return render(
        request,
        "home.html",
        {"checks": page_rows(facts), "healthy": healthy, "panels": home_panels(request)},
    )


@login_not_required
@require_GET
@never_cache
def health(request):
    status, body = run_checks(detail=request.user.is_staff)
    return JsonResponse(body, status=status)


@login_not_required
@require_GET
@never_cache
def metrics(request):
    token = settings.METRICS_TOKEN
    if not token and not settings.DEBUG:
        # Open in production they would tell anyone the traffic, the queue, the failing sends.
        return HttpResponse(
            "metrics are off: set METRICS_TOKEN to read them\n",
            status=403,
            content_type="text/plain",
        )
    if token:
        given = bearer_token(request) or ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(render_latest(), content_type=CONTENT_TYPE_LATEST)


def server_error(request):
    """500 handler; a database that does not answer gets its own clear 503 page.

    Renders without context processors: they may need the database that just failed.
    """
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "database unavailable"}, status=503)
        return HttpResponse(loader.render_to_string("503_database.html"), status=503)
    return HttpResponseServerError(loader.render_to_string("500.html"))
