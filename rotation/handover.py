"""The handover snapshot: what happened during a watch, filled by the other apps.

An app registers a section provider, a callable taking `(team, start, end)` and returning
JSON-able data (a list of rows, or a dict with a "count"). The snapshot is computed once, when
the handover is created, and stored: later changes upstream do not rewrite what the watch saw.

    from rotation import handover
    handover.register("qualified", "triage.handover.qualified_items")
"""

import structlog
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

logger = structlog.get_logger(__name__)

# key -> label, in display order. Sections without a provider stay empty.
SECTIONS = {
    "qualified": _("Items qualified, by action"),
    "bugs": _("Bugs opened"),
    "unqualified": _("Items left unqualified"),
    "discarded_jobs": _("Discarded jobs"),
    "alerts": _("Alerts"),
    "incidents": _("Incidents"),
}

PROVIDERS = {}


def register(key, provider, label=None):
    """Attach a provider (callable or dotted path) to a section; a new key adds a section."""
    if label is not None or key not in SECTIONS:
        SECTIONS[key] = label or key
    PROVIDERS[key] = provider


def count(data):
    if isinstance(data, dict):
        return data.get("count", len(data.get("rows", ())))
    return len(data or ())


def build_snapshot(team, start, end):
    """Every section's data for [start, end); a failing provider empties only its section."""
    sections = {}
    for key in SECTIONS:
        provider = PROVIDERS.get(key)
        data, error = [], ""
        if provider is not None:
            try:
                func = import_string(provider) if isinstance(provider, str) else provider
                data = func(team, start, end)
            except Exception as exc:
                logger.exception("handover_section_failed", section=key)
                error = f"{exc.__class__.__name__}: {exc}"[:300]
        sections[key] = {"data": data, "count": count(data), "error": error}
    return {"start": start.isoformat(), "end": end.isoformat(), "sections": sections}
