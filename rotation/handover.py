"""The handover snapshot: what happened during a watch, filled by the other apps.

An app registers a section provider, a callable taking `(team, start, end)` and returning
JSON-able data (a list of rows, or a dict with a "count"), with the section's label. Sections
are shown in the order they are registered (apps' ready() run in INSTALLED_APPS order). The
snapshot is computed once, when the handover is created, and stored: later changes upstream do
not rewrite what the watch saw.

    from rotation import handover
    handover.register("qualified", "triage.handover.qualified_items", _("Items qualified"))
"""

import structlog
from django.utils.module_loading import import_string

logger = structlog.get_logger(__name__)

# key -> label, in registration (display) order; key -> provider. Both filled by register().
SECTIONS = {}
PROVIDERS = {}


def register(key, provider, label):
    """Add a section: its provider (callable or dotted path) and its label."""
    SECTIONS[key] = label
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
