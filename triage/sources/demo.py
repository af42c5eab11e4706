"""The demo source: items loaded by `manage.py demo`; every write succeeds locally, offline."""

from django.utils.translation import gettext_lazy as _

from triage.sources.base import SourceBackend, UpstreamState
from triage.sources.sentry import SENTRY_ACCOUNT


class DemoBackend(SourceBackend):
    label = _("demo (no network)")
    fields = ()
    monitored = False
    # The demo holds every kind of item: Sentry-like issues, jobs and small requests.
    qualifications = ("temporary", "bug", "expected", "resolved", "take", "done", "too_big")
    max_ignore_window = 10080  # as Sentry, whose issues it imitates
    roadmap_label = "roadmap"
    assign_account = SENTRY_ACCOUNT  # whom Sentry would assign
    can_comment = True
    demo = True
    # Its items imitate Sentry's and GitHub's, at example addresses; its writes go nowhere.
    open_label = _("Example upstream page (demo)")
    comment_label = _("Comment (demo: sent nowhere)")
    issue_label = _("Demo issue")
    link_label = _("Existing demo issue (number)")
    request_comment_label = _("Comment kept with Done or Too big (demo: sent nowhere, optional)")
    confirmed_label = _("done (demo)")
    upstream_labels = SourceBackend.upstream_labels | {"closed": _("closed (demo)")}

    @property
    def issue_tracker(self):
        """Bug opens its issue in the demo's local tracker, a page of Vigie, not on GitHub."""
        from triage import demo_tracker

        return demo_tracker

    def fetch(self, *, since=None):
        return iter(())

    def reconcile(self, external_ids):
        return {}

    def set_status(self, item, status, details=None):
        return UpstreamState(status=status, details=dict(details or {}), raw={"demo": True})

    def comment(self, item, text, *, retrying=False):
        return {"demo": True, "text": text}

    def assign(self, item, account):
        return UpstreamState(
            status=item.upstream_status, details={"assignee": account}, raw={"demo": True}
        )

    def mirrored_stats(self, item, now):
        """As Sentry's issue stats, from the demo's figures: the 24 hourly counts up to this
        hour, the daily ones (payload "daily_counts") up to today."""
        hour = int(now.timestamp()) // 3600 * 3600
        day = hour // 86400 * 86400
        hourly = [int(n) for n in item.recent_counts or []][-24:]
        daily = [int(n) for n in (item.payload or {}).get("daily_counts") or []][-30:]
        return {
            "24h": [[hour - (len(hourly) - 1 - i) * 3600, n] for i, n in enumerate(hourly)],
            "30d": [[day - (len(daily) - 1 - i) * 86400, n] for i, n in enumerate(daily)],
        }

    def bug_report(self, item):
        return {
            "release": item.payload.get("release", ""),
            "tags": item.payload.get("tags", {}),
            "frames": item.payload.get("frames", []),
        }

    # Small requests: what GitHub would answer, without GitHub.
    def _request(self, item, status, assignees=None):
        if assignees is None:
            assignees = [item.assignee] if item.assignee else []
        labels = ["roadmap"] if status == "roadmap" else ["vigie"]
        return UpstreamState(
            status=status, details={"assignees": assignees, "labels": labels}, raw={"demo": True}
        )

    def take(self, item, login, *, replacing=()):
        return self._request(item, "open", [login])

    def finish(self, item, comment, *, marker, retrying):
        return self._request(item, "closed")

    def hand_to_roadmap(self, item, comment, *, marker, retrying):
        return self._request(item, "roadmap")

    def revert(self, item, action, params):
        return self._request(item, "open", params.get("previous", []) if action == "take" else None)
