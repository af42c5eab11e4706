"""Upstream backends of the triage board: one module per kind, one line in REGISTRY."""

from django.utils.module_loading import import_string

REGISTRY = {
    "demo": "triage.sources.demo.DemoBackend",
    "sentry": "triage.sources.sentry.SentryBackend",
    "goodjob": "triage.sources.goodjob.GoodJobBackend",
    "djangoq": "triage.sources.djangoq.DjangoQBackend",
    "github": "triage.sources.github.GitHubRequestsBackend",
}


def backend_for(source):
    try:
        path = REGISTRY[source.kind]
    except KeyError:
        raise LookupError(f"no backend for sources of kind {source.kind!r}") from None
    return import_string(path)(source)
