"""The demo source: items loaded by `manage.py demo`; every write succeeds locally, offline."""

import itertools
import math
import random
from datetime import UTC, timedelta

from django.utils.translation import gettext_lazy as _

from triage.sources.base import SourceBackend, UpstreamState
from triage.sources.jobs import job_tags
from triage.sources.sentry import SENTRY_ACCOUNT

HOUR = timedelta(hours=1)


class EventHistory:
    """When a demo item's `tally` events happened, for its charts and its trend: one at its
    first seen, one at its last seen, the others spread over the hours between with a pattern
    drawn from its external id (busy and quiet days, fewer at night in France). So no chart
    shows an event before it was first seen or after it was last seen, and they add up to its
    tally; the same item draws the same pattern at every load and every view."""

    def __init__(self, item):
        self.first, self.last, self.tally = item.first_seen, item.last_seen, max(item.tally, 0)
        self.weights = []
        if self.first and self.last and self.first < self.last:
            rng = random.Random(item.external_id)  # noqa: S311 (demo figures, not secrets)
            hours = math.ceil((self.last - self.first) / HOUR)
            days = [rng.choice((1, 1, 2, 3, 5, 8, 21)) for _day in range(hours // 24 + 1)]
            for index in range(hours):
                local_hour = (self.first + index * HOUR).astimezone(UTC).hour + 1
                daytime = 4 if 8 <= local_hour % 24 < 20 else 1
                self.weights.append(days[index // 24] * daytime)
        # Weights of the hours before each hour, and of them all (last).
        self.done = [0, *itertools.accumulate(self.weights)]

    def before(self, moment):
        """How many of its events happened before `moment`."""
        if not (self.first and self.last) or moment > self.last:
            return self.tally if self.last else 0
        if self.tally < 2 or moment <= self.first:
            return 0  # a single event is its last seen
        index, within = divmod(moment - self.first, HOUR)
        if index >= len(self.weights):  # at its last seen, the last event not yet counted
            return self.tally - 1
        start = self.first + index * HOUR
        share = self.weights[index] * (within / (min(start + HOUR, self.last) - start))
        return 1 + math.floor((self.tally - 2) * (self.done[index] + share) / self.done[-1])

    def counts(self, start, step, buckets):
        """(start, count) of each of `buckets` periods of `step` from `start`."""
        starts = [start + step * index for index in range(buckets)]
        return [(at, self.before(at + step) - self.before(at)) for at in starts]


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
    # Its items imitate Sentry's and GitHub's but have no page upstream (no permalink, so no
    # "open upstream" link); its writes go nowhere.
    comment_label = _("Comment (demo: sent nowhere)")
    issue_label = _("Demo issue")
    link_label = _("Existing demo issue (number)")
    request_comment_label = _("Comment kept with Done or Too big (demo: sent nowhere, optional)")
    confirmed_label = _("recorded (demo)")  # not "done": the Done button is an action
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

    def listed_tags(self, payload):
        """The demo's issues carry their event tags (transaction, url…) in their payload, as
        if the list gave them; its jobs, their class and queue as the job sources do."""
        tags = payload.get("tags")
        return {**(tags if isinstance(tags, dict) else {}), **job_tags(payload)}

    def set_status(self, item, status, details=None):
        return UpstreamState(status=status, details=dict(details or {}), raw={"demo": True})

    def comment(self, item, text, *, retrying=False):
        return {"demo": True, "text": text}

    def assign(self, item, account):
        return UpstreamState(
            status=item.upstream_status, details={"assignee": account}, raw={"demo": True}
        )

    def mirrored_stats(self, item, now):
        """As Sentry's issue stats: the 24 hours up to this hour and the 30 days up to today,
        counted in the item's EventHistory (so they follow its first/last seen and tally)."""
        history = EventHistory(item)
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        day = hour.replace(hour=0)
        return {
            period: [
                [int(start.timestamp()), count]
                for start, count in history.counts(last - step * (buckets - 1), step, buckets)
            ]
            for period, last, step, buckets in (
                ("24h", hour, HOUR, 24),
                ("30d", day, timedelta(days=1), 30),
            )
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
