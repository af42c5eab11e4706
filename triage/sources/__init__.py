"""Upstream backends of the triage board: one module per kind, one line in REGISTRY.

A kind is what its backend class declares (triage.sources.base.SourceBackend): its label (the
choices of Source.kind, read from here, so a new kind needs no migration), its `addsource`
sub-command, its admin fields and the board actions it can write back.
"""

from django.utils.module_loading import import_string

REGISTRY = {
    "demo": "triage.sources.demo.DemoBackend",
    "sentry": "triage.sources.sentry.SentryBackend",
    "bugsink": "triage.sources.bugsink.BugsinkBackend",
    "goodjob": "triage.sources.goodjob.GoodJobBackend",
    "djangoq": "triage.sources.djangoq.DjangoQBackend",
    "github": "triage.sources.github.GitHubRequestsBackend",
}


def backend_class(kind):
    try:
        path = REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no backend for sources of kind {kind!r}") from None
    return import_string(path)


def backend_for(source):
    return backend_class(source.kind)(source)


def kind_choices():
    """Source.kind's choices: every registered kind, named by its backend."""
    return [(kind, backend_class(kind).label) for kind in REGISTRY]
