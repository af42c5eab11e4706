"""The demo source: items loaded by `manage.py demo`; every write succeeds locally, offline."""

from triage.sources.base import SourceBackend, UpstreamState


class DemoBackend(SourceBackend):
    def fetch(self, *, since=None):
        return iter(())

    def reconcile(self, external_ids):
        return {}

    def set_status(self, item, status, details=None):
        return UpstreamState(status=status, details=dict(details or {}), raw={"demo": True})

    def comment(self, item, text):
        return {"demo": True, "text": text}

    def bug_report(self, item):
        return {
            "release": item.payload.get("release", ""),
            "tags": item.payload.get("tags", {}),
            "frames": item.payload.get("frames", []),
        }
