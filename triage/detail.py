"""An item's detail panel: read from its source when opened, cached, or what the sync mirrored.

A source whose backend reads details (`can_detail`) is asked at most once per DETAIL_FRESH per
item; its last answer is kept much longer (DETAIL_KEPT) so that the panel still shows it, with
its age, while the source is down (Sentry: the latest event; GitHub: a request's comments).
Other sources (job databases) show the payload the sync stored.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from triage.sources import backend_for
from triage.sources.base import SourceError, render_facts
from vigie import http
from vigie.logging import redact_mapping
from vigie.markdown import safe_markdown

DETAIL_FRESH = timedelta(minutes=3)
DETAIL_KEPT = timedelta(days=2)


@dataclass
class Detail:
    facts: dict = field(default_factory=dict)
    # When the facts were read from the source; None: from the local mirror.
    fetched_at: datetime | None = None
    # Why the source could not be read this time (the facts, if any, are older).
    error: str = ""

    @property
    def from_source(self):
        return self.fetched_at is not None


READ_BUDGET = 10  # seconds


def cache_key(item):
    return f"triage:detail:{item.pk}"


def load(item, now=None):
    """The item's Detail. Never raises for a source that fails: the error is part of it. The
    source is given READ_BUDGET to answer, retries included: a page opened while it hangs
    shows what was mirrored rather than waiting for it."""
    with http.budget(READ_BUDGET):
        loaded = _load(item, now or timezone.now())
    loaded.facts = _presented(item, loaded.facts)
    return loaded


def _load(item, now):
    try:
        backend = backend_for(item.source)
    except LookupError:
        return Detail(facts=mirrored(item))
    if not backend.can_detail:
        return Detail(facts=mirrored(item))
    cached = cache.get(cache_key(item))
    if cached and now - cached["fetched_at"] < DETAIL_FRESH:
        return Detail(facts=cached["facts"], fetched_at=cached["fetched_at"])
    try:
        facts = backend.detail(item)
    except SourceError as exc:
        error = render_facts(exc.facts())  # in the reader's language, as the board's banner
        if cached:
            return Detail(facts=cached["facts"], fetched_at=cached["fetched_at"], error=error)
        return Detail(facts=mirrored(item), error=error)
    cache.set(cache_key(item), {"facts": facts, "fetched_at": now}, DETAIL_KEPT.total_seconds())
    return Detail(facts=facts, fetched_at=now)


def _presented(item, facts):
    """A request's Markdown (its body, its comments) as sanitised HTML, with the comments'
    dates as times. Rendered at each opening: the cache keeps the source's words only."""
    if item.kind != item.Kind.REQUEST:
        return facts
    return {
        **facts,
        "body_html": _markdown(facts.get("body")),
        "comments": [
            {
                "author": str(comment.get("author") or ""),
                "created_at": moment(comment.get("created_at")),
                "body_html": _markdown(comment.get("body")),
            }
            for comment in facts.get("comments") or []
            if isinstance(comment, dict)
        ],
    }


def _markdown(text):
    return mark_safe(safe_markdown(str(text or "")))  # noqa: S308 (sanitised by nh3)


def mirrored(item):
    """What the sync stored of the item, for the panel: a job's error, backtrace, arguments
    (secret-looking values masked), executions and queue; a request's body and author; an
    issue's exception, frames, tags and breadcrumbs."""
    payload = item.payload or {}
    if item.kind == item.Kind.REQUEST:
        return {
            "body": payload.get("body") or "",
            "author": payload.get("author") or "",
            "labels": payload.get("labels") or [],
            # A source that keeps its comments in the mirror (the demo's); GitHub's are read
            # when the detail opens.
            "comments": payload.get("comments") or [],
        }
    if item.kind == item.Kind.JOB:
        # GoodJob stores a Ruby backtrace, django-q2 a Python traceback.
        backtrace = payload.get("backtrace") or payload.get("traceback") or []
        return {
            "error": payload.get("sample_error") or payload.get("message") or item.title,
            "backtrace": [str(line) for line in backtrace] if isinstance(backtrace, list) else [],
            "arguments": redact_mapping(payload.get("arguments")),
            "queue": payload.get("queue") or "",
            "executions": payload.get("executions"),
            "recent_executions": [
                {
                    "started_at": moment(run.get("started_at")),
                    "finished_at": moment(run.get("finished_at")),
                    "error": str(run.get("error") or ""),
                }
                for run in payload.get("recent_executions") or []
                if isinstance(run, dict)
            ],
            "job_class": payload.get("job_class") or payload.get("func") or item.origin,
        }
    tags = payload.get("tags") if isinstance(payload.get("tags"), dict) else {}
    exception = payload.get("exception") if isinstance(payload.get("exception"), dict) else {}
    return {
        "exception": exception,
        "frames": [
            {**frame, "context": [[frame.get("lineno"), frame["context_line"]]]}
            if frame.get("context_line")
            else frame
            for frame in payload.get("frames") or []
            if isinstance(frame, dict)
        ],
        "tags": tags,
        "breadcrumbs": [c for c in payload.get("breadcrumbs") or [] if isinstance(c, dict)][-10:],
        "last_release": payload.get("release") or "",
        "user_count": item.users,
    }


def moment(value):
    """An ISO 8601 time the source gave (a string in the payload), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None
