import re
import uuid

import sentry_sdk
import structlog
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpResponseBadRequest
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.cache import patch_vary_headers

from vigie.sentry import SENTRY_REQUEST_CONTEXT
from vigie.validators import BAD_CHARACTERS_MESSAGE, has_bad_characters

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Binds a request id to every log line of the request and echoes it in X-Request-ID.

    A well-formed id from the proxy is kept so one request can be followed across services.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response["X-Request-ID"] = request.id
        return response


class SentryRequestMiddleware:
    """Gives `vigie.sentry.before_send` what it needs to judge a not-found error.

    Records where the request came from (Referer) and where it went (Host) on Sentry's scope,
    and hands every Http404 to Sentry: Django turns Http404 into a response without signalling
    it, so a broken internal link (seed 000) would otherwise never be seen.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        scope = sentry_sdk.get_isolation_scope()
        scope.set_context(
            SENTRY_REQUEST_CONTEXT,
            {"referer": request.META.get("HTTP_REFERER", ""), "host": _host(request)},
        )
        try:
            return self.get_response(request)
        finally:
            # Where the scope outlives the request (threads reused), a later task's error must
            # not look like it came from this request.
            scope.remove_context(SENTRY_REQUEST_CONTEXT)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            sentry_sdk.capture_exception(exception)
        return None


def _host(request):
    try:
        return request.get_host()
    except DisallowedHost:
        return ""


class LanguageMiddleware:
    """French unless the user picked another language (the switch in the top bar).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and most browsers
    say English even for the French teams Vigie is written for.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


class BadInputMiddleware:
    """Answers 400 for a NUL byte or a lone surrogate in the path, the query string or a form
    value, before any view sees it (PostgreSQL refuses NUL in text: a 500 otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._bad(request):
            return HttpResponseBadRequest(
                str(BAD_CHARACTERS_MESSAGE),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _bad(request):
        if has_bad_characters(request.path):
            return True
        values = [*request.GET, *(v for _k, vs in request.GET.lists() for v in vs)]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += [*request.POST, *(v for _k, vs in request.POST.lists() for v in vs)]
        return any(has_bad_characters(value) for value in values)


class ProbeHostMiddleware:
    """Probe Host names (loopback, PROBE_HOSTS) reach only the probe endpoints (/health, /metrics).

    Settings add the probe names to ALLOWED_HOSTS so a container probe needs no public host
    name; this middleware, first in the chain, refuses them everywhere else unless the
    deployment listed them itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        host, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
        if (
            host in settings.PROBE_HOSTS
            and request.path_info not in settings.PROBE_PATHS
            and not validate_host(host, settings.PUBLIC_ALLOWED_HOSTS)
        ):
            raise DisallowedHost(f"Invalid HTTP_HOST header: {host!r} serves only the probes.")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for a logged-in user are not kept by browsers or proxies (`no-store`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
