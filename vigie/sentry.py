"""Vigie's own errors go to Sentry, filtered by the seed 000 rule on not-found errors."""

import warnings
from urllib.parse import urlsplit

import sentry_sdk
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

# Set by vigie.middleware.SentryRequestMiddleware on every web request.
SENTRY_REQUEST_CONTEXT = "vigie_request"


def before_send(event, hint):
    """Drop a not-found error only when a visitor arrived from outside Vigie.

    A link from elsewhere (an old bookmark, a forwarded mail) is noise; the same error raised in a
    task (a record gone before a mail went out) or reached by a link inside Vigie is a real bug.
    """
    exc_info = hint.get("exc_info")
    if not exc_info or not isinstance(exc_info[1], (Http404, ObjectDoesNotExist)):
        return event
    request = (event.get("contexts") or {}).get(SENTRY_REQUEST_CONTEXT)
    if request is None:
        return event
    referer_host = urlsplit(request.get("referer", "")).netloc.lower()
    if referer_host and referer_host == request.get("host", "").lower():
        return event
    return None


def init_sentry(*, dsn, environment, release, traces_sample_rate, profiles_sample_rate, **extra):
    with warnings.catch_warnings():
        # sentry-sdk 2.7x deprecates send_default_pii for data_collection; until the new option
        # settles, the explicit "no personal data" switch is the one we trust and test.
        warnings.filterwarnings("ignore", "The send_default_pii option", DeprecationWarning)
        sentry_sdk.init(
            dsn=dsn,
            environment=environment,
            release=release,
            traces_sample_rate=traces_sample_rate,
            profiles_sample_rate=profiles_sample_rate,
            send_default_pii=False,
            before_send=before_send,
            integrations=[DjangoIntegration(), LoggingIntegration()],
            **extra,
        )
